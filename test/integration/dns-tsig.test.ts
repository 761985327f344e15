/**
 * TSIG failures against a real named, each surfacing as its own error: the server's
 * BADKEY, BADSIG and BADTIME, and replies we refuse to believe (tampered, signed by
 * another key, unsigned, signed at the wrong time), produced by a rewriting proxy.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DnsClient } from '../../src/dns/client.ts';
import { SecretKey } from '../../src/dns/keyfile.ts';
import { decodeMessage, tsigRecord } from '../../src/dns/message.ts';
import { stripTsig, TsigResponseSigner } from '../../src/dns/tsig.ts';
import type { UpdateRequest } from '../../src/dns/update-request.ts';
import {
  TsigBadKeyError,
  TsigBadMacError,
  TsigBadSigError,
  TsigBadTimeError,
  TsigUnsignedReplyError,
} from '../../src/errors.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import { type ReplyTransform, startProxy } from './dns-proxy.ts';

const run = promisify(execFile);
const ZONE = 'tsig.test';
let counter = 0;

function addOne(): { request: UpdateRequest; name: string } {
  const name = `r${++counter}.${ZONE}`;
  return {
    name,
    request: {
      zone: ZONE,
      prerequisites: [],
      updates: [
        { kind: 'add', rrset: { name, type: 'A', ttl: 60, rdata: [{ address: '192.0.2.7' }] } },
      ],
    },
  };
}

function requestMac(request: Buffer): Buffer {
  const rr = tsigRecord(decodeMessage(request));
  assert.ok(rr?.body.kind === 'tsig');
  return rr.body.tsig.mac;
}

/** Re-signs named's reply with `key` (and optionally another clock), as an impostor would. */
function resignWith(key: SecretKey, clock: () => number = Date.now): ReplyTransform {
  return (reply, { request }) => {
    const unsigned = stripTsig(reply, decodeMessage(reply));
    return new TsigResponseSigner(key, requestMac(request), clock).sign(unsigned);
  };
}

describe('TSIG failures against a real named', () => {
  let named: NamedServer;
  const client = new DnsClient({ timeoutMs: 5000 });
  const server = () => ({ address: named.address, port: named.dnsPort });

  async function digA(name: string): Promise<string> {
    const args = ['+short', '+norec', '-p', String(named.dnsPort), `@${named.address}`, name, 'A'];
    return (await run('dig', args)).stdout.trim();
  }

  async function throughProxy(
    transform: ReplyTransform,
  ): Promise<{ error: unknown; name: string }> {
    const proxy = await startProxy(server(), transform);
    const proxied = new DnsClient({ timeoutMs: 5000 });
    const { request, name } = addOne();
    try {
      await proxied.update(proxy.endpoint, named.tsigKey, request);
      return { error: undefined, name };
    } catch (error) {
      return { error, name };
    } finally {
      await proxied.close();
      await proxy.close();
    }
  }

  before(async () => {
    named = await startNamed({ zones: [{ name: ZONE }] });
  });
  after(async () => {
    await client.close();
    await named?.stop();
  });

  test('an unchanged reply passed through the proxy verifies', async () => {
    const { error, name } = await throughProxy((reply) => reply);
    assert.equal(error, undefined);
    assert.equal(await digA(name), '192.0.2.7');
  });

  test('a key name named does not know is refused as BADKEY and changes nothing', async () => {
    const stranger = new SecretKey('stranger-key', 'hmac-sha256', randomBytes(32));
    const { request, name } = addOne();
    const error = await client.update(server(), stranger, request).catch((e: unknown) => e);
    assert.ok(error instanceof TsigBadKeyError, String(error));
    assert.equal(error.code, 'BADKEY');
    assert.equal(error.origin, 'server');
    assert.equal(await digA(name), '');
  });

  test('the right key name with a wrong secret is refused as BADSIG and changes nothing', async () => {
    const forged = new SecretKey(named.tsigKey.name, named.tsigKey.algorithm, randomBytes(32));
    const { request, name } = addOne();
    const error = await client.update(server(), forged, request).catch((e: unknown) => e);
    assert.ok(error instanceof TsigBadSigError, String(error));
    assert.equal(error.code, 'BADSIG');
    assert.equal(await digA(name), '');
  });

  test('a clock an hour ahead is refused as BADTIME carrying the server clock', async () => {
    const skewed = new DnsClient({ timeoutMs: 5000, clock: () => Date.now() + 3_600_000 });
    const { request, name } = addOne();
    const error = await skewed.update(server(), named.tsigKey, request).catch((e: unknown) => e);
    await skewed.close();
    assert.ok(error instanceof TsigBadTimeError, String(error));
    assert.equal(error.code, 'BADTIME');
    assert.equal(error.origin, 'server');
    assert.ok(error.serverTime !== undefined);
    assert.ok(
      Math.abs(error.serverTime - Date.now() / 1000) < 60,
      `server time ${error.serverTime}`,
    );
    assert.equal(await digA(name), '');
  });

  test('a reply with one MAC bit flipped is rejected as a bad MAC', async () => {
    const { error } = await throughProxy((reply) => {
      const rr = tsigRecord(decodeMessage(reply));
      assert.ok(rr?.body.kind === 'tsig');
      const tampered = Buffer.from(reply);
      const macAt = reply.length - 6 - rr.body.tsig.other.length - rr.body.tsig.mac.length;
      tampered[macAt + 3]! ^= 0x01;
      return tampered;
    });
    assert.ok(error instanceof TsigBadMacError, String(error));
    assert.equal(error.code, 'BADMAC');
  });

  test('a reply with one bit flipped outside the MAC is rejected as a bad MAC', async () => {
    const { error } = await throughProxy((reply) => {
      const tampered = Buffer.from(reply);
      tampered[3]! ^= 0x20; // the AA flag: still a well-formed reply
      return tampered;
    });
    assert.ok(error instanceof TsigBadMacError, String(error));
  });

  test('a reply signed with another secret under our key name is rejected as a bad MAC', async () => {
    const impostor = new SecretKey(named.tsigKey.name, named.tsigKey.algorithm, randomBytes(32));
    const { error } = await throughProxy(resignWith(impostor));
    assert.ok(error instanceof TsigBadMacError, String(error));
  });

  test('a reply signed with a different key name is rejected as a bad MAC', async () => {
    const other = new SecretKey('other-key', named.tsigKey.algorithm, named.tsigKey.secret);
    const { error } = await throughProxy(resignWith(other));
    assert.ok(error instanceof TsigBadMacError, String(error));
    assert.match(error.message, /other-key/);
  });

  test('a reply stripped of its TSIG is rejected as unsigned', async () => {
    const { error } = await throughProxy((reply) => stripTsig(reply, decodeMessage(reply)));
    assert.ok(error instanceof TsigUnsignedReplyError, String(error));
    assert.equal(error.code, 'UNSIGNED');
  });

  test('a correctly keyed reply signed an hour away from our clock is rejected as BADTIME by us', async () => {
    const { error } = await throughProxy(resignWith(named.tsigKey, () => Date.now() - 3_600_000));
    assert.ok(error instanceof TsigBadTimeError, String(error));
    assert.equal(error.origin, 'client');
  });
});
