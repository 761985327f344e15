/**
 * UpdateRequest → RFC 2136 wire form: the zone section (§2.3), the five prerequisite
 * forms (§2.4) and the four update forms (§2.5) carry the class, type, TTL and rdata the
 * RFC prescribes; the size the executor batches by is exactly what is sent.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from '../errors.ts';
import { SecretKey } from './keyfile.ts';
import {
  CLASS_ANY,
  CLASS_IN,
  CLASS_NONE,
  decodeMessage,
  OPCODE_UPDATE,
  TYPE_ANY,
} from './message.ts';
import type { RRset } from './rrset.ts';
import { signRequest } from './tsig.ts';
import { encodeUpdate, updateMessageSize } from './update.ts';
import type { Prerequisite, UpdateOperation, UpdateRequest } from './update-request.ts';

const ZONE = 'example.test';
const www: RRset = {
  name: `www.${ZONE}`,
  type: 'A',
  ttl: 300,
  rdata: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }],
};

function sections(request: UpdateRequest) {
  const m = decodeMessage(encodeUpdate(request, 7));
  const shape = (rr: (typeof m.answers)[number]) => ({
    name: rr.name,
    type: rr.type,
    klass: rr.klass,
    ttl: rr.ttl,
    empty: rr.body.kind === 'empty',
  });
  return { m, prerequisites: m.answers.map(shape), updates: m.authorities.map(shape) };
}

describe('UPDATE encoding', () => {
  test('the header says UPDATE and the zone section holds the zone, type SOA, class IN', () => {
    const { m } = sections({ zone: 'Example.TEST.', prerequisites: [], updates: [] });
    assert.equal(m.header.opcode, OPCODE_UPDATE);
    assert.equal(m.header.id, 7);
    assert.equal(m.header.qr, false);
    assert.deepEqual(m.questions, [{ name: ZONE, type: 6, klass: CLASS_IN }]);
  });

  test('the five prerequisites use the classes, types and empty rdata of RFC 2136 §2.4', () => {
    const prerequisites: Prerequisite[] = [
      { kind: 'rrsetExists', name: www.name, type: 'A' },
      { kind: 'rrsetAbsent', name: www.name, type: 'MX' },
      { kind: 'nameInUse', name: www.name },
      { kind: 'nameNotInUse', name: `free.${ZONE}` },
      { kind: 'rrsetEquals', rrset: www },
    ];
    const { prerequisites: p, updates } = sections({ zone: ZONE, prerequisites, updates: [] });
    assert.deepEqual(updates, []);
    assert.deepEqual(p, [
      { name: www.name, type: 1, klass: CLASS_ANY, ttl: 0, empty: true },
      { name: www.name, type: 15, klass: CLASS_NONE, ttl: 0, empty: true },
      { name: www.name, type: TYPE_ANY, klass: CLASS_ANY, ttl: 0, empty: true },
      { name: `free.${ZONE}`, type: TYPE_ANY, klass: CLASS_NONE, ttl: 0, empty: true },
      // §2.4.2: the whole RRset, class IN, TTL 0.
      { name: www.name, type: 1, klass: CLASS_IN, ttl: 0, empty: false },
      { name: www.name, type: 1, klass: CLASS_IN, ttl: 0, empty: false },
    ]);
  });

  test('the four update forms use the classes, TTLs and rdata of RFC 2136 §2.5', () => {
    const updates: UpdateOperation[] = [
      { kind: 'add', rrset: www },
      { kind: 'deleteRRset', name: www.name, type: 'A' },
      { kind: 'deleteName', name: www.name },
      { kind: 'deleteRecords', rrset: { ...www, rdata: [{ address: '192.0.2.1' }] } },
    ];
    const { m, updates: u } = sections({ zone: ZONE, prerequisites: [], updates });
    assert.deepEqual(u, [
      { name: www.name, type: 1, klass: CLASS_IN, ttl: 300, empty: false },
      { name: www.name, type: 1, klass: CLASS_IN, ttl: 300, empty: false },
      { name: www.name, type: 1, klass: CLASS_ANY, ttl: 0, empty: true },
      { name: www.name, type: TYPE_ANY, klass: CLASS_ANY, ttl: 0, empty: true },
      { name: www.name, type: 1, klass: CLASS_NONE, ttl: 0, empty: false },
    ]);
    const last = m.authorities.at(-1)!;
    assert.deepEqual(last.body, { kind: 'rdata', type: 'A', value: { address: '192.0.2.1' } });
  });

  test('invalid values are refused before anything is encoded', () => {
    const bad = (rrset: RRset) => () =>
      encodeUpdate({ zone: ZONE, prerequisites: [], updates: [{ kind: 'add', rrset }] }, 1);
    assert.throws(bad({ ...www, ttl: -1 }), ValidationError);
    assert.throws(bad({ ...www, ttl: 2 ** 31 }), ValidationError);
    assert.throws(bad({ ...www, rdata: [] }), ValidationError);
    assert.throws(bad({ ...www, rdata: [{ address: '300.1.1.1' }] }), ValidationError);
    assert.throws(bad({ ...www, name: `${'a'.repeat(64)}.${ZONE}` }), ValidationError);
    assert.throws(
      bad({ name: www.name, type: 'TXT', ttl: 1, rdata: [{ strings: ['x'.repeat(256)] }] }),
      ValidationError,
    );
  });

  test('updateMessageSize is the exact length of the signed message', () => {
    const key = new SecretKey('size-key', 'hmac-sha512', randomBytes(64));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.boolean(), (n, signed) => {
        const request: UpdateRequest = {
          zone: ZONE,
          prerequisites: [{ kind: 'rrsetAbsent', name: `h0.${ZONE}`, type: 'A' }],
          updates: Array.from({ length: n }, (_, i) => ({
            kind: 'add' as const,
            rrset: {
              name: `h${i}.${ZONE}`,
              type: 'A' as const,
              ttl: 60,
              rdata: [{ address: '192.0.2.1' }],
            },
          })),
        };
        const bytes = encodeUpdate(request, 1);
        const sent = signed ? signRequest(bytes, key, 1).bytes : bytes;
        assert.equal(updateMessageSize(request, signed ? key : undefined), sent.length);
      }),
      { numRuns: 50 },
    );
  });
});
