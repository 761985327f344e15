/**
 * Keys for TSIG (RFC 8945) and the rndc control channel, and the parser for the text that
 * `tsig-keygen` / `rndc-confgen` print (the file `nsupdate -k` and `named.conf` read):
 *
 *     key "ctrl-key" {
 *         algorithm hmac-sha256;
 *         secret "BASE64";
 *     };
 */
import { inspect } from 'node:util';
import { ValidationError } from '../errors.ts';

export type HmacAlgorithm =
  | 'hmac-md5'
  | 'hmac-sha1'
  | 'hmac-sha224'
  | 'hmac-sha256'
  | 'hmac-sha384'
  | 'hmac-sha512';

export const HMAC_ALGORITHMS: readonly HmacAlgorithm[] = [
  'hmac-md5',
  'hmac-sha1',
  'hmac-sha224',
  'hmac-sha256',
  'hmac-sha384',
  'hmac-sha512',
];

/** A shared-secret key. Its secret never appears in `JSON.stringify`, `inspect` or logs. */
export class SecretKey {
  /** Key name, lower-case, without the final dot. */
  readonly name: string;
  readonly algorithm: HmacAlgorithm;
  readonly #secret: Buffer;

  constructor(name: string, algorithm: HmacAlgorithm, secret: Buffer) {
    this.name = name;
    this.algorithm = algorithm;
    this.#secret = Buffer.from(secret);
  }

  /** The raw secret bytes, for HMAC only. */
  get secret(): Buffer {
    return this.#secret;
  }

  toJSON(): { name: string; algorithm: HmacAlgorithm } {
    return { name: this.name, algorithm: this.algorithm };
  }

  toString(): string {
    return `key ${this.name} (${this.algorithm})`;
  }

  [inspect.custom](): string {
    return `SecretKey { name: '${this.name}', algorithm: '${this.algorithm}', secret: [redacted] }`;
  }
}

/**
 * Maps the algorithm spellings BIND accepts (`hmac-sha256`, `HMAC-SHA256.`,
 * `hmac-md5.sig-alg.reg.int`) to ours; undefined when unknown.
 */
export function parseAlgorithm(text: string): HmacAlgorithm | undefined {
  let a = text.trim().toLowerCase();
  if (a.endsWith('.')) a = a.slice(0, -1);
  if (a === 'hmac-md5.sig-alg.reg.int') return 'hmac-md5';
  return (HMAC_ALGORITHMS as readonly string[]).includes(a) ? (a as HmacAlgorithm) : undefined;
}

const KEY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63})*\.?$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isKeyName(text: string): boolean {
  return text.length <= 255 && KEY_NAME.test(text);
}

/**
 * Builds a key from its three parts, validating each (as a Secret's fields give them).
 *
 * No message quotes a value it refuses, not even a prefix: a Secret with its fields
 * swapped holds the secret under `name` or `algorithm`, and these messages reach status,
 * Events and logs (issue #18). They name the field and what is wrong with it instead.
 */
export function makeKey(name: string, algorithm: string, secret: string): SecretKey {
  const trimmedName = name.trim();
  if (!isKeyName(trimmedName)) {
    throw new ValidationError(
      'name',
      `not a key name (${describeValue(name)}): a key name is a domain name of letters, digits, - and _`,
    );
  }
  const alg = parseAlgorithm(algorithm);
  if (alg === undefined) {
    const swapped = parseAlgorithm(secret) !== undefined ? '; it and secret look swapped' : '';
    throw new ValidationError(
      'algorithm',
      `not a known algorithm (${describeValue(algorithm)}${swapped}): use one of ${HMAC_ALGORITHMS.join(', ')}`,
    );
  }
  const compact = secret.replace(/\s+/g, '');
  if (compact.length === 0 || !BASE64.test(compact)) {
    throw new ValidationError('secret', `not base64 (${describeValue(secret)})`);
  }
  const name0 = trimmedName.toLowerCase().replace(/\.$/, '');
  return new SecretKey(name0, alg, Buffer.from(compact, 'base64'));
}

/**
 * What can be said of a refused value without showing any of it: its length, and whether
 * it has the look of a base64 secret (the usual mistake: fields swapped).
 */
function describeValue(value: string): string {
  const compact = value.replace(/\s+/g, '');
  if (compact.length === 0) return 'empty';
  const looksSecret = compact.length >= 16 && BASE64.test(compact);
  return `${value.length} characters, not shown${looksSecret ? ', it looks like a base64 secret' : ''}`;
}

/** Removes `#`, `//` and C comments outside quoted strings. */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      const stop = end === -1 ? text.length : end + 1;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Parses every `key` statement of a key file. Other statements (`options`, `controls`,
 * commented parts of `rndc-confgen` output) are ignored.
 */
export function parseKeyFile(text: string): SecretKey[] {
  const source = stripComments(text);
  const keys: SecretKey[] = [];
  const statement = /\bkey\s+("([^"]*)"|([A-Za-z0-9._-]+))\s*\{([^{}]*)\}\s*;/g;
  for (const match of source.matchAll(statement)) {
    const name = match[2] ?? match[3] ?? '';
    const body = match[4] ?? '';
    const algorithm = /\balgorithm\s+"?([A-Za-z0-9.-]+)"?\s*;/.exec(body)?.[1];
    const secret = /\bsecret\s+"([^"]*)"\s*;/.exec(body)?.[1];
    // A name is quoted back only once it is a valid key name (a swapped file may hold the
    // secret there).
    const which = isKeyName(name) ? `key "${name}"` : 'a key statement';
    if (algorithm === undefined)
      throw new ValidationError('algorithm', `${which} has no algorithm`);
    if (secret === undefined) throw new ValidationError('secret', `${which} has no secret`);
    keys.push(makeKey(name, algorithm, secret));
  }
  if (keys.length === 0) {
    throw new ValidationError('keyfile', 'no key statement found (expected key "NAME" { ... };)');
  }
  return keys;
}

/**
 * The key of a key file: the one named `keyName`, or the only one. A file of several keys
 * and no name is refused, naming the keys it holds: taking the first would sign with a key
 * the user may not have meant, and the server's BADKEY would not say why.
 */
export function parseKey(text: string, keyName?: string): SecretKey {
  const keys = parseKeyFile(text);
  const names = keys.map((k) => `"${k.name}"`).join(', ');
  if (keyName !== undefined) {
    const wanted = keyName.trim().toLowerCase().replace(/\.$/, '');
    const key = keys.find((k) => k.name === wanted);
    if (key !== undefined) return key;
    const shown = isKeyName(keyName.trim()) ? `"${keyName.trim()}"` : 'of that name';
    throw new ValidationError('keyName', `no key ${shown} in the key file, which holds ${names}`);
  }
  if (keys.length > 1) {
    throw new ValidationError(
      'keyfile',
      `holds ${keys.length} keys (${names}): name the one to use with keyName`,
    );
  }
  return keys[0] as SecretKey;
}

/** The key in the text form `tsig-keygen` prints, for named.conf and `nsupdate -k`. */
export function formatKeyFile(key: SecretKey): string {
  const alg = key.algorithm;
  return `key "${key.name}" {\n\talgorithm ${alg};\n\tsecret "${key.secret.toString('base64')}";\n};\n`;
}
