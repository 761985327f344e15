/**
 * RFC 2136 §2.4 prerequisites and §3 error rcodes against a real named: each form holds
 * or fails as the RFC says, a failed message changes nothing (§3.7), and each rcode
 * surfaces as the error type the caller acts on.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DnsClient } from '../../src/dns/client.ts';
import { type RRset, rdataTexts } from '../../src/dns/rrset.ts';
import type { Prerequisite, UpdateRequest } from '../../src/dns/update-request.ts';
import { PermanentError, PrerequisiteError, TransientError } from '../../src/errors.ts';
import { generateKey, minimalZone, type NamedServer, startNamed } from '../harness/named.ts';
import { freePort } from '../harness/ports.ts';

const ZONE = 'prereq.test';
const WWW = `www.${ZONE}`;
const www: RRset = {
  name: WWW,
  type: 'A',
  ttl: 300,
  rdata: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }],
};
const content = `${minimalZone(ZONE)}www 300 IN A 192.0.2.1\nwww 300 IN A 192.0.2.2\n`;
const outsider = generateKey('outsider-key');

describe('RFC 2136 prerequisites against a real named', () => {
  let named: NamedServer;
  const client = new DnsClient({ timeoutMs: 5000 });
  const server = () => ({ address: named.address, port: named.dnsPort });
  let marker = 0;

  /** Sends `prerequisite` with an add of a fresh marker record; says whether the marker landed. */
  async function attempt(
    prerequisite: Prerequisite,
  ): Promise<{ error: unknown; applied: boolean }> {
    const name = `marker${++marker}.${ZONE}`;
    const request: UpdateRequest = {
      zone: ZONE,
      prerequisites: [prerequisite],
      updates: [
        { kind: 'add', rrset: { name, type: 'TXT', ttl: 60, rdata: [{ strings: ['m'] }] } },
      ],
    };
    const error = await client.update(server(), named.tsigKey, request).catch((e: unknown) => e);
    const applied = (await client.query(server(), name, 'TXT')) !== undefined;
    return { error, applied };
  }

  async function expectHolds(p: Prerequisite): Promise<void> {
    const { error, applied } = await attempt(p);
    assert.equal(error, undefined);
    assert.equal(applied, true);
  }

  async function expectFails(p: Prerequisite, rcode: string): Promise<void> {
    const { error, applied } = await attempt(p);
    assert.ok(error instanceof PrerequisiteError, String(error));
    assert.equal(error.code, rcode);
    assert.equal(applied, false, 'a message whose prerequisite failed must change nothing');
  }

  before(async () => {
    named = await startNamed({
      keys: [outsider],
      zones: [{ name: ZONE, content }],
    });
  });
  after(async () => {
    await client.close();
    await named?.stop();
  });

  test('"RRset exists" holds for an existing RRset and fails with NXRRSET otherwise', async () => {
    await expectHolds({ kind: 'rrsetExists', name: WWW, type: 'A' });
    await expectFails({ kind: 'rrsetExists', name: WWW, type: 'AAAA' }, 'NXRRSET');
  });

  test('"RRset exists with these values" holds only for exactly the same records', async () => {
    await expectHolds({ kind: 'rrsetEquals', rrset: www });
    const fewer = { ...www, rdata: [{ address: '192.0.2.1' }] };
    await expectFails({ kind: 'rrsetEquals', rrset: fewer }, 'NXRRSET');
    const other = { ...www, rdata: [{ address: '192.0.2.1' }, { address: '192.0.2.3' }] };
    await expectFails({ kind: 'rrsetEquals', rrset: other }, 'NXRRSET');
  });

  test('"RRset does not exist" holds for an absent RRset and fails with YXRRSET otherwise', async () => {
    await expectHolds({ kind: 'rrsetAbsent', name: WWW, type: 'MX' });
    await expectFails({ kind: 'rrsetAbsent', name: WWW, type: 'A' }, 'YXRRSET');
  });

  test('"name is in use" holds for an owned name and fails with NXDOMAIN otherwise', async () => {
    await expectHolds({ kind: 'nameInUse', name: WWW });
    await expectFails({ kind: 'nameInUse', name: `nobody.${ZONE}` }, 'NXDOMAIN');
  });

  test('"name is not in use" holds for a free name and fails with YXDOMAIN otherwise', async () => {
    await expectHolds({ kind: 'nameNotInUse', name: `nobody.${ZONE}` });
    await expectFails({ kind: 'nameNotInUse', name: WWW }, 'YXDOMAIN');
  });

  test('a message whose second prerequisite fails applies none of its updates', async () => {
    const before = await client.axfr(server(), named.tsigKey, ZONE);
    const error = await client
      .update(server(), named.tsigKey, {
        zone: ZONE,
        prerequisites: [
          { kind: 'rrsetEquals', rrset: www },
          { kind: 'rrsetAbsent', name: WWW, type: 'A' },
        ],
        updates: [
          { kind: 'deleteRRset', name: WWW, type: 'A' },
          { kind: 'add', rrset: { ...www, rdata: [{ address: '198.51.100.1' }] } },
          { kind: 'deleteName', name: `ns1.${ZONE}` },
        ],
      })
      .catch((e: unknown) => e);
    assert.ok(error instanceof PrerequisiteError);
    assert.deepEqual(await client.axfr(server(), named.tsigKey, ZONE), before);
  });

  test('replace, delete-records, delete-RRset and delete-name each change exactly their records', async () => {
    const name = `ops.${ZONE}`;
    const three: RRset = {
      name,
      type: 'A',
      ttl: 60,
      rdata: [{ address: '192.0.2.10' }, { address: '192.0.2.11' }, { address: '192.0.2.12' }],
    };
    const txt: RRset = { name, type: 'TXT', ttl: 60, rdata: [{ strings: ['t'] }] };
    await client.update(server(), named.tsigKey, {
      zone: ZONE,
      prerequisites: [{ kind: 'nameNotInUse', name }],
      updates: [
        { kind: 'add', rrset: three },
        { kind: 'add', rrset: txt },
      ],
    });
    await client.update(server(), named.tsigKey, {
      zone: ZONE,
      prerequisites: [{ kind: 'rrsetEquals', rrset: three }],
      updates: [{ kind: 'deleteRecords', rrset: { ...three, rdata: [{ address: '192.0.2.11' }] } }],
    });
    const left = await client.query(server(), name, 'A');
    // named rotates the order of an RRset between answers (rrset-order): compare as sets.
    assert.deepEqual(left ? rdataTexts(left) : [], ['192.0.2.10', '192.0.2.12']);
    await client.update(server(), named.tsigKey, {
      zone: ZONE,
      prerequisites: [],
      updates: [{ kind: 'deleteRRset', name, type: 'A' }],
    });
    assert.equal(await client.query(server(), name, 'A'), undefined);
    assert.ok(await client.query(server(), name, 'TXT'));
    await client.update(server(), named.tsigKey, {
      zone: ZONE,
      prerequisites: [{ kind: 'nameInUse', name }],
      updates: [{ kind: 'deleteName', name }],
    });
    assert.equal(await client.query(server(), name, 'TXT'), undefined);
  });

  test('a name outside the zone is answered NOTZONE, a permanent error, and nothing changes', async () => {
    const error = await client
      .update(server(), named.tsigKey, {
        zone: ZONE,
        prerequisites: [],
        updates: [
          {
            kind: 'add',
            rrset: { name: `in.${ZONE}`, type: 'A', ttl: 60, rdata: [{ address: '192.0.2.5' }] },
          },
          {
            kind: 'add',
            rrset: { name: 'out.example', type: 'A', ttl: 60, rdata: [{ address: '192.0.2.5' }] },
          },
        ],
      })
      .catch((e: unknown) => e);
    assert.ok(error instanceof PermanentError, String(error));
    assert.equal(error.code, 'NOTZONE');
    assert.equal(await client.query(server(), `in.${ZONE}`, 'A'), undefined);
  });

  test('a key the update policy does not grant is answered REFUSED, a permanent error', async () => {
    const error = await client
      .update(server(), outsider, {
        zone: ZONE,
        prerequisites: [],
        updates: [{ kind: 'deleteRRset', name: WWW, type: 'A' }],
      })
      .catch((e: unknown) => e);
    assert.ok(error instanceof PermanentError, String(error));
    assert.equal(error.code, 'REFUSED');
    assert.ok(await client.query(server(), WWW, 'A'));
  });

  test('a zone the server does not serve is answered NOTAUTH, a permanent error', async () => {
    const error = await client
      .update(server(), named.tsigKey, { zone: 'elsewhere.test', prerequisites: [], updates: [] })
      .catch((e: unknown) => e);
    assert.ok(error instanceof PermanentError, String(error));
    assert.equal(error.code, 'NOTAUTH');
  });
});

describe('DNS client transport failures', () => {
  test('a port nobody listens on gives a transient ECONNREFUSED error', async () => {
    const client = new DnsClient({ timeoutMs: 2000 });
    const port = await freePort();
    const key = generateKey('k');
    const error = await client
      .update({ address: '127.0.0.1', port }, key, { zone: ZONE, prerequisites: [], updates: [] })
      .catch((e: unknown) => e);
    await client.close();
    assert.ok(error instanceof TransientError, String(error));
    assert.equal(error.code, 'ECONNREFUSED');
  });

  test('a server that accepts but never answers gives a transient TIMEOUT error', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const client = new DnsClient({ timeoutMs: 300 });
    const error = await client
      .update({ address: '127.0.0.1', port }, generateKey('k'), {
        zone: ZONE,
        prerequisites: [],
        updates: [],
      })
      .catch((e: unknown) => e);
    await client.close();
    silent.close();
    assert.ok(error instanceof TransientError, String(error));
    assert.equal(error.code, 'TIMEOUT');
  });
});
