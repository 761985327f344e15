/**
 * TSIG-signed AXFR (RFC 5936, RFC 8945 §5.3.1) of a 20,000-record zone from a real named:
 * it spans many TCP messages, every one is verified, and one corrupted message in the
 * middle fails the whole transfer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DnsClient } from '../../src/dns/client.ts';
import { decodeMessage, tsigRecord } from '../../src/dns/message.ts';
import { compareRRsets } from '../../src/dns/rrset.ts';
import { stripTsig } from '../../src/dns/tsig.ts';
import { TsigBadMacError, TsigUnsignedReplyError } from '../../src/errors.ts';
import { minimalZone, type NamedServer, startNamed } from '../harness/named.ts';
import { type ReplyTransform, startProxy } from './dns-proxy.ts';

const ZONE = 'big.test';
const HOSTS = 10_000;

function bigZone(): string {
  const lines = [minimalZone(ZONE)];
  for (let i = 0; i < HOSTS; i++) {
    lines.push(`h${i} 300 IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    lines.push(`h${i} 300 IN TXT "record ${i} ${'p'.repeat(48)}"`);
  }
  return `${lines.join('\n')}\n`;
}

describe('AXFR of a 20,000-record zone from a real named', () => {
  let named: NamedServer;
  const client = new DnsClient({ timeoutMs: 10_000 });
  const server = () => ({ address: named.address, port: named.dnsPort });

  async function viaProxy(
    transform: ReplyTransform,
  ): Promise<{ error: unknown; replies: Buffer[] }> {
    const proxy = await startProxy(server(), transform);
    const proxied = new DnsClient({ timeoutMs: 10_000 });
    try {
      await proxied.axfr(proxy.endpoint, named.tsigKey, ZONE);
      return { error: undefined, replies: proxy.replies };
    } catch (error) {
      return { error, replies: proxy.replies };
    } finally {
      await proxied.close();
      await proxy.close();
    }
  }

  before(async () => {
    named = await startNamed({
      zones: [{ name: ZONE, content: bigZone() }],
      startTimeoutMs: 60_000,
    });
  });
  after(async () => {
    await client.close();
    await named?.stop();
  });

  test('the transfer returns every record, grouped into RRsets, sorted', async () => {
    const rrsets = await client.axfr(server(), named.tsigKey, ZONE);
    const records = rrsets.reduce((n, r) => n + r.rdata.length, 0);
    // SOA, NS, ns1 A, and two records per host.
    assert.equal(records, 3 + 2 * HOSTS);
    assert.equal(rrsets.length, 3 + 2 * HOSTS);
    const h42 = rrsets.find((r) => r.name === `h42.${ZONE}` && r.type === 'TXT');
    assert.deepEqual(h42?.rdata, [{ strings: [`record 42 ${'p'.repeat(48)}`] }]);
    const sorted = [...rrsets].sort(compareRRsets);
    assert.deepEqual(rrsets, sorted);
    assert.equal(rrsets[0]!.name, ZONE);
  });

  test('the transfer spans many messages and each one carries a TSIG that we verified', async (t) => {
    const { error, replies } = await viaProxy((reply) => reply);
    assert.equal(error, undefined);
    assert.ok(replies.length >= 10, `only ${replies.length} messages`);
    t.diagnostic(`AXFR of ${3 + 2 * HOSTS} records took ${replies.length} messages`);
    const signed = replies.filter((r) => tsigRecord(decodeMessage(r)) !== undefined).length;
    assert.equal(signed, replies.length);
  });

  test('one flipped data bit in a middle message fails the transfer as a bad MAC', async () => {
    let middle = -1;
    const { error, replies } = await viaProxy((reply, { index }) => {
      if (index !== 4) return reply;
      const m = decodeMessage(reply);
      // Not the closing message: the transfer goes on after this one.
      if (m.answers.at(-1)?.type !== 6) middle = index;
      const tampered = Buffer.from(reply);
      // The last rdata byte of the tenth answer: an address or text byte, still well-formed.
      tampered[m.answers[10]!.offset - 1]! ^= 0x01;
      return tampered;
    });
    assert.equal(middle, 4);
    assert.ok(replies.length >= 5);
    assert.ok(error instanceof TsigBadMacError, String(error));
  });

  test('a middle message whose TSIG was removed fails the transfer at the next signed message', async () => {
    const { error } = await viaProxy((reply, { index }) =>
      index === 3 ? stripTsig(reply, decodeMessage(reply)) : reply,
    );
    assert.ok(error instanceof TsigBadMacError, String(error));
  });

  test('a transfer whose last message is unsigned is rejected', async () => {
    let stripped = 0;
    const { error } = await viaProxy((reply, { index }) => {
      const m = decodeMessage(reply);
      // The closing SOA (RFC 5936 §2.2) ends the last message.
      if (index === 0 || m.answers.at(-1)?.type !== 6) return reply;
      stripped++;
      return stripTsig(reply, m);
    });
    assert.equal(stripped, 1);
    assert.ok(error instanceof TsigUnsignedReplyError, String(error));
  });
});
