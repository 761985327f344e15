/**
 * Transports: one pipelined TCP connection carries concurrent UPDATEs to a real named and
 * survives the server closing it; a truncated UDP answer is retried over TCP; bytes that
 * make no sense (from a tiny stub, since named never sends them) fail the request with a
 * DecodeError and never crash the process.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DnsClient } from '../../src/dns/client.ts';
import { decodeMessage, encodeMessage } from '../../src/dns/message.ts';
import type { DnsEndpoint } from '../../src/dns/update-request.ts';
import { DecodeError } from '../../src/errors.ts';
import { generateKey, minimalZone, type NamedServer, startNamed } from '../harness/named.ts';
import { startProxy } from './dns-proxy.ts';

const ZONE = 'transport.test';
const manyTxt = Array.from(
  { length: 60 },
  (_, i) => `big 60 IN TXT "value ${i} ${'z'.repeat(40)}"`,
);

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** A TCP stub that answers each framed request with `answer(request)` (already framed or not). */
async function stub(
  answer: (request: Buffer) => Buffer,
): Promise<{ endpoint: DnsEndpoint; server: Server }> {
  const server = createServer((socket: Socket) => {
    socket.on('data', (chunk) => {
      socket.write(answer(chunk.subarray(2)));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { endpoint: { address: '127.0.0.1', port }, server };
}

function framed(message: Buffer): Buffer {
  const out = Buffer.alloc(message.length + 2);
  out.writeUInt16BE(message.length);
  message.copy(out, 2);
  return out;
}

/** One empty UPDATE sent to a stub that answers with `answer`; resolves to what it threw. */
async function updateThroughStub(answer: (request: Buffer) => Buffer): Promise<unknown> {
  const { endpoint, server } = await stub(answer);
  const client = new DnsClient({ timeoutMs: 2000 });
  try {
    await client.update(endpoint, generateKey('k'), { zone: ZONE, prerequisites: [], updates: [] });
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.close();
    server.close();
  }
}

describe('DNS transports', () => {
  let named: NamedServer;
  const server = () => ({ address: named.address, port: named.dnsPort });

  before(async () => {
    named = await startNamed({
      zones: [{ name: ZONE, content: `${minimalZone(ZONE)}${manyTxt.join('\n')}\n` }],
    });
  });
  after(async () => {
    await named?.stop();
    assert.deepEqual(unhandled, []);
  });

  test('fifty concurrent UPDATEs share one TCP connection and all succeed', async () => {
    const proxy = await startProxy(server(), (r) => r);
    const client = new DnsClient({ timeoutMs: 10_000 });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        client.update(proxy.endpoint, named.tsigKey, {
          zone: ZONE,
          prerequisites: [{ kind: 'nameNotInUse', name: `p${i}.${ZONE}` }],
          updates: [
            {
              kind: 'add',
              rrset: {
                name: `p${i}.${ZONE}`,
                type: 'A',
                ttl: 60,
                rdata: [{ address: '192.0.2.3' }],
              },
            },
          ],
        }),
      ),
    );
    assert.equal(proxy.connections(), 1);
    const zone = await client.axfr(server(), named.tsigKey, ZONE);
    assert.equal(zone.filter((r) => /^p\d+\./.test(r.name)).length, 50);
    await client.close();
    await proxy.close();
  });

  test('a pooled connection the server closed is replaced transparently', async () => {
    const proxy = await startProxy(server(), (r) => r);
    const client = new DnsClient({ timeoutMs: 10_000 });
    const add = (name: string) =>
      client.update(proxy.endpoint, named.tsigKey, {
        zone: ZONE,
        prerequisites: [],
        updates: [
          { kind: 'add', rrset: { name, type: 'A', ttl: 60, rdata: [{ address: '192.0.2.4' }] } },
        ],
      });
    await add(`before-drop.${ZONE}`);
    proxy.dropConnections();
    await add(`after-drop.${ZONE}`);
    assert.equal(proxy.connections(), 2);
    assert.ok(await client.query(server(), `after-drop.${ZONE}`, 'A'));
    await client.close();
    await proxy.close();
  });

  test('an answer too large for UDP is fetched again over TCP in full', async () => {
    const client = new DnsClient({ timeoutMs: 10_000 });
    const rrset = await client.query(server(), `big.${ZONE}`, 'TXT', named.tsigKey);
    assert.equal(rrset?.rdata.length, manyTxt.length);
    await client.close();
  });

  test('a reply too short to hold a header fails the request with DecodeError', async () => {
    const error = await updateThroughStub(() => framed(Buffer.from([1, 2, 3])));
    assert.ok(error instanceof DecodeError, String(error));
  });

  test('a reply with our ID but garbage after the header fails with DecodeError', async () => {
    const error = await updateThroughStub((request) => {
      const garbage = Buffer.alloc(40, 0xff);
      request.copy(garbage, 0, 0, 2);
      return framed(garbage);
    });
    assert.ok(error instanceof DecodeError, String(error));
  });

  test('a well-formed reply to another question fails with DecodeError', async () => {
    const error = await updateThroughStub((request) => {
      const m = decodeMessage(request);
      const reply = encodeMessage({
        header: { ...m.header, qr: true },
        questions: [{ name: 'other.test', type: 6, klass: 1 }],
        answers: [],
        authorities: [],
        additionals: [],
      });
      return framed(Buffer.from(reply));
    });
    assert.ok(error instanceof DecodeError, String(error));
    assert.match(error.message, /question/);
  });
});
