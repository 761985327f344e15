/**
 * The DNS client against each authoritative server it is pointed at — BIND9, Knot DNS and
 * PowerDNS, real ones (test/harness/servers.ts): every record kind through one UPDATE and
 * back through a signed AXFR, RFC 2136 prerequisites, a 20,000-record signed transfer (one
 * corrupted or unsigned message fails it), and
 * replies that must not be believed (tampered, stripped of their TSIG), each surfacing as
 * the error the caller acts on. Per-server differences in how a refusal is spelled are
 * named where they are asserted.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DnsClient } from '../../src/dns/client.ts';
import { SecretKey } from '../../src/dns/keyfile.ts';
import { decodeMessage, tsigRecord } from '../../src/dns/message.ts';
import { compareRRsets, type RRset, sameRRset } from '../../src/dns/rrset.ts';
import { stripTsig, TsigResponseSigner } from '../../src/dns/tsig.ts';
import type { DnsEndpoint, Prerequisite, UpdateRequest } from '../../src/dns/update-request.ts';
import {
  KeyRefusedError,
  PermanentError,
  PrerequisiteError,
  TsigBadKeyError,
  TsigBadMacError,
  TsigBadSigError,
  TsigUnsignedReplyError,
} from '../../src/errors.ts';
import { minimalZone } from '../harness/named.ts';
import {
  type RecordServer,
  SERVER_KINDS,
  SERVER_NAMES,
  startRecordServer,
} from '../harness/servers.ts';
import { type ReplyTransform, startProxy } from './dns-proxy.ts';

const ZONE = 'layer.test';
const BIG = 'big.test';
const HOSTS = 10_000;
const WWW = `www.${ZONE}`;
const www: RRset = {
  name: WWW,
  type: 'A',
  ttl: 300,
  rdata: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }],
};
const longTxt = 'x'.repeat(300);

/** One RRset of every kind the controller writes, with awkward text where text goes. */
const EVERY_KIND: readonly RRset[] = [
  {
    name: `a.${ZONE}`,
    type: 'A',
    ttl: 60,
    rdata: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }],
  },
  { name: `a.${ZONE}`, type: 'AAAA', ttl: 60, rdata: [{ address: '2001:db8::1' }] },
  { name: `alias.${ZONE}`, type: 'CNAME', ttl: 60, rdata: [{ target: `a.${ZONE}` }] },
  {
    name: `long.${ZONE}`,
    type: 'TXT',
    ttl: 60,
    rdata: [
      { strings: [longTxt.slice(0, 255), longTxt.slice(255)] },
      { strings: ['say "hi" \\ é;'] },
    ],
  },
  { name: ZONE, type: 'MX', ttl: 60, rdata: [{ preference: 10, exchange: `a.${ZONE}` }] },
  { name: `sub.${ZONE}`, type: 'NS', ttl: 60, rdata: [{ host: 'ns.elsewhere.example' }] },
  {
    name: `_sip._tcp.${ZONE}`,
    type: 'SRV',
    ttl: 60,
    rdata: [{ priority: 1, weight: 5, port: 5060, target: `a.${ZONE}` }],
  },
  {
    name: ZONE,
    type: 'CAA',
    ttl: 60,
    rdata: [{ flags: 128, tag: 'issue', value: 'ca.example; account=1' }],
  },
  { name: `ptr.${ZONE}`, type: 'PTR', ttl: 60, rdata: [{ target: `a.${ZONE}` }] },
  { name: `*.wild.${ZONE}`, type: 'A', ttl: 60, rdata: [{ address: '192.0.2.9' }] },
];

function bigZone(): string {
  const lines = [minimalZone(BIG)];
  for (let i = 0; i < HOSTS; i++) {
    lines.push(`h${i} 300 IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    lines.push(`h${i} 300 IN TXT "record ${i} ${'p'.repeat(48)}"`);
  }
  return `${lines.join('\n')}\n`;
}

function requestMac(request: Buffer): Buffer {
  const rr = tsigRecord(decodeMessage(request));
  assert.ok(rr?.body.kind === 'tsig');
  return rr.body.tsig.mac;
}

for (const kind of SERVER_KINDS) {
  describe(`the DNS client against ${SERVER_NAMES[kind]}`, { timeout: 300_000 }, () => {
    let server: RecordServer;
    const client = new DnsClient({ timeoutMs: 10_000 });
    let marker = 0;

    before(async () => {
      server = await startRecordServer(kind, {
        zones: [
          {
            name: ZONE,
            content: `${minimalZone(ZONE)}www 300 IN A 192.0.2.1\nwww 300 IN A 192.0.2.2\n`,
          },
          { name: BIG, content: bigZone() },
        ],
      });
    });
    after(async () => {
      await client.close();
      await server?.stop();
    });

    /** `call` through a proxy that rewrites the server's replies; what it threw, and the replies. */
    async function viaProxy(
      transform: ReplyTransform,
      call: (proxied: DnsClient, endpoint: DnsEndpoint) => Promise<unknown>,
    ) {
      const proxy = await startProxy(server.endpoint, transform);
      const proxied = new DnsClient({ timeoutMs: 10_000 });
      try {
        await call(proxied, proxy.endpoint);
        return { error: undefined as unknown, replies: proxy.replies };
      } catch (error) {
        return { error, replies: proxy.replies };
      } finally {
        await proxied.close();
        await proxy.close();
      }
    }

    const throughProxy = (transform: ReplyTransform, request: UpdateRequest) =>
      viaProxy(transform, (c, endpoint) => c.update(endpoint, server.tsigKey, request));
    const transferThroughProxy = (transform: ReplyTransform) =>
      viaProxy(transform, (c, endpoint) => c.axfr(endpoint, server.tsigKey, BIG));

    function addMarker(prerequisites: Prerequisite[] = []): {
      request: UpdateRequest;
      name: string;
    } {
      const name = `marker${++marker}.${ZONE}`;
      return {
        name,
        request: {
          zone: ZONE,
          prerequisites,
          updates: [
            { kind: 'add', rrset: { name, type: 'TXT', ttl: 60, rdata: [{ strings: ['m'] }] } },
          ],
        },
      };
    }

    const served = async (name: string) =>
      (await client.query(server.endpoint, name, 'TXT')) !== undefined;

    test('every record kind written by one UPDATE is answered by a query and comes back unchanged through a signed AXFR', async () => {
      await client.update(server.endpoint, server.tsigKey, {
        zone: ZONE,
        prerequisites: [],
        updates: EVERY_KIND.map((rrset) => ({ kind: 'add' as const, rrset })),
      });
      const zone = await client.axfr(server.endpoint, server.tsigKey, ZONE);
      for (const rrset of EVERY_KIND) {
        const found = zone.find((r) => r.name === rrset.name && r.type === rrset.type);
        assert.ok(
          found && sameRRset(found, rrset),
          `${rrset.name} ${rrset.type}: ${JSON.stringify(found)}`,
        );
      }
      const answered = await client.query(server.endpoint, `long.${ZONE}`, 'TXT');
      assert.ok(answered && sameRRset(answered, EVERY_KIND[3]!), JSON.stringify(answered));
      const wild = await client.query(server.endpoint, `any.wild.${ZONE}`, 'A');
      assert.deepEqual(wild?.rdata, [{ address: '192.0.2.9' }]);
    });

    test('each RFC 2136 prerequisite holds or fails as the RFC says, and a failed message changes nothing', async () => {
      const cases: [Prerequisite, string | undefined][] = [
        [{ kind: 'rrsetExists', name: WWW, type: 'A' }, undefined],
        [{ kind: 'rrsetExists', name: WWW, type: 'AAAA' }, 'NXRRSET'],
        [{ kind: 'rrsetEquals', rrset: www }, undefined],
        [{ kind: 'rrsetEquals', rrset: { ...www, rdata: [{ address: '192.0.2.1' }] } }, 'NXRRSET'],
        [{ kind: 'rrsetAbsent', name: WWW, type: 'MX' }, undefined],
        [{ kind: 'rrsetAbsent', name: WWW, type: 'A' }, 'YXRRSET'],
        [{ kind: 'nameInUse', name: WWW }, undefined],
        [{ kind: 'nameInUse', name: `nobody.${ZONE}` }, 'NXDOMAIN'],
        [{ kind: 'nameNotInUse', name: `nobody.${ZONE}` }, undefined],
        [{ kind: 'nameNotInUse', name: WWW }, 'YXDOMAIN'],
      ];
      for (const [prerequisite, rcode] of cases) {
        const { request, name } = addMarker([prerequisite]);
        const error = await client
          .update(server.endpoint, server.tsigKey, request)
          .catch((e: unknown) => e);
        const label = `${prerequisite.kind} ${JSON.stringify(prerequisite).slice(0, 80)}`;
        if (rcode === undefined) {
          assert.equal(error, undefined, label);
          assert.ok(await served(name), label);
        } else {
          assert.ok(error instanceof PrerequisiteError, `${label}: ${error}`);
          assert.equal(error.code, rcode, label);
          assert.equal(await served(name), false, `${label}: a failed message changed the zone`);
        }
      }
    });

    test('a name outside the zone is answered NOTZONE and nothing of the message is applied', async () => {
      const { request, name } = addMarker();
      const error = await client
        .update(server.endpoint, server.tsigKey, {
          ...request,
          updates: [
            ...request.updates,
            {
              kind: 'add',
              rrset: { name: 'out.example', type: 'A', ttl: 60, rdata: [{ address: '192.0.2.5' }] },
            },
          ],
        })
        .catch((e: unknown) => e);
      assert.ok(error instanceof PermanentError, String(error));
      assert.equal(error.code, 'NOTZONE');
      assert.equal(await served(name), false);
    });

    test('a transfer of 20,000 records spans many messages, each one signed and verified, and returns every record sorted', async (t) => {
      const { error, replies } = await transferThroughProxy((reply) => reply);
      assert.equal(error, undefined);
      assert.ok(replies.length >= 10, `only ${replies.length} messages`);
      t.diagnostic(
        `${SERVER_NAMES[kind]}: AXFR of ${3 + 2 * HOSTS} records in ${replies.length} messages`,
      );
      // RFC 8945 §5.3.1 would let up to 99 in a row go unsigned; all three servers sign each.
      const signed = replies.filter((r) => tsigRecord(decodeMessage(r)) !== undefined).length;
      assert.equal(signed, replies.length);
      const rrsets = await client.axfr(server.endpoint, server.tsigKey, BIG);
      assert.equal(rrsets.length, 3 + 2 * HOSTS);
      assert.equal(
        rrsets.reduce((n, r) => n + r.rdata.length, 0),
        3 + 2 * HOSTS,
      );
      const h42 = rrsets.find((r) => r.name === `h42.${BIG}` && r.type === 'TXT');
      assert.deepEqual(h42?.rdata, [{ strings: [`record 42 ${'p'.repeat(48)}`] }]);
      assert.deepEqual(rrsets, [...rrsets].sort(compareRRsets));
      assert.equal(rrsets[0]!.name, BIG);
    });

    test('one flipped data bit in a middle message of a transfer fails it as a bad MAC', async () => {
      const { error, replies } = await transferThroughProxy((reply, { index }) => {
        if (index !== 2) return reply;
        const m = decodeMessage(reply);
        const tampered = Buffer.from(reply);
        // The last rdata byte of the tenth answer: an address or text byte, still well-formed.
        tampered[m.answers[10]!.offset - 1]! ^= 0x01;
        return tampered;
      });
      assert.ok(replies.length >= 3);
      assert.ok(error instanceof TsigBadMacError, String(error));
    });

    test('a middle message of a transfer stripped of its TSIG fails it at the next signed message', async () => {
      const { error } = await transferThroughProxy((reply, { index }) =>
        index === 3 ? stripTsig(reply, decodeMessage(reply)) : reply,
      );
      assert.ok(error instanceof TsigBadMacError, String(error));
    });

    test('a transfer whose last message comes unsigned is rejected', async () => {
      const { error } = await transferThroughProxy((reply, { index }) => {
        const m = decodeMessage(reply);
        // The closing SOA (RFC 5936 §2.2) ends the last message.
        if (index === 0 || m.answers.at(-1)?.type !== 6) return reply;
        return stripTsig(reply, m);
      });
      assert.ok(error instanceof TsigUnsignedReplyError, String(error));
    });

    test('a transfer asked for without a key is refused', async () => {
      const error = await client
        .axfr(server.endpoint, undefined as unknown as SecretKey, ZONE)
        .catch((e: unknown) => e);
      assert.ok(error instanceof PermanentError, String(error));
      assert.match(error.code, /^(REFUSED|NOTAUTH)$/);
    });

    test('an UPDATE reply with one bit flipped is rejected as a bad MAC', async () => {
      const { request } = addMarker();
      const { error } = await throughProxy((reply) => {
        const tampered = Buffer.from(reply);
        tampered[3]! ^= 0x20; // the AA flag: still a well-formed reply
        return tampered;
      }, request);
      assert.ok(error instanceof TsigBadMacError, String(error));
    });

    test('an UPDATE reply stripped of its TSIG is rejected as unsigned', async () => {
      const { request } = addMarker();
      const { error } = await throughProxy(
        (reply) => stripTsig(reply, decodeMessage(reply)),
        request,
      );
      assert.ok(error instanceof TsigUnsignedReplyError, String(error));
    });

    test('an UPDATE reply signed with another secret under our key name is rejected as a bad MAC', async () => {
      const { request } = addMarker();
      const impostor = new SecretKey(
        server.tsigKey.name,
        server.tsigKey.algorithm,
        randomBytes(32),
      );
      const { error } = await throughProxy((reply, { request: sent }) => {
        const unsigned = stripTsig(reply, decodeMessage(reply));
        return new TsigResponseSigner(impostor, requestMac(sent), Date.now).sign(unsigned);
      }, request);
      assert.ok(error instanceof TsigBadMacError, String(error));
    });

    test('a key the server does not know is refused as the key error the server can name, and changes nothing', async () => {
      const stranger = new SecretKey('stranger-key', 'hmac-sha256', randomBytes(32));
      const { request, name } = addMarker();
      const error = await client
        .update(server.endpoint, stranger, request)
        .catch((e: unknown) => e);
      // BIND9 and Knot DNS name the TSIG error; PowerDNS answers an unsigned REFUSED.
      const expected = kind === 'powerdns' ? KeyRefusedError : TsigBadKeyError;
      assert.ok(error instanceof expected, String(error));
      // Knot DNS answers an ACL denial with BADKEY too: the message must not rule that out.
      assert.match(error.message, kind === 'powerdns' ? /did not accept the key/ : /ACL denial/);
      assert.equal(await served(name), false);
      const query = await client.querySoa(server.endpoint, ZONE, stranger).catch((e: unknown) => e);
      assert.ok(
        query instanceof (kind === 'powerdns' ? KeyRefusedError : TsigBadKeyError),
        String(query),
      );
    });

    test('a restart that wipes the server serves its zone files again: what UPDATEs added is gone', async () => {
      const { request, name } = addMarker();
      await client.update(server.endpoint, server.tsigKey, request);
      assert.ok(await served(name));
      await server.restart({ wipe: true });
      await client.close();
      assert.equal(await served(name), false);
      assert.ok(await client.query(server.endpoint, WWW, 'A'), 'the file is served');
    });

    test('the right key name with a wrong secret is refused as the key error the server can name, and changes nothing', async () => {
      const forged = new SecretKey(server.tsigKey.name, server.tsigKey.algorithm, randomBytes(32));
      const { request, name } = addMarker();
      const error = await client.update(server.endpoint, forged, request).catch((e: unknown) => e);
      const expected = kind === 'powerdns' ? KeyRefusedError : TsigBadSigError;
      assert.ok(error instanceof expected, String(error));
      // A plain substring check: base64 has '+' and '/', which a RegExp would read as syntax.
      const secretPrefix = forged.secret.toString('base64').slice(0, 8);
      assert.ok(!String(error).includes(secretPrefix), 'the error shows none of the secret');
      assert.equal(await served(name), false);
    });
  });
}
