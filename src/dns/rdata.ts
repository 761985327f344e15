/**
 * Wire codec for the rdata of every record type in rrset.ts (RFC 1035 §3.3, RFC 3596,
 * RFC 2782, RFC 8659). Encoding validates values (ValidationError); decoding is bounds
 * checked and throws only DecodeError.
 */
import { isIPv4 } from 'node:net';
import { DecodeError, ValidationError } from '../errors.ts';
import { assertNever, type RdataByType, type RecordType } from './rrset.ts';
import { Reader, Writer } from './wire.ts';

export const TYPE_CODES: Readonly<Record<RecordType, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  CAA: 257,
};

const TYPE_BY_CODE = new Map<number, RecordType>(
  Object.entries(TYPE_CODES).map(([name, code]) => [code, name as RecordType]),
);

export function typeCode(type: RecordType): number {
  return TYPE_CODES[type];
}

/** The record type of a code, or undefined for types outside our vocabulary. */
export function recordTypeOf(code: number): RecordType | undefined {
  return TYPE_BY_CODE.get(code);
}

function checkUint(value: number, bits: 8 | 16 | 32, field: string): number {
  const max = 2 ** bits - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new ValidationError(field, `${field} must be an integer from 0 to ${max}`);
  }
  return value;
}

function encodeIPv4(address: string): Buffer {
  if (!isIPv4(address)) throw new ValidationError('address', `"${address}" is not an IPv4 address`);
  return Buffer.from(address.split('.').map(Number));
}

/** Parses RFC 4291 §2.2 text (with `::` and a trailing dotted quad) into 16 bytes. */
export function encodeIPv6(address: string): Buffer {
  const fail = () => new ValidationError('address', `"${address}" is not an IPv6 address`);
  let text = address.toLowerCase();
  if (text.includes('.')) {
    // A trailing dotted quad (RFC 4291 §2.2 form 3) stands for the last two groups.
    const lastColon = text.lastIndexOf(':');
    const quad = text.slice(lastColon + 1);
    if (!isIPv4(quad)) throw fail();
    const b = quad.split('.').map(Number);
    const hi = ((b[0]! << 8) | b[1]!).toString(16);
    const lo = ((b[2]! << 8) | b[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) throw fail();
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').map((g) => {
          if (!/^[0-9a-f]{1,4}$/.test(g)) throw fail();
          return Number.parseInt(g, 16);
        });
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const groups = [...head, ...rest];
  const missing = 8 - groups.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) throw fail();
  const full = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0)];
  full.push(...rest);
  const out = Buffer.alloc(16);
  full.forEach((g, i) => {
    out.writeUInt16BE(g, i * 2);
  });
  return out;
}

/** RFC 5952 text: lower-case, no leading zeros, the longest run of 2+ zero groups as `::`. */
export function formatIPv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function characterString(w: Writer, value: string, field: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 255) {
    throw new ValidationError(field, `${field} character-string is over 255 bytes (use splitTxt)`);
  }
  w.u8(bytes.length);
  w.bytes(bytes);
}

/** Writes the rdata of one record (without RDLENGTH). Names may be compressed where RFC 3597 §4 allows. */
export function writeRdata<T extends RecordType>(w: Writer, type: T, rdata: RdataByType[T]): void {
  const r = rdata as RdataByType[RecordType];
  switch (type) {
    case 'A':
      w.bytes(encodeIPv4((r as RdataByType['A']).address));
      break;
    case 'AAAA':
      w.bytes(encodeIPv6((r as RdataByType['AAAA']).address));
      break;
    case 'CNAME':
    case 'PTR':
      w.name((r as RdataByType['CNAME']).target, true);
      break;
    case 'NS':
      w.name((r as RdataByType['NS']).host, true);
      break;
    case 'TXT': {
      const { strings } = r as RdataByType['TXT'];
      if (strings.length === 0)
        throw new ValidationError('strings', 'TXT needs at least one string');
      for (const s of strings) characterString(w, s, 'TXT');
      break;
    }
    case 'MX': {
      const mx = r as RdataByType['MX'];
      w.u16(checkUint(mx.preference, 16, 'preference'));
      w.name(mx.exchange, true);
      break;
    }
    case 'SRV': {
      const srv = r as RdataByType['SRV'];
      w.u16(checkUint(srv.priority, 16, 'priority'));
      w.u16(checkUint(srv.weight, 16, 'weight'));
      w.u16(checkUint(srv.port, 16, 'port'));
      // RFC 2782: the target is never compressed.
      w.name(srv.target, false);
      break;
    }
    case 'CAA':
      writeCaa(w, r as RdataByType['CAA']);
      break;
    case 'SOA': {
      const soa = r as RdataByType['SOA'];
      w.name(soa.mname, true);
      w.name(soa.rname, true);
      for (const f of ['serial', 'refresh', 'retry', 'expire', 'minimum'] as const) {
        w.u32(checkUint(soa[f], 32, f));
      }
      break;
    }
    default:
      assertNever(type as never);
  }
}

function writeCaa(w: Writer, caa: RdataByType['CAA']): void {
  w.u8(checkUint(caa.flags, 8, 'flags'));
  // RFC 8659 §4.1: the tag is 1-255 ASCII letters and digits.
  if (!/^[A-Za-z0-9]{1,255}$/.test(caa.tag)) {
    throw new ValidationError('tag', 'CAA tag must be 1-255 letters and digits');
  }
  w.u8(caa.tag.length);
  w.bytes(Buffer.from(caa.tag, 'ascii'));
  w.bytes(Buffer.from(caa.value, 'utf8'));
}

/** The rdata bytes alone (uncompressed), e.g. for sizes and tests. */
export function encodeRdata<T extends RecordType>(type: T, rdata: RdataByType[T]): Buffer {
  const w = new Writer(64);
  writeRdata(w, type, rdata);
  return Buffer.from(w.finish());
}

/**
 * Reads the rdata of one record of `type` from `r`, which must end exactly at `end`.
 * Names may point anywhere earlier in the message, so `r` is a reader over all of it.
 */
export function readRdata(r: Reader, type: RecordType, end: number): RdataByType[RecordType] {
  const value = readRdataBody(r, type, end);
  if (r.offset !== end) {
    throw new DecodeError(`${type} rdata length does not match its contents`);
  }
  return value;
}

function readRdataBody(r: Reader, type: RecordType, end: number): RdataByType[RecordType] {
  switch (type) {
    case 'A':
      return { address: [...r.bytes(4, 'A')].join('.') };
    case 'AAAA':
      return { address: formatIPv6(r.bytes(16, 'AAAA')) };
    case 'CNAME':
    case 'PTR':
      return { target: r.name(type) };
    case 'NS':
      return { host: r.name('NS') };
    case 'TXT': {
      const strings: string[] = [];
      while (r.offset < end) strings.push(r.bytes(r.u8('TXT'), 'TXT').toString('utf8'));
      if (strings.length === 0) throw new DecodeError('TXT rdata is empty');
      return { strings };
    }
    case 'MX':
      return { preference: r.u16('MX'), exchange: r.name('MX') };
    case 'SRV':
      return { priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name('SRV') };
    case 'CAA': {
      const flags = r.u8('CAA');
      const tag = r.bytes(r.u8('CAA'), 'CAA tag').toString('latin1');
      if (end < r.offset) throw new DecodeError('CAA tag runs past its rdata');
      return { flags, tag, value: r.bytes(end - r.offset, 'CAA').toString('utf8') };
    }
    case 'SOA':
      return {
        mname: r.name('SOA'),
        rname: r.name('SOA'),
        serial: r.u32(),
        refresh: r.u32(),
        retry: r.u32(),
        expire: r.u32(),
        minimum: r.u32(),
      };
    default:
      return assertNever(type as never);
  }
}

/**
 * The rdata as it comes back from a server: names normalized, IPv6 in RFC 5952 form,
 * TXT/CAA text as decoded. Comparing canonical forms avoids a diff between what a user
 * wrote (`2001:DB8:0::1`) and what AXFR returns (`2001:db8::1`).
 */
export function canonicalRdata<T extends RecordType>(
  type: T,
  rdata: RdataByType[T],
): RdataByType[T] {
  const bytes = encodeRdata(type, rdata);
  return readRdata(new Reader(bytes), type, bytes.length) as RdataByType[T];
}
