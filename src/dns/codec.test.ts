/**
 * Property tests of the message codec (wire.ts, rdata.ts, message.ts): every record type
 * survives encode → decode, and random, mutated or truncated bytes make every parser
 * throw DecodeError and nothing else.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DecodeError, ValidationError } from '../errors.ts';
import {
  CLASS_IN,
  decodeMessage,
  encodeMessage,
  type Message,
  OPCODE_QUERY,
  type WireRecord,
} from './message.ts';
import { canonicalRdata, encodeIPv6, formatIPv6, readRdata, TYPE_CODES } from './rdata.ts';
import { type Rdata, RECORD_TYPES, type RecordType } from './rrset.ts';
import { Reader } from './wire.ts';

/** A label as text: bytes with RFC 1035 §5.1 escapes, lower-case as decoding returns it. */
const escapedLabel = fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) =>
  [...bytes]
    .map((b) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b))
    .map((b) =>
      b === 0x2e || b === 0x5c
        ? `\\${String.fromCharCode(b)}`
        : b > 0x20 && b < 0x7f
          ? String.fromCharCode(b)
          : `\\${b.toString().padStart(3, '0')}`,
    )
    .join(''),
);
const hostLabel = fc.stringMatching(/^[a-z0-9_][a-z0-9-]{0,15}$/);
const label = fc.oneof({ weight: 4, arbitrary: hostLabel }, { weight: 1, arbitrary: escapedLabel });
const name = fc.array(label, { minLength: 0, maxLength: 4 }).map((ls) => ls.join('.'));
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const charString = fc
  .string({ unit: 'grapheme', maxLength: 60 })
  .filter((s) => Buffer.byteLength(s) <= 255);

/** Ordinary objects, as the decoder builds them (fast-check defaults to null prototypes). */
const plain = { noNullPrototype: true } as const;

const rdataOf: { [T in RecordType]: fc.Arbitrary<Rdata<T>> } = {
  A: fc.ipV4().map((address) => ({ address })),
  AAAA: fc
    .uint8Array({ minLength: 16, maxLength: 16 })
    .map((b) => ({ address: formatIPv6(Buffer.from(b)) })),
  CNAME: name.map((target) => ({ target })),
  PTR: name.map((target) => ({ target })),
  NS: name.map((host) => ({ host })),
  TXT: fc.array(charString, { minLength: 1, maxLength: 4 }).map((strings) => ({ strings })),
  MX: fc.record({ preference: u16, exchange: name }, plain),
  SRV: fc.record({ priority: u16, weight: u16, port: u16, target: name }, plain),
  CAA: fc.record(
    {
      flags: fc.integer({ min: 0, max: 255 }),
      tag: fc.stringMatching(/^[A-Za-z0-9]{1,15}$/),
      value: fc.string({ unit: 'grapheme', maxLength: 60 }),
    },
    plain,
  ),
  SOA: fc.record(
    {
      mname: name,
      rname: name,
      serial: u32,
      refresh: u32,
      retry: u32,
      expire: u32,
      minimum: u32,
    },
    plain,
  ),
};

const record: fc.Arbitrary<WireRecord> = fc.constantFrom(...RECORD_TYPES).chain((type) =>
  fc
    .record({
      name,
      ttl: fc.integer({ min: 0, max: 0x7fffffff }),
      value: rdataOf[type] as fc.Arbitrary<Rdata>,
    })
    .map(
      ({ name: owner, ttl, value }): WireRecord => ({
        name: owner,
        type: TYPE_CODES[type],
        klass: CLASS_IN,
        ttl,
        body: { kind: 'rdata', type, value },
      }),
    ),
);

const message: fc.Arbitrary<Message> = fc
  .record({
    id: u16,
    qname: name,
    answers: fc.array(record, { maxLength: 6 }),
    authorities: fc.array(record, { maxLength: 3 }),
    additionals: fc.array(record, { maxLength: 3 }),
  })
  .map(({ id, qname, answers, authorities, additionals }) => ({
    header: {
      id,
      qr: true,
      opcode: OPCODE_QUERY,
      aa: true,
      tc: false,
      rd: false,
      ra: false,
      rcode: 0,
    },
    questions: [{ name: qname, type: 1, klass: CLASS_IN }],
    answers,
    authorities,
    additionals,
  }));

function withoutOffsets(m: Message): Message {
  const strip = (rs: readonly WireRecord[]) =>
    rs.map(({ name: n, type, klass, ttl, body }) => ({ name: n, type, klass, ttl, body }));
  return {
    ...m,
    answers: strip(m.answers),
    authorities: strip(m.authorities),
    additionals: strip(m.additionals),
  };
}

function question(qname: string): Message {
  return {
    header: { id: 1, qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, rcode: 0 },
    questions: [{ name: qname, type: 1, klass: CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
  }
}

describe('message codec', () => {
  for (const type of RECORD_TYPES) {
    test(`${type} records survive encode and decode unchanged, compressed names included`, () => {
      fc.assert(
        fc.property(
          fc.array(rdataOf[type] as fc.Arbitrary<Rdata>, { minLength: 1, maxLength: 4 }),
          name,
          (values, owner) => {
            const answers = values.map(
              (value): WireRecord => ({
                name: owner,
                type: TYPE_CODES[type],
                klass: CLASS_IN,
                ttl: 60,
                body: { kind: 'rdata', type, value },
              }),
            );
            const m: Message = {
              header: {
                id: 1,
                qr: true,
                opcode: 0,
                aa: false,
                tc: false,
                rd: false,
                ra: false,
                rcode: 0,
              },
              questions: [{ name: owner, type: TYPE_CODES[type], klass: CLASS_IN }],
              answers,
              authorities: [],
              additionals: [],
            };
            assert.deepEqual(withoutOffsets(decodeMessage(encodeMessage(m))), m);
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  test('whole messages with every section filled survive encode and decode', () => {
    fc.assert(
      fc.property(message, (m) => {
        assert.deepEqual(withoutOffsets(decodeMessage(encodeMessage(m))), m);
      }),
    );
  });

  test('IPv6 text in any RFC 4291 form encodes to the bytes its RFC 5952 form encodes to', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const bytes = encodeIPv6(text);
        assert.deepEqual(encodeIPv6(formatIPv6(bytes)), bytes);
      }),
    );
  });

  test('canonical rdata is what decoding returns, and canonicalizing twice changes nothing', () => {
    assert.deepEqual(canonicalRdata('AAAA', { address: '2001:DB8:0:0::1' }), {
      address: '2001:db8::1',
    });
    assert.deepEqual(canonicalRdata('AAAA', { address: '::ffff:192.0.2.1' }), {
      address: '::ffff:c000:201',
    });
    assert.deepEqual(canonicalRdata('MX', { preference: 1, exchange: 'Mail.Example.' }), {
      preference: 1,
      exchange: 'mail.example',
    });
    fc.assert(
      fc.property(fc.constantFrom(...RECORD_TYPES), fc.nat(), (type, seed) => {
        const [value] = fc.sample(rdataOf[type] as fc.Arbitrary<Rdata>, { seed, numRuns: 1 });
        const once = canonicalRdata(type, value as never);
        assert.deepEqual(canonicalRdata(type, once as never), once);
      }),
    );
  });

  test('random bytes given to the message decoder raise only DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        onlyDecodeErrors(() => decodeMessage(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  test('valid messages with random bytes overwritten raise only DecodeError', () => {
    fc.assert(
      fc.property(
        message,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (m, edits) => {
          const bytes = Buffer.from(encodeMessage(m));
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          onlyDecodeErrors(() => decodeMessage(bytes));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('every proper prefix of a valid message is rejected with DecodeError', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const bytes = encodeMessage(m);
        const prefix = bytes.subarray(0, cut % bytes.length);
        assert.throws(() => decodeMessage(prefix), DecodeError);
      }),
    );
  });

  test('random bytes given to each rdata parser and the name parser raise only DecodeError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RECORD_TYPES),
        fc.uint8Array({ maxLength: 64 }),
        (type, bytes) => {
          const buf = Buffer.from(bytes);
          onlyDecodeErrors(() => readRdata(new Reader(buf), type, buf.length));
          onlyDecodeErrors(() => new Reader(buf).name());
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('names with spaces, non-ASCII letters, empty or over-long labels are refused', () => {
    for (const bad of ['a b.test', 'café.test', 'a..test', `${'x'.repeat(64)}.test`, 'x\\']) {
      assert.throws(() => encodeMessage({ ...question(bad) }), ValidationError, bad);
    }
    assert.doesNotThrow(() => encodeMessage(question('xn--caf-dma.test')));
    assert.doesNotThrow(() => encodeMessage(question('a\\032b.test')));
  });

  test('a compression pointer that loops or points forward is rejected', () => {
    const loop = Buffer.from([0xc0, 0x00]);
    assert.throws(() => new Reader(loop).name(), DecodeError);
    const forward = Buffer.from([0x01, 0x61, 0xc0, 0x04, 0x00]);
    assert.throws(() => new Reader(forward).name(), DecodeError);
    const backward = Buffer.from([0x01, 0x61, 0x00, 0x01, 0x62, 0xc0, 0x00]);
    const r = new Reader(backward, 3);
    assert.equal(r.name(), 'b.a');
    assert.equal(r.offset, 7);
  });
});
