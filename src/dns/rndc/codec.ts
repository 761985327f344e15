/**
 * The ISCCC wire format of BIND's rndc control channel (BIND `lib/isccc/cc.c`;
 * PROTOCOLS.md "rndc control channel"), as a small symmetric codec with no I/O.
 *
 * A frame is: 32-bit length (not counting itself), 32-bit version 1, then the entries of
 * the top-level table. A value is 1 type byte (1 binary, 2 table, 3 list), a 32-bit length
 * and its data; a table entry is a 1-byte key length, the key, then a value.
 *
 * Authentication: the first top-level entry is `_auth`, holding an HMAC over every byte
 * after that entry. With MD5 it is `{ hmd5: 22 bytes }` (base64 without its padding); with
 * the SHA family `{ hsha: 89 bytes }`, one algorithm byte and the padded base64, NUL-filled
 * to 88 bytes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DecodeError, ValidationError } from '../../errors.ts';
import type { HmacAlgorithm, SecretKey } from '../keyfile.ts';

/** A binary value (ISCCC strings and numbers are binary values holding ASCII text). */
export type CcValue = Buffer | CcTable | CcList;
/** A table keeps its keys in wire order. */
export type CcTable = Map<string, CcValue>;
export type CcList = CcValue[];

const TYPE_BINARY = 1;
const TYPE_TABLE = 2;
const TYPE_LIST = 3;

/** BIND rejects deeper nesting in practice; we bound recursion so bad input cannot blow the stack. */
export const MAX_DEPTH = 16;
/** Replies larger than this are refused (rndc itself accepts up to 1 MiB on its side). */
export const MAX_FRAME = 4 * 1024 * 1024;

/** Algorithm numbers of the `_auth` value (BIND `isccc/cc.h`). */
const ALGORITHM_CODES: Readonly<Record<HmacAlgorithm, number>> = {
  'hmac-md5': 157,
  'hmac-sha1': 161,
  'hmac-sha224': 162,
  'hmac-sha256': 163,
  'hmac-sha384': 164,
  'hmac-sha512': 165,
};

const HMD5_LENGTH = 22;
const HSHA_LENGTH = 88;

// ---------------------------------------------------------------- encoding

export function isTable(value: CcValue): value is CcTable {
  return value instanceof Map;
}

function encodeValue(value: CcValue, out: Buffer[], depth: number): number {
  if (depth > MAX_DEPTH) throw new ValidationError('message', 'ISCCC value nested too deeply');
  if (Buffer.isBuffer(value)) {
    out.push(header(TYPE_BINARY, value.length), value);
    return 5 + value.length;
  }
  const parts: Buffer[] = [];
  const length = isTable(value)
    ? encodeEntries(value, parts, depth + 1)
    : value.reduce((n, item) => n + encodeValue(item, parts, depth + 1), 0);
  out.push(header(isTable(value) ? TYPE_TABLE : TYPE_LIST, length), ...parts);
  return 5 + length;
}

function header(type: number, length: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt8(type, 0);
  b.writeUInt32BE(length, 1);
  return b;
}

function encodeEntries(table: CcTable, out: Buffer[], depth: number): number {
  let length = 0;
  for (const [key, value] of table) {
    const k = Buffer.from(key, 'latin1');
    if (k.length > 255 || k.toString('latin1') !== key) {
      throw new ValidationError(
        'message',
        'ISCCC table keys are at most 255 single-byte characters',
      );
    }
    out.push(Buffer.from([k.length]), k);
    length += 1 + k.length + encodeValue(value, out, depth);
  }
  return length;
}

/** The entries of a table, without a type/length header (the form of the top level). */
export function encodeTable(table: CcTable): Buffer {
  const parts: Buffer[] = [];
  encodeEntries(table, parts, 0);
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- decoding

class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  constructor(buf: Buffer, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }
  need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new DecodeError(`ISCCC message truncated in ${what} at byte ${this.pos}`);
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  take(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

function decodeValue(r: Reader, depth: number): CcValue {
  if (depth > MAX_DEPTH) throw new DecodeError('ISCCC value nested too deeply');
  const type = r.u8('value type');
  const length = r.u32('value length');
  const body = r.take(length, 'value data');
  switch (type) {
    case TYPE_BINARY:
      return Buffer.from(body);
    case TYPE_TABLE:
      return decodeEntries(new Reader(body, 0, body.length), depth + 1).table;
    case TYPE_LIST: {
      const inner = new Reader(body, 0, body.length);
      const list: CcList = [];
      while (inner.pos < inner.end) list.push(decodeValue(inner, depth + 1));
      return list;
    }
    default:
      throw new DecodeError(`unknown ISCCC value type ${type}`);
  }
}

function decodeEntries(r: Reader, depth: number): { table: CcTable; afterFirst: number } {
  const table: CcTable = new Map();
  let afterFirst = -1;
  while (r.pos < r.end) {
    const keyLength = r.u8('key length');
    const key = r.take(keyLength, 'key').toString('latin1');
    table.set(key, decodeValue(r, depth));
    if (afterFirst < 0) afterFirst = r.pos;
  }
  return { table, afterFirst };
}

/** Decodes the entries of a top-level table; only DecodeError escapes. */
export function decodeTable(bytes: Buffer): CcTable {
  return decodeEntries(new Reader(bytes, 0, bytes.length), 0).table;
}

// ---------------------------------------------------------------- messages and HMAC

/** A decoded message and what its signature must cover. */
export interface DecodedMessage {
  readonly table: CcTable;
  /** The frame bytes after the `_auth` entry (what the HMAC covers); empty when unsigned. */
  readonly signed: Buffer;
}

/** Frames a message: length, version 1, `_auth` signed with `key`, then `table`. */
export function encodeMessage(table: CcTable, key: SecretKey): Buffer {
  const withoutAuth = new Map(table);
  withoutAuth.delete('_auth');
  const body = encodeTable(withoutAuth);
  const auth = encodeTable(new Map([['_auth', authValue(key, body)]]));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(4 + auth.length + body.length, 0);
  head.writeUInt32BE(1, 4);
  return Buffer.concat([head, auth, body]);
}

/**
 * Decodes one whole frame (with its length prefix). Bad bytes raise DecodeError only; the
 * signature is checked separately by `verifyMessage`.
 */
export function decodeMessage(frame: Buffer): DecodedMessage {
  const r = new Reader(frame, 0, frame.length);
  const length = r.u32('frame length');
  if (length !== frame.length - 4) {
    throw new DecodeError(`ISCCC frame length ${length} does not match ${frame.length - 4} bytes`);
  }
  const version = r.u32('version');
  if (version !== 1) throw new DecodeError(`unsupported ISCCC version ${version}`);
  const { table, afterFirst } = decodeEntries(r, 0);
  const first = table.keys().next().value;
  const signed = first === '_auth' ? frame.subarray(afterFirst) : Buffer.alloc(0);
  return { table, signed };
}

/** True when the message carries a valid `_auth` for `key` (constant-time comparison). */
export function verifyMessage(message: DecodedMessage, key: SecretKey): boolean {
  const auth = message.table.get('_auth');
  if (auth === undefined || !isTable(auth) || message.signed.length === 0) return false;
  const field = key.algorithm === 'hmac-md5' ? 'hmd5' : 'hsha';
  const got = auth.get(field);
  const want = authValue(key, message.signed).get(field);
  if (!Buffer.isBuffer(got) || !Buffer.isBuffer(want) || got.length !== want.length) return false;
  return timingSafeEqual(got, want);
}

function authValue(key: SecretKey, signed: Buffer): CcTable {
  const algorithm = key.algorithm.slice('hmac-'.length);
  const b64 = Buffer.from(
    createHmac(algorithm, key.secret).update(signed).digest('base64'),
    'latin1',
  );
  if (key.algorithm === 'hmac-md5') {
    // cc.c keeps the first 22 characters of the base64 text: the MAC without its `==`.
    return new Map([['hmd5', b64.subarray(0, HMD5_LENGTH)]]);
  }
  const hsha = Buffer.alloc(1 + HSHA_LENGTH);
  hsha.writeUInt8(ALGORITHM_CODES[key.algorithm], 0);
  b64.copy(hsha, 1, 0, HSHA_LENGTH);
  return new Map([['hsha', hsha]]);
}

// ---------------------------------------------------------------- helpers for callers

/** A table of text values, as `_ctrl` and `_data` are built. */
export function textTable(entries: Readonly<Record<string, string>>): CcTable {
  return new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
}

/** The text of a binary entry, or undefined when absent or not binary. */
export function textOf(table: CcValue | undefined, key: string): string | undefined {
  if (table === undefined || !isTable(table)) return undefined;
  const value = table.get(key);
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
}

/** A sub-table, or undefined. */
export function tableOf(table: CcTable, key: string): CcTable | undefined {
  const value = table.get(key);
  return value !== undefined && isTable(value) ? value : undefined;
}
