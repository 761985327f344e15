import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../../errors.ts';
import { HMAC_ALGORITHMS, SecretKey } from '../keyfile.ts';
import {
  type CcTable,
  type CcValue,
  decodeMessage,
  decodeTable,
  encodeMessage,
  encodeTable,
  textOf,
  textTable,
  verifyMessage,
} from './codec.ts';

const keyArb = fc.string({ minLength: 0, maxLength: 12 }).filter((k) => k !== '_auth');

const valueArb: fc.Arbitrary<CcValue> = fc.letrec<{ value: CcValue; table: CcTable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    tie('table'),
    fc.array(tie('value'), { maxLength: 4 }),
  ),
  table: fc
    .uniqueArray(fc.tuple(keyArb, tie('value')), { selector: ([k]) => k, maxLength: 4 })
    .map((entries) => new Map(entries)),
})).value;

const tableArb = fc
  .uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([k]) => k, maxLength: 5 })
  .map((entries): CcTable => new Map(entries));

function key(algorithm: (typeof HMAC_ALGORITHMS)[number]): SecretKey {
  return new SecretKey('rndc-key', algorithm, randomBytes(32));
}

function request(type: string): CcTable {
  return new Map([
    ['_ctrl', textTable({ _ser: '7', _tim: '1700000000', _exp: '1700000060' })],
    ['_data', textTable({ type })],
  ]);
}

describe('ISCCC codec', () => {
  it('decodes what it encodes, for any table of binaries, tables and lists', () => {
    fc.assert(
      fc.property(tableArb, (table) => {
        assert.deepEqual(decodeTable(encodeTable(table)), table);
      }),
    );
  });

  it('lays out a binary entry as key length, key, type 1, 32-bit length, data', () => {
    const bytes = encodeTable(new Map([['ab', Buffer.from('xyz')]]));
    assert.deepEqual([...bytes], [2, 0x61, 0x62, 1, 0, 0, 0, 3, 0x78, 0x79, 0x7a]);
  });

  it('raises only DecodeError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const decode of [decodeTable, decodeMessage]) {
          try {
            decode(Buffer.from(bytes));
          } catch (error) {
            assert.ok(error instanceof DecodeError, String(error));
          }
        }
      }),
    );
  });

  it('raises only DecodeError when an encoded message is truncated or has a byte changed', () => {
    const frame = encodeMessage(request('status'), key('hmac-sha256'));
    fc.assert(
      fc.property(
        fc.nat(frame.length - 1),
        fc.nat(frame.length - 1),
        fc.integer({ min: 1, max: 255 }),
        (cut, at, xor) => {
          const changed = Buffer.from(frame);
          changed[at] = (changed[at] ?? 0) ^ xor;
          for (const bytes of [frame.subarray(0, cut), changed]) {
            try {
              decodeMessage(bytes);
            } catch (error) {
              assert.ok(error instanceof DecodeError, String(error));
            }
          }
        },
      ),
    );
  });

  it('refuses nesting deeper than its bound instead of recursing without end', () => {
    let value: CcValue = Buffer.alloc(0);
    for (let i = 0; i < 40; i++) value = [value];
    const bytes = encodeTableUnchecked(value);
    assert.throws(() => decodeTable(bytes), DecodeError);
  });
});

/** A table `{ x: value }` built by hand, bypassing the encoder's depth check. */
function encodeTableUnchecked(value: CcValue): Buffer {
  const encode = (v: CcValue): Buffer => {
    if (Buffer.isBuffer(v)) return Buffer.concat([header(1, v.length), v]);
    const inner = Buffer.concat((v as CcValue[]).map(encode));
    return Buffer.concat([header(3, inner.length), inner]);
  };
  return Buffer.concat([Buffer.from([1, 0x78]), encode(value)]);
}

function header(type: number, length: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = type;
  b.writeUInt32BE(length, 1);
  return b;
}

describe('ISCCC message authentication', () => {
  for (const algorithm of HMAC_ALGORITHMS) {
    it(`signs and verifies with ${algorithm}`, () => {
      const k = key(algorithm);
      const decoded = decodeMessage(encodeMessage(request('status'), k));
      assert.equal(decoded.table.keys().next().value, '_auth');
      assert.equal(textOf(decoded.table.get('_data'), 'type'), 'status');
      assert.ok(verifyMessage(decoded, k));
    });
  }

  it('puts the algorithm number and NUL-padded base64 MAC in hsha (89 bytes)', () => {
    const frame = encodeMessage(request('null'), key('hmac-sha256'));
    const auth = decodeMessage(frame).table.get('_auth') as CcTable;
    const hsha = auth.get('hsha') as Buffer;
    assert.equal(hsha.length, 89);
    assert.equal(hsha[0], 163);
    assert.equal(hsha.subarray(1, 45).toString('latin1').length, 44);
    assert.ok(hsha.subarray(45).every((b) => b === 0));
  });

  it('uses a 22-byte hmd5 value for MD5 keys', () => {
    const frame = encodeMessage(request('null'), key('hmac-md5'));
    const auth = decodeMessage(frame).table.get('_auth') as CcTable;
    assert.equal((auth.get('hmd5') as Buffer).length, 22);
  });

  it('rejects a message when any signed byte changed', () => {
    const k = key('hmac-sha512');
    const frame = encodeMessage(request('addzone x.test { type primary; };'), k);
    const signedStart = frame.length - decodeMessage(frame).signed.length;
    fc.assert(
      fc.property(fc.integer({ min: signedStart, max: frame.length - 1 }), (at) => {
        const changed = Buffer.from(frame);
        changed[at] = (changed[at] ?? 0) ^ 0x01;
        let decoded: ReturnType<typeof decodeMessage>;
        try {
          decoded = decodeMessage(changed);
        } catch (error) {
          assert.ok(error instanceof DecodeError);
          return;
        }
        assert.equal(verifyMessage(decoded, k), false);
      }),
    );
  });

  it('rejects a message signed with another secret or another algorithm', () => {
    const frame = encodeMessage(request('status'), key('hmac-sha256'));
    assert.equal(verifyMessage(decodeMessage(frame), key('hmac-sha256')), false);
    assert.equal(verifyMessage(decodeMessage(frame), key('hmac-sha1')), false);
  });

  it('rejects an unsigned message', () => {
    const body = encodeTable(request('status'));
    const frame = Buffer.concat([Buffer.alloc(8), body]);
    frame.writeUInt32BE(frame.length - 4, 0);
    frame.writeUInt32BE(1, 4);
    assert.equal(verifyMessage(decodeMessage(frame), key('hmac-sha256')), false);
  });
});
