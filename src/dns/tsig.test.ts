/**
 * TSIG (RFC 8945) without a server: request/reply MACs agree for every algorithm,
 * multi-message chains (§5.3.1) verify with unsigned messages in between, and each way a
 * reply can be wrong raises its own error.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  TsigBadKeyError,
  TsigBadMacError,
  TsigBadSigError,
  TsigBadTimeError,
  TsigBadTruncError,
  TsigError,
  TsigUnsignedReplyError,
} from '../errors.ts';
import { HMAC_ALGORITHMS, SecretKey } from './keyfile.ts';
import {
  CLASS_ANY,
  CLASS_IN,
  decodeMessage,
  encodeMessage,
  type Message,
  type TsigRdata,
  TYPE_TSIG,
  tsigRecord,
  writeRecord,
} from './message.ts';
import {
  ALGORITHM_NAMES,
  signRequest,
  stripTsig,
  TsigResponseSigner,
  TsigVerifier,
  tsigRecordSize,
} from './tsig.ts';
import { Writer } from './wire.ts';

const NOW = 1_700_000_000_000;
const clock = () => NOW;
const key = new SecretKey('test-key', 'hmac-sha256', randomBytes(32));

function reply(id: number, n: number): Buffer {
  const m: Message = {
    header: { id, qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, rcode: 0 },
    questions: n === 0 ? [{ name: 'example.test', type: 252, klass: CLASS_IN }] : [],
    answers: [
      {
        name: `h${n}.example.test`,
        type: 1,
        klass: CLASS_IN,
        ttl: 60,
        body: { kind: 'rdata', type: 'A', value: { address: `192.0.2.${n % 256}` } },
      },
    ],
    authorities: [],
    additionals: [],
  };
  return Buffer.from(encodeMessage(m));
}

function request(k: SecretKey = key): { bytes: Buffer; mac: Buffer; id: number } {
  const id = 4242;
  const signed = signRequest(reply(id, 0), k, NOW / 1000);
  return { ...signed, id };
}

function verify(verifier: TsigVerifier, raw: Buffer): void {
  verifier.verify(raw, decodeMessage(raw));
}

/** A reply whose TSIG record is replaced by `tsig` (key name and ARCOUNT as usual). */
function withTsig(raw: Buffer, tsig: TsigRdata, owner = key.name): Buffer {
  const unsigned = stripTsig(raw, decodeMessage(raw));
  const w = new Writer();
  w.bytes(unsigned);
  writeRecord(w, {
    name: owner,
    type: TYPE_TSIG,
    klass: CLASS_ANY,
    ttl: 0,
    body: { kind: 'tsig', tsig },
  });
  const out = Buffer.from(w.finish());
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

function tsigOf(raw: Buffer): TsigRdata {
  const rr = tsigRecord(decodeMessage(raw));
  assert.ok(rr?.body.kind === 'tsig');
  return rr.body.tsig;
}

describe('TSIG', () => {
  for (const algorithm of HMAC_ALGORITHMS) {
    test(`a reply signed with ${algorithm} over the request MAC verifies`, () => {
      const k = new SecretKey('alg-key', algorithm, randomBytes(32));
      const req = request(k);
      const signed = new TsigResponseSigner(k, req.mac, clock).sign(reply(req.id, 0));
      verify(new TsigVerifier(k, req.mac, clock), signed);
      assert.equal(signed.length, reply(req.id, 0).length + tsigRecordSize(k));
      assert.equal(tsigOf(signed).algorithm, ALGORITHM_NAMES[algorithm]);
    });
  }

  test('a signed request carries its own ID as original ID and a MAC of the full hash size', () => {
    const req = request();
    const t = tsigOf(req.bytes);
    assert.equal(t.originalId, req.id);
    assert.equal(t.mac.length, 32);
    assert.equal(t.timeSigned, NOW / 1000);
    assert.equal(decodeMessage(req.bytes).additionals.length, 1);
  });

  test('a reply signed over another request MAC is rejected', () => {
    const req = request();
    const signed = new TsigResponseSigner(key, randomBytes(32), clock).sign(reply(req.id, 0));
    assert.throws(() => verify(new TsigVerifier(key, req.mac, clock), signed), TsigBadMacError);
  });

  test('a multi-message reply verifies with up to 99 unsigned messages between signed ones', () => {
    const req = request();
    const signer = new TsigResponseSigner(key, req.mac, clock);
    const verifier = new TsigVerifier(key, req.mac, clock);
    verify(verifier, signer.sign(reply(req.id, 0)));
    assert.equal(verifier.settled, true);
    for (let n = 1; n <= 99; n++) {
      verify(verifier, signer.skip(reply(req.id, n)));
      assert.equal(verifier.settled, false);
    }
    verify(verifier, signer.sign(reply(req.id, 100)));
    assert.equal(verifier.settled, true);
    verify(verifier, signer.sign(reply(req.id, 101)));
  });

  test('a hundredth unsigned message in a row is rejected', () => {
    const req = request();
    const signer = new TsigResponseSigner(key, req.mac, clock);
    const verifier = new TsigVerifier(key, req.mac, clock);
    verify(verifier, signer.sign(reply(req.id, 0)));
    for (let n = 1; n <= 99; n++) verify(verifier, signer.skip(reply(req.id, n)));
    assert.throws(() => verify(verifier, signer.skip(reply(req.id, 100))), TsigUnsignedReplyError);
  });

  test('an unsigned message that was altered fails the next signed message', () => {
    const req = request();
    const signer = new TsigResponseSigner(key, req.mac, clock);
    const verifier = new TsigVerifier(key, req.mac, clock);
    verify(verifier, signer.sign(reply(req.id, 0)));
    const middle = Buffer.from(signer.skip(reply(req.id, 1)));
    middle[middle.length - 1]! ^= 1;
    verify(verifier, middle);
    assert.throws(() => verify(verifier, signer.sign(reply(req.id, 2))), TsigBadMacError);
  });

  test('an unsigned first reply is rejected', () => {
    const req = request();
    assert.throws(
      () => verify(new TsigVerifier(key, req.mac, clock), reply(req.id, 0)),
      TsigUnsignedReplyError,
    );
  });

  test('a MAC truncated below max(10, half the hash) is BADTRUNC, a valid truncation verifies', () => {
    const req = request();
    const signed = new TsigResponseSigner(key, req.mac, clock).sign(reply(req.id, 0));
    const t = tsigOf(signed);
    const half = withTsig(signed, { ...t, mac: t.mac.subarray(0, 16) });
    // A truncated MAC is computed over the same data: only its length changed.
    verify(new TsigVerifier(key, req.mac, clock), half);
    const short = withTsig(signed, { ...t, mac: t.mac.subarray(0, 8) });
    assert.throws(() => verify(new TsigVerifier(key, req.mac, clock), short), TsigBadTruncError);
  });

  test('a reply signed outside our clock ± fudge is rejected as BADTIME with its time', () => {
    const req = request();
    const late = () => NOW + 301_000;
    const signed = new TsigResponseSigner(key, req.mac, late).sign(reply(req.id, 0));
    const error = (() => {
      try {
        verify(new TsigVerifier(key, req.mac, clock), signed);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(error instanceof TsigBadTimeError);
    assert.equal(error.origin, 'client');
    assert.equal(error.serverTime, (NOW + 301_000) / 1000);
    const edge = new TsigResponseSigner(key, req.mac, () => NOW + 300_000).sign(reply(req.id, 0));
    verify(new TsigVerifier(key, req.mac, clock), edge);
  });

  test('server TSIG errors each surface as their own class, BADTIME with the server clock', () => {
    const base: TsigRdata = {
      algorithm: 'hmac-sha256',
      timeSigned: NOW / 1000,
      fudge: 300,
      mac: Buffer.alloc(0),
      originalId: 1,
      error: 0,
      other: Buffer.alloc(0),
    };
    const serverTime = Buffer.alloc(6);
    serverTime.writeUIntBE(NOW / 1000 + 4000, 0, 6);
    const cases: [number, Buffer, new (...args: never[]) => TsigError, string][] = [
      [16, Buffer.alloc(0), TsigBadSigError, 'BADSIG'],
      [17, Buffer.alloc(0), TsigBadKeyError, 'BADKEY'],
      [18, serverTime, TsigBadTimeError, 'BADTIME'],
      [22, Buffer.alloc(0), TsigBadTruncError, 'BADTRUNC'],
      [21, Buffer.alloc(0), TsigError, 'BADALG'],
    ];
    for (const [code, other, type, name] of cases) {
      const raw = withTsig(signRequest(reply(1, 0), key, NOW / 1000).bytes, {
        ...base,
        error: code,
        other,
      });
      const error = (() => {
        try {
          verify(new TsigVerifier(key, randomBytes(32), clock), raw);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(error instanceof type, `${name}: ${String(error)}`);
      assert.ok(error instanceof TsigError);
      assert.equal(error.code, name);
      assert.equal(error.origin, 'server');
      if (error instanceof TsigBadTimeError) assert.equal(error.serverTime, NOW / 1000 + 4000);
    }
  });
});
