/**
 * UpdateRequest (update-request.ts) → RFC 2136 message: the zone section (§2.3), the
 * prerequisites in the answer section (§2.4) and the updates in the authority section
 * (§2.5).
 */
import { ValidationError } from '../errors.ts';
import type { SecretKey } from './keyfile.ts';
import {
  CLASS_ANY,
  CLASS_IN,
  CLASS_NONE,
  encodeMessage,
  OPCODE_UPDATE,
  TYPE_ANY,
  TYPE_SOA,
  type WireRecord,
} from './message.ts';
import { typeCode } from './rdata.ts';
import { assertNever, normalizeName, type RRset } from './rrset.ts';
import { tsigRecordSize } from './tsig.ts';
import type { Prerequisite, UpdateOperation, UpdateRequest } from './update-request.ts';

/** RFC 2181 §8: a TTL is an unsigned 31-bit number. */
const MAX_TTL = 0x7fffffff;

function empty(name: string, type: number, klass: number): WireRecord {
  return { name: normalizeName(name), type, klass, ttl: 0, body: { kind: 'empty' } };
}

/** One record per rdata of the RRset, with the given class and TTL. */
function records(rrset: RRset, klass: number, ttl: number): WireRecord[] {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) {
    throw new ValidationError('ttl', `TTL of ${rrset.name} ${rrset.type} must be 0..${MAX_TTL}`);
  }
  if (rrset.rdata.length === 0) {
    throw new ValidationError('rdata', `${rrset.name} ${rrset.type} has no records`);
  }
  const name = normalizeName(rrset.name);
  const type = typeCode(rrset.type);
  return rrset.rdata.map((value) => ({
    name,
    type,
    klass,
    ttl,
    body: { kind: 'rdata', type: rrset.type, value },
  }));
}

/** §2.4.1–§2.4.5. */
export function prerequisiteRecords(p: Prerequisite): WireRecord[] {
  switch (p.kind) {
    case 'rrsetExists':
      return [empty(p.name, typeCode(p.type), CLASS_ANY)];
    case 'rrsetEquals':
      return records(p.rrset, CLASS_IN, 0);
    case 'rrsetAbsent':
      return [empty(p.name, typeCode(p.type), CLASS_NONE)];
    case 'nameInUse':
      return [empty(p.name, TYPE_ANY, CLASS_ANY)];
    case 'nameNotInUse':
      return [empty(p.name, TYPE_ANY, CLASS_NONE)];
    default:
      return assertNever(p);
  }
}

/** §2.5.1–§2.5.4. */
export function updateRecords(u: UpdateOperation): WireRecord[] {
  switch (u.kind) {
    case 'add':
      return records(u.rrset, CLASS_IN, u.rrset.ttl);
    case 'deleteRRset':
      return [empty(u.name, typeCode(u.type), CLASS_ANY)];
    case 'deleteName':
      return [empty(u.name, TYPE_ANY, CLASS_ANY)];
    case 'deleteRecords':
      return records(u.rrset, CLASS_NONE, 0);
    default:
      return assertNever(u);
  }
}

/** The unsigned UPDATE message with the given ID. */
export function encodeUpdate(request: UpdateRequest, id: number): Buffer {
  return encodeMessage({
    header: {
      id,
      qr: false,
      opcode: OPCODE_UPDATE,
      aa: false,
      tc: false,
      rd: false,
      ra: false,
      rcode: 0,
    },
    // §2.3: exactly one zone, type SOA, class IN.
    questions: [{ name: normalizeName(request.zone), type: TYPE_SOA, klass: CLASS_IN }],
    answers: request.prerequisites.flatMap(prerequisiteRecords),
    authorities: request.updates.flatMap(updateRecords),
    additionals: [],
  });
}

/** Largest message DNS over TCP can carry (RFC 1035 §4.2.2: a 16-bit length). */
export const MAX_MESSAGE_SIZE = 65535;

/**
 * The size in bytes of the message `update` sends for this request (signed with `key`
 * when given), so the executor can split batches to stay under MAX_MESSAGE_SIZE.
 */
export function updateMessageSize(request: UpdateRequest, key?: SecretKey): number {
  return encodeUpdate(request, 0).length + (key === undefined ? 0 : tsigRecordSize(key));
}
