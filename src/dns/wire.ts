/**
 * Bounds-checked byte reader and growable writer for DNS messages (RFC 1035 §4.1), with
 * domain-name encoding, decoding and compression (§4.1.4).
 *
 * Names use the vocabulary of rrset.ts: absolute, lower-case, no final dot, root = ''.
 * A label holding a `.`, a `\` or a non-printable byte is written with RFC 1035 §5.1
 * escapes (`\.`, `\\`, `\DDD`), so every wire name has exactly one text form.
 */
import { DecodeError, ValidationError } from '../errors.ts';

const MAX_NAME_WIRE = 255;
const MAX_LABEL = 63;
const MAX_POINTER_OFFSET = 0x3fff;

/** Reads big-endian integers, bytes and names; anything out of bounds is a DecodeError. */
export class Reader {
  readonly buf: Buffer;
  offset: number;

  constructor(buf: Buffer, offset = 0) {
    this.buf = buf;
    this.offset = offset;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  need(n: number, what: string): void {
    if (n < 0 || this.offset + n > this.buf.length) {
      throw new DecodeError(`message truncated while reading ${what} at offset ${this.offset}`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.offset++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  u48(what = 'u48'): number {
    this.need(6, what);
    const v = this.buf.readUIntBE(this.offset, 6);
    this.offset += 6;
    return v;
  }

  bytes(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** A name, following compression pointers (which must point backwards, §4.1.4). */
  name(what = 'name'): string {
    const labels: string[] = [];
    let pos = this.offset;
    let end = -1;
    let wireLength = 1;
    let lowestJump = pos;
    for (;;) {
      if (pos >= this.buf.length) throw new DecodeError(`${what}: name runs past the message`);
      const len = this.buf[pos]!;
      if (len === 0) {
        if (end === -1) end = pos + 1;
        break;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new DecodeError(`${what}: truncated pointer`);
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        // Only strictly backward jumps: this rules out loops without a hop counter.
        if (target >= lowestJump) throw new DecodeError(`${what}: forward compression pointer`);
        if (end === -1) end = pos + 2;
        lowestJump = target;
        pos = target;
        continue;
      }
      if (kind !== 0)
        throw new DecodeError(`${what}: unsupported label type 0x${len.toString(16)}`);
      if (pos + 1 + len > this.buf.length) throw new DecodeError(`${what}: truncated label`);
      wireLength += len + 1;
      if (wireLength > MAX_NAME_WIRE) throw new DecodeError(`${what}: name longer than 255 bytes`);
      labels.push(labelText(this.buf.subarray(pos + 1, pos + 1 + len)));
      pos += 1 + len;
    }
    this.offset = end;
    return labels.join('.');
  }
}

function labelText(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    if (b >= 0x41 && b <= 0x5a) out += String.fromCharCode(b + 0x20);
    else if (b === 0x2e || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b > 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString().padStart(3, '0')}`;
  }
  return out;
}

/** Splits a text name into label bytes, resolving `\X` and `\DDD` escapes. */
export function nameLabels(name: string): Buffer[] {
  let text = name;
  if (text.endsWith('.') && !text.endsWith('\\.')) text = text.slice(0, -1);
  if (text === '') return [];
  const labels: Buffer[] = [];
  let current: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      labels.push(finishLabel(current, name));
      current = [];
    } else if (c === 0x5c) {
      const digits = text.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(digits) && Number(digits) < 256) {
        current.push(Number(digits));
        i += 3;
      } else if (i + 1 < text.length) {
        current.push(text.charCodeAt(++i) & 0xff);
      } else {
        throw new ValidationError('name', `name "${name}" ends with a lone backslash`);
      }
    } else if (c > 0x7e || c < 0x21) {
      // Names travel as ASCII: internationalized names in their xn-- form (RFC 5891).
      throw new ValidationError('name', `name "${name}" holds a character outside printable ASCII`);
    } else {
      current.push(c);
    }
  }
  labels.push(finishLabel(current, name));
  const wire = labels.reduce((n, l) => n + l.length + 1, 1);
  if (wire > MAX_NAME_WIRE) throw new ValidationError('name', `name "${name}" exceeds 255 bytes`);
  return labels;
}

function finishLabel(bytes: number[], name: string): Buffer {
  if (bytes.length === 0) throw new ValidationError('name', `name "${name}" has an empty label`);
  if (bytes.length > MAX_LABEL) {
    throw new ValidationError('name', `name "${name}" has a label over 63 bytes`);
  }
  return Buffer.from(bytes);
}

/** Canonical (lower-case, uncompressed) wire form of a name, as TSIG digests need (RFC 8945 §4.3.3). */
export function canonicalName(name: string): Buffer {
  const labels = nameLabels(name.toLowerCase());
  const parts: Buffer[] = [];
  for (const l of labels) parts.push(Buffer.from([l.length]), l);
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** A growable buffer with name compression. */
export class Writer {
  #buf: Buffer;
  #length = 0;
  readonly #names = new Map<string, number>();

  constructor(initial = 512) {
    this.#buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.#length;
  }

  #ensure(n: number): void {
    if (this.#length + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#length);
    this.#buf = next;
  }

  u8(v: number): void {
    this.#ensure(1);
    this.#buf[this.#length++] = v & 0xff;
  }

  u16(v: number): void {
    this.#ensure(2);
    this.#buf.writeUInt16BE(v & 0xffff, this.#length);
    this.#length += 2;
  }

  u32(v: number): void {
    this.#ensure(4);
    this.#buf.writeUInt32BE(v >>> 0, this.#length);
    this.#length += 4;
  }

  u48(v: number): void {
    this.#ensure(6);
    this.#buf.writeUIntBE(v, this.#length, 6);
    this.#length += 6;
  }

  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#length);
    this.#length += b.length;
  }

  /** Overwrites a 16-bit value already written (RDLENGTH, counts). */
  patch16(offset: number, v: number): void {
    this.#buf.writeUInt16BE(v & 0xffff, offset);
  }

  /**
   * Writes a name. With `compress`, a suffix already written is replaced by a pointer
   * (RFC 1035 §4.1.4); suffixes written here become pointer targets either way.
   */
  name(name: string, compress: boolean): void {
    const labels = nameLabels(name);
    for (let i = 0; i < labels.length; i++) {
      const key = suffixKey(labels, i);
      const target = this.#names.get(key);
      if (compress && target !== undefined) {
        this.u16(0xc000 | target);
        return;
      }
      if (this.#length <= MAX_POINTER_OFFSET && target === undefined) {
        this.#names.set(key, this.#length);
      }
      const label = labels[i]!;
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }

  /** The bytes written so far (a copy-free view). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#length);
  }
}

function suffixKey(labels: readonly Buffer[], from: number): string {
  let key = '';
  for (let i = from; i < labels.length; i++) {
    key += `${labels[i]!.toString('latin1').toLowerCase()}\u0000`;
  }
  return key;
}
