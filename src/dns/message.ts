/**
 * DNS messages (RFC 1035 §4.1) as data, our own codec: opcode UPDATE on encode (RFC 2136
 * §2.2), classes NONE/ANY with empty rdata (§2.4, §2.5) and the TSIG record (RFC 8945
 * §4.2) included, which general-purpose codecs get wrong (DESIGN.md, "Dependencies"). Decoding is bounds checked and throws only DecodeError; each
 * decoded record keeps its offset, so TSIG can be verified on the bytes received.
 */
import { DecodeError } from '../errors.ts';
import { readRdata, recordTypeOf, writeRdata } from './rdata.ts';
import type { Rdata, RecordType } from './rrset.ts';
import { Reader, Writer } from './wire.ts';

export const CLASS_IN = 1;
/** CHAOS: where named answers about itself (`id.server`, `version.bind`; RFC 4892). */
export const CLASS_CH = 3;
export const CLASS_NONE = 254;
export const CLASS_ANY = 255;

export const TYPE_SOA = 6;
export const TYPE_TSIG = 250;
export const TYPE_AXFR = 252;
export const TYPE_ANY = 255;

export const OPCODE_QUERY = 0;
export const OPCODE_UPDATE = 5;

/** RFC 1035 §4.1.1, RFC 2136 §2.2 and RFC 8945 §6 names for rcodes and TSIG errors. */
export const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
  19: 'BADMODE',
  20: 'BADNAME',
  21: 'BADALG',
  22: 'BADTRUNC',
  23: 'BADCOOKIE',
};

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

export interface Header {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly rcode: number;
}

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly klass: number;
}

export interface TsigRdata {
  readonly algorithm: string;
  /** Seconds since the epoch (48 bits). */
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

/** What follows RDLENGTH: nothing, typed rdata of our vocabulary, a TSIG, or opaque bytes. */
export type RecordBody =
  | { readonly kind: 'empty' }
  | { readonly kind: 'rdata'; readonly type: RecordType; readonly value: Rdata }
  | { readonly kind: 'tsig'; readonly tsig: TsigRdata }
  | { readonly kind: 'raw'; readonly bytes: Buffer };

export interface WireRecord {
  readonly name: string;
  readonly type: number;
  readonly klass: number;
  readonly ttl: number;
  readonly body: RecordBody;
}

export interface DecodedRecord extends WireRecord {
  /** Offset of the record's first byte in the message. */
  readonly offset: number;
}

export interface Message<R extends WireRecord = WireRecord> {
  readonly header: Header;
  readonly questions: readonly Question[];
  readonly answers: readonly R[];
  readonly authorities: readonly R[];
  readonly additionals: readonly R[];
}

export type DecodedMessage = Message<DecodedRecord>;

export const HEADER_SIZE = 12;

function flags(h: Header): number {
  return (
    (h.qr ? 0x8000 : 0) |
    ((h.opcode & 0xf) << 11) |
    (h.aa ? 0x0400 : 0) |
    (h.tc ? 0x0200 : 0) |
    (h.rd ? 0x0100 : 0) |
    (h.ra ? 0x0080 : 0) |
    (h.rcode & 0xf)
  );
}

export function writeTsigRdata(w: Writer, t: TsigRdata): void {
  // RFC 8945 §4.2: the algorithm name is never compressed.
  w.name(t.algorithm, false);
  w.u48(t.timeSigned);
  w.u16(t.fudge);
  w.u16(t.mac.length);
  w.bytes(t.mac);
  w.u16(t.originalId);
  w.u16(t.error);
  w.u16(t.other.length);
  w.bytes(t.other);
}

export function writeRecord(w: Writer, rr: WireRecord): void {
  w.name(rr.name, true);
  w.u16(rr.type);
  w.u16(rr.klass);
  w.u32(rr.ttl);
  const lengthAt = w.length;
  w.u16(0);
  const body = rr.body;
  switch (body.kind) {
    case 'empty':
      break;
    case 'rdata':
      writeRdata(w, body.type, body.value as never);
      break;
    case 'tsig':
      writeTsigRdata(w, body.tsig);
      break;
    case 'raw':
      w.bytes(body.bytes);
      break;
  }
  w.patch16(lengthAt, w.length - lengthAt - 2);
}

/** Encodes a message with name compression (RFC 1035 §4.1.4). */
export function encodeMessage(m: Message): Buffer {
  const w = new Writer(512);
  w.u16(m.header.id);
  w.u16(flags(m.header));
  w.u16(m.questions.length);
  w.u16(m.answers.length);
  w.u16(m.authorities.length);
  w.u16(m.additionals.length);
  for (const q of m.questions) {
    w.name(q.name, true);
    w.u16(q.type);
    w.u16(q.klass);
  }
  for (const section of [m.answers, m.authorities, m.additionals]) {
    for (const rr of section) writeRecord(w, rr);
  }
  return w.finish();
}

export function readHeader(r: Reader): { header: Header; counts: number[] } {
  const id = r.u16('header');
  const f = r.u16('header');
  const counts = [r.u16('header'), r.u16('header'), r.u16('header'), r.u16('header')];
  const header: Header = {
    id,
    qr: (f & 0x8000) !== 0,
    opcode: (f >> 11) & 0xf,
    aa: (f & 0x0400) !== 0,
    tc: (f & 0x0200) !== 0,
    rd: (f & 0x0100) !== 0,
    ra: (f & 0x0080) !== 0,
    rcode: f & 0xf,
  };
  return { header, counts };
}

function readTsigRdata(r: Reader): TsigRdata {
  const algorithm = r.name('TSIG algorithm');
  const timeSigned = r.u48('TSIG time');
  const fudge = r.u16('TSIG fudge');
  const mac = r.bytes(r.u16('TSIG MAC size'), 'TSIG MAC');
  const originalId = r.u16('TSIG original ID');
  const error = r.u16('TSIG error');
  const other = r.bytes(r.u16('TSIG other length'), 'TSIG other data');
  return { algorithm, timeSigned, fudge, mac, originalId, error, other };
}

function readBody(r: Reader, type: number, length: number): RecordBody {
  const end = r.offset + length;
  r.need(length, 'rdata');
  if (type === TYPE_TSIG) {
    const tsig = readTsigRdata(r);
    if (r.offset !== end) throw new DecodeError('TSIG rdata length does not match its contents');
    return { kind: 'tsig', tsig };
  }
  if (length === 0) return { kind: 'empty' };
  const known = recordTypeOf(type);
  if (known === undefined) return { kind: 'raw', bytes: r.bytes(length) };
  return { kind: 'rdata', type: known, value: readRdata(r, known, end) };
}

export function readRecord(r: Reader): DecodedRecord {
  const offset = r.offset;
  const name = r.name('owner');
  const type = r.u16('type');
  const klass = r.u16('class');
  const ttl = r.u32('ttl');
  const length = r.u16('rdlength');
  return { name, type, klass, ttl, body: readBody(r, type, length), offset };
}

/** Decodes one whole message; trailing bytes or a misplaced TSIG are errors. */
export function decodeMessage(buf: Buffer): DecodedMessage {
  const r = new Reader(buf);
  const { header, counts } = readHeader(r);
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]!; i++) {
    questions.push({ name: r.name('question'), type: r.u16('qtype'), klass: r.u16('qclass') });
  }
  const sections: DecodedRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) sections[s]!.push(readRecord(r));
  }
  if (r.remaining !== 0) throw new DecodeError(`${r.remaining} bytes after the last record`);
  const [answers, authorities, additionals] = sections as [
    DecodedRecord[],
    DecodedRecord[],
    DecodedRecord[],
  ];
  // RFC 8945 §5.1: a TSIG anywhere but last in the additional section is a FORMERR.
  const misplaced = [...answers, ...authorities, ...additionals.slice(0, -1)].some(
    (rr) => rr.type === TYPE_TSIG,
  );
  if (misplaced) throw new DecodeError('TSIG record is not the last record of the message');
  return { header, questions, answers, authorities, additionals };
}

/** The TSIG record of a decoded message, if it has one (always the last additional). */
export function tsigRecord(m: DecodedMessage): DecodedRecord | undefined {
  const last = m.additionals[m.additionals.length - 1];
  return last?.type === TYPE_TSIG ? last : undefined;
}
