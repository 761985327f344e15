/**
 * TSIG (RFC 8945): signing requests and verifying replies on the bytes received,
 * including multi-message replies such as AXFR over TCP (§5.3.1).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  TsigBadKeyError,
  TsigBadMacError,
  TsigBadSigError,
  TsigBadTimeError,
  TsigBadTruncError,
  TsigError,
  TsigUnsignedReplyError,
} from '../errors.ts';
import type { HmacAlgorithm, SecretKey } from './keyfile.ts';
import {
  CLASS_ANY,
  type DecodedMessage,
  rcodeName,
  type TsigRdata,
  TYPE_TSIG,
  tsigRecord,
  writeRecord,
} from './message.ts';
import { normalizeName } from './rrset.ts';
import { canonicalName, Writer } from './wire.ts';

/** RFC 8945 §6: the usual fudge, in seconds. */
export const DEFAULT_FUDGE = 300;

/** §4.3.3 / §6: the names algorithms go by on the wire. */
export const ALGORITHM_NAMES: Readonly<Record<HmacAlgorithm, string>> = {
  'hmac-md5': 'hmac-md5.sig-alg.reg.int',
  'hmac-sha1': 'hmac-sha1',
  'hmac-sha224': 'hmac-sha224',
  'hmac-sha256': 'hmac-sha256',
  'hmac-sha384': 'hmac-sha384',
  'hmac-sha512': 'hmac-sha512',
};

const HASHES: Readonly<Record<HmacAlgorithm, { name: string; size: number }>> = {
  'hmac-md5': { name: 'md5', size: 16 },
  'hmac-sha1': { name: 'sha1', size: 20 },
  'hmac-sha224': { name: 'sha224', size: 28 },
  'hmac-sha256': { name: 'sha256', size: 32 },
  'hmac-sha384': { name: 'sha384', size: 48 },
  'hmac-sha512': { name: 'sha512', size: 64 },
};

const TSIG_ERRORS = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

/** Size of the TSIG record `key` appends to a message, for batching under 64 KiB. */
export function tsigRecordSize(key: SecretKey): number {
  const owner = canonicalName(key.name).length;
  const alg = canonicalName(ALGORITHM_NAMES[key.algorithm]).length;
  // type, class, TTL, RDLENGTH; then time 6, fudge 2, MAC size 2, MAC, ID 2, error 2, other len 2.
  return owner + 10 + alg + 16 + HASHES[key.algorithm].size;
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

/** The timers of §4.3.3: time signed (48 bits) and fudge. */
function timers(t: Pick<TsigRdata, 'timeSigned' | 'fudge'>): Buffer {
  const b = Buffer.alloc(8);
  b.writeUIntBE(t.timeSigned, 0, 6);
  b.writeUInt16BE(t.fudge, 6);
  return b;
}

/** The TSIG variables of §4.3.3, in the canonical form the digest covers. */
function variables(keyName: string, t: TsigRdata): Buffer {
  return Buffer.concat([
    canonicalName(keyName),
    u16(CLASS_ANY),
    Buffer.alloc(4), // TTL 0
    canonicalName(t.algorithm),
    timers(t),
    u16(t.error),
    u16(t.other.length),
    t.other,
  ]);
}

function hmac(key: SecretKey, parts: readonly Buffer[]): Buffer {
  const h = createHmac(HASHES[key.algorithm].name, key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** A MAC field with its 2-byte length, as the prior MAC enters a digest (§4.3.1, §4.3.2). */
function macField(mac: Buffer): Buffer {
  return Buffer.concat([u16(mac.length), mac]);
}

/** The message with a TSIG record appended and ARCOUNT counting it. */
function appendTsig(message: Buffer, key: SecretKey, tsig: TsigRdata): Buffer {
  const w = new Writer(message.length + tsigRecordSize(key));
  w.bytes(message);
  writeRecord(w, {
    name: key.name,
    type: TYPE_TSIG,
    klass: CLASS_ANY,
    ttl: 0,
    body: { kind: 'tsig', tsig },
  });
  const bytes = Buffer.from(w.finish());
  bytes.writeUInt16BE(bytes.readUInt16BE(10) + 1, 10);
  return bytes;
}

export interface SignedMessage {
  readonly bytes: Buffer;
  readonly mac: Buffer;
}

/**
 * Appends a TSIG record to an encoded request (§4.3.1): the MAC covers the message as it
 * is (ARCOUNT not counting the TSIG) and the TSIG variables.
 */
export function signRequest(
  message: Buffer,
  key: SecretKey,
  nowSeconds: number,
  fudge = DEFAULT_FUDGE,
): SignedMessage {
  const base: TsigRdata = {
    algorithm: ALGORITHM_NAMES[key.algorithm],
    timeSigned: nowSeconds,
    fudge,
    mac: Buffer.alloc(0),
    originalId: message.readUInt16BE(0),
    error: 0,
    other: Buffer.alloc(0),
  };
  const mac = hmac(key, [message, variables(key.name, base)]);
  return { bytes: appendTsig(message, key, { ...base, mac }), mac };
}

/** The message without its TSIG record, ARCOUNT decremented and the original ID restored (§4.3.2). */
function unsignedPart(raw: Buffer, tsigOffset: number, originalId: number): Buffer {
  const part = Buffer.from(raw.subarray(0, tsigOffset));
  part.writeUInt16BE(originalId, 0);
  part.writeUInt16BE(part.readUInt16BE(10) - 1, 10);
  return part;
}

/**
 * The running digest state both ends of a reply stream keep (§4.3.2, §5.3.1): the prior
 * MAC, the unsigned messages since it, and whether the next signed message is the first.
 */
class TsigChain {
  readonly #key: SecretKey;
  #priorMac: Buffer;
  #unsigned: Buffer[] = [];
  #first = true;

  constructor(key: SecretKey, requestMac: Buffer) {
    this.#key = key;
    this.#priorMac = requestMac;
  }

  get first(): boolean {
    return this.#first;
  }

  get unsignedCount(): number {
    return this.#unsigned.length;
  }

  addUnsigned(raw: Buffer): void {
    this.#unsigned.push(raw);
  }

  /** The MAC of a message (without its TSIG): full variables first, then timers only. */
  mac(body: Buffer, t: TsigRdata): Buffer {
    const tail = this.#first ? variables(this.#key.name, t) : timers(t);
    return hmac(this.#key, [macField(this.#priorMac), ...this.#unsigned, body, tail]);
  }

  advance(mac: Buffer): void {
    this.#priorMac = mac;
    this.#unsigned = [];
    this.#first = false;
  }
}

/**
 * Verifies the replies to one signed request, in order. The first reply's MAC covers the
 * request MAC (§4.3.2); each later signed reply covers the previous MAC, the unsigned
 * replies in between and only the timers (§5.3.1). At most 99 unsigned replies may come
 * between signed ones, and the last must be signed.
 */
export class TsigVerifier {
  readonly #key: SecretKey;
  readonly #clock: () => number;
  readonly #chain: TsigChain;

  constructor(key: SecretKey, requestMac: Buffer, clock: () => number) {
    this.#key = key;
    this.#clock = clock;
    this.#chain = new TsigChain(key, requestMac);
  }

  /** True when every message seen so far ended in a verified signed one. */
  get settled(): boolean {
    return !this.#chain.first && this.#chain.unsignedCount === 0;
  }

  /** Checks one reply; throws a TsigError subclass when it must not be trusted. */
  verify(raw: Buffer, message: DecodedMessage): void {
    const rr = tsigRecord(message);
    if (rr === undefined || rr.body.kind !== 'tsig') {
      if (this.#chain.first) {
        throw new TsigUnsignedReplyError('the reply to a signed request is unsigned');
      }
      this.#chain.addUnsigned(raw);
      if (this.#chain.unsignedCount > 99) {
        throw new TsigUnsignedReplyError(
          'more than 99 unsigned messages in a row (RFC 8945 §5.3.1)',
        );
      }
      return;
    }
    const t = rr.body.tsig;
    // An error reply is the server's word on our request; BADKEY and BADSIG ones cannot be
    // signed at all (§5.2), so they are reported without a MAC check.
    if (t.error !== 0) throw serverError(t, message.header.rcode);
    this.#checkKey(rr.name, t);
    checkMac(t.mac, this.#chain.mac(unsignedPart(raw, rr.offset, t.originalId), t));
    this.#checkTime(t);
    this.#chain.advance(t.mac);
  }

  #checkKey(owner: string, t: TsigRdata): void {
    const sameName = normalizeName(owner) === normalizeName(this.#key.name);
    const alg = normalizeName(t.algorithm);
    const sameAlg = alg === ALGORITHM_NAMES[this.#key.algorithm] || alg === this.#key.algorithm;
    if (!sameName || !sameAlg) {
      throw new TsigBadMacError(`reply is signed with key ${owner} (${alg}), not ours`, {
        detail: { key: owner, algorithm: alg },
      });
    }
  }

  #checkTime(t: TsigRdata): void {
    const now = Math.floor(this.#clock() / 1000);
    if (Math.abs(now - t.timeSigned) > t.fudge) {
      throw new TsigBadTimeError(
        `reply signed at ${t.timeSigned}, our clock says ${now}: more than ${t.fudge} s apart`,
        'client',
        t.timeSigned,
        { detail: { serverTime: t.timeSigned, clientTime: now } },
      );
    }
  }
}

/** §5.2.2.1: a MAC may be truncated, but to no fewer than max(10, half the hash) bytes. */
function checkMac(received: Buffer, expected: Buffer): void {
  if (received.length > expected.length) {
    throw new TsigBadMacError('reply MAC is longer than the algorithm produces');
  }
  if (received.length < Math.max(10, expected.length / 2)) {
    throw new TsigBadTruncError(`reply MAC truncated to ${received.length} bytes`, 'client');
  }
  if (!timingSafeEqual(received, expected.subarray(0, received.length))) {
    throw new TsigBadMacError('reply MAC does not verify with our key');
  }
}

/** The error a server reported in the TSIG error field (§5.2), as its own class. */
function serverError(t: TsigRdata, rcode: number): TsigError {
  const name = rcodeName(t.error);
  const detail = { rcode: rcodeName(rcode), tsigError: name };
  switch (t.error) {
    case TSIG_ERRORS.BADSIG:
      return new TsigBadSigError('server rejected our TSIG signature (wrong secret?)', 'server', {
        detail,
      });
    case TSIG_ERRORS.BADKEY:
      // Knot DNS also answers BADKEY when its ACL denies a key it knows (the DNS client
      // says so outright when the same server accepted the key before).
      return new TsigBadKeyError(
        'server does not know our TSIG key name or algorithm, or its policy does not allow this key this request (Knot DNS answers an ACL denial with BADKEY)',
        'server',
        { detail },
      );
    case TSIG_ERRORS.BADTIME: {
      // §5.2.3: other data holds the server's time (48 bits).
      const serverTime = t.other.length === 6 ? t.other.readUIntBE(0, 6) : undefined;
      return new TsigBadTimeError(
        `server rejected our TSIG time ${t.timeSigned}: server clock ${serverTime ?? 'unknown'}, fudge ${t.fudge} s`,
        'server',
        serverTime,
        { detail: { ...detail, serverTime: serverTime ?? -1, timeSigned: t.timeSigned } },
      );
    }
    case TSIG_ERRORS.BADTRUNC:
      return new TsigBadTruncError('server rejected our truncated MAC', 'server', { detail });
    default:
      return new TsigError(name, `server reported TSIG error ${name}`, 'server', { detail });
  }
}

/**
 * The server side of §4.3.2 and §5.3.1: signs the replies to one request, in order. Used by
 * tests (to build multi-message streams and tampered replies) and tools; the controller
 * itself only signs requests.
 */
export class TsigResponseSigner {
  readonly #key: SecretKey;
  readonly #clock: () => number;
  readonly #chain: TsigChain;

  constructor(key: SecretKey, requestMac: Buffer, clock: () => number) {
    this.#key = key;
    this.#clock = clock;
    this.#chain = new TsigChain(key, requestMac);
  }

  /** Passes a reply on unsigned; the next signed reply's MAC covers it. */
  skip(reply: Buffer): Buffer {
    this.#chain.addUnsigned(Buffer.from(reply));
    return reply;
  }

  /** Appends a TSIG record to an encoded reply. */
  sign(reply: Buffer, fudge = DEFAULT_FUDGE): Buffer {
    const base: TsigRdata = {
      algorithm: ALGORITHM_NAMES[this.#key.algorithm],
      timeSigned: Math.floor(this.#clock() / 1000),
      fudge,
      mac: Buffer.alloc(0),
      originalId: reply.readUInt16BE(0),
      error: 0,
      other: Buffer.alloc(0),
    };
    const mac = this.#chain.mac(reply, base);
    this.#chain.advance(mac);
    return appendTsig(reply, this.#key, { ...base, mac });
  }
}

/** Removes the TSIG record from a raw message (ARCOUNT decremented); unchanged when unsigned. */
export function stripTsig(raw: Buffer, message: DecodedMessage): Buffer {
  const rr = tsigRecord(message);
  if (rr === undefined) return raw;
  const out = Buffer.from(raw.subarray(0, rr.offset));
  out.writeUInt16BE(out.readUInt16BE(10) - 1, 10);
  return out;
}
