/**
 * The one record vocabulary shared by the codec, the planner, the executor, the
 * reconcilers and the CLI (STYLE.md habit 2).
 *
 * Conventions, fixed here once:
 * - Owner names and names inside rdata are absolute, lower-case, without the final dot
 *   (`www.example.com`); the root is `''`. `normalizeName` produces that form.
 * - An `RRset` is every record of one (name, type) in one zone, with one TTL (BIND gives a
 *   whole RRset the TTL of its last added RR, RFC 2136 §2.5 / PROTOCOLS.md).
 * - TXT rdata is the list of character-strings of one RR (each at most 255 bytes); one
 *   logical value longer than that is split with `splitTxt`.
 */

export interface RdataByType {
  A: { readonly address: string };
  AAAA: { readonly address: string };
  CNAME: { readonly target: string };
  TXT: { readonly strings: readonly string[] };
  MX: { readonly preference: number; readonly exchange: string };
  NS: { readonly host: string };
  SRV: {
    readonly priority: number;
    readonly weight: number;
    readonly port: number;
    readonly target: string;
  };
  CAA: { readonly flags: number; readonly tag: string; readonly value: string };
  PTR: { readonly target: string };
  SOA: {
    readonly mname: string;
    readonly rname: string;
    readonly serial: number;
    readonly refresh: number;
    readonly retry: number;
    readonly expire: number;
    readonly minimum: number;
  };
}

export type RecordType = keyof RdataByType;

export const RECORD_TYPES: readonly RecordType[] = [
  'A',
  'AAAA',
  'CNAME',
  'TXT',
  'MX',
  'NS',
  'SRV',
  'CAA',
  'PTR',
  'SOA',
];

export type Rdata<T extends RecordType = RecordType> = RdataByType[T];

export interface RRsetOf<T extends RecordType> {
  readonly name: string;
  readonly type: T;
  readonly ttl: number;
  readonly rdata: readonly RdataByType[T][];
}

/** A discriminated union over `type`, so `switch (rrset.type)` narrows `rdata`. */
export type RRset = { [T in RecordType]: RRsetOf<T> }[RecordType];

export function isRecordType(value: string): value is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(value);
}

/**
 * Lower-case, no final dot. `Example.COM.` → `example.com`; `.` → `''`. A label may hold
 * escapes (RFC 1035 §5.1, as wire.ts writes them): `dns\.admin.example.com` is three
 * labels, the first `dns.admin`, and a final `\.` is part of the last label, not a dot.
 */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') && !escapedAt(lower, lower.length - 1) ? lower.slice(0, -1) : lower;
}

/** True when the character at `index` is escaped: an odd run of `\` before it. */
function escapedAt(text: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** The labels of a normalized name, split at the dots that are not escaped. */
export function labelsOf(name: string): string[] {
  if (name === '') return [];
  if (!name.includes('\\')) return name.split('.');
  const labels: string[] = [];
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\') i++;
    else if (name[i] === '.') {
      labels.push(name.slice(start, i));
      start = i + 1;
    }
  }
  labels.push(name.slice(start));
  return labels;
}

/**
 * Resolves a name written in a resource against its zone, with zone-file rules: `@` is
 * the apex, a name ending in `.` is absolute, anything else is relative to the zone.
 */
export function absoluteName(name: string, zone: string): string {
  const origin = normalizeName(zone);
  if (name === '@' || name === '') return origin;
  if (name.endsWith('.')) return normalizeName(name);
  const relative = name.toLowerCase();
  return origin === '' ? relative : `${relative}.${origin}`;
}

/**
 * True when `name` is `zone` or below it, label by label: `a\.example.com` (the label
 * `a.example` under `com`) is not in `example.com`.
 */
export function isInZone(name: string, zone: string): boolean {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  if (z === '' || n === z) return true;
  if (!n.endsWith(`.${z}`)) return false;
  // The dot before the zone must be a label boundary, not an escaped dot inside a label.
  return !escapedAt(n, n.length - z.length - 1);
}

/** The name relative to its zone, `@` for the apex (the zone-file way of writing it). */
export function relativeName(name: string, zone: string): string {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  if (n === z) return '@';
  return z !== '' && isInZone(n, z) ? n.slice(0, -(z.length + 1)) : `${n}.`;
}

/** An absolute name in presentation form, with its final dot. */
export function fqdn(name: string): string {
  return `${normalizeName(name)}.`;
}

/**
 * Splits one TXT value into character-strings of at most 255 bytes of UTF-8 each
 * (RFC 1035 §3.3.14), cutting only between characters so every part stays valid UTF-8.
 */
export function splitTxt(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let size = 0;
  for (const char of value) {
    const length = Buffer.byteLength(char, 'utf8');
    if (size + length > 255) {
      parts.push(current);
      current = '';
      size = 0;
    }
    current += char;
    size += length;
  }
  parts.push(current);
  return parts;
}

/** Bytes of a character-string as carried in TXT/CAA: always UTF-8. */
export function characterStringBytes(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}

/** A character-string in zone-file presentation: quoted, `"` and `\` escaped, others as \DDD. */
export function quoteCharacterString(value: string): string {
  let out = '"';
  for (const byte of characterStringBytes(value)) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte > 0x7e) out += `\\${byte.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}

/** The rdata in zone-file / nsupdate presentation form. Also the identity of an RR. */
export function rdataText<T extends RecordType>(type: T, rdata: RdataByType[T]): string {
  const r = rdata as RdataByType[RecordType];
  switch (type) {
    case 'A':
    case 'AAAA':
      return (r as RdataByType['A']).address;
    case 'CNAME':
    case 'PTR':
      return fqdn((r as RdataByType['CNAME']).target);
    case 'NS':
      return fqdn((r as RdataByType['NS']).host);
    case 'TXT':
      return (r as RdataByType['TXT']).strings.map(quoteCharacterString).join(' ');
    case 'MX': {
      const mx = r as RdataByType['MX'];
      return `${mx.preference} ${fqdn(mx.exchange)}`;
    }
    case 'SRV': {
      const srv = r as RdataByType['SRV'];
      return `${srv.priority} ${srv.weight} ${srv.port} ${fqdn(srv.target)}`;
    }
    case 'CAA': {
      const caa = r as RdataByType['CAA'];
      return `${caa.flags} ${caa.tag} ${quoteCharacterString(caa.value)}`;
    }
    case 'SOA': {
      const soa = r as RdataByType['SOA'];
      return `${fqdn(soa.mname)} ${fqdn(soa.rname)} ${soa.serial} ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minimum}`;
    }
    default:
      return assertNever(type as never);
  }
}

/** The key of an RRset inside a zone: owner and type. */
export function rrsetKey(rrset: Pick<RRset, 'name' | 'type'>): string {
  return `${normalizeName(rrset.name)} ${rrset.type}`;
}

/** The rdata texts of an RRset, sorted: equal lists mean equal RRsets (TTL aside). */
export function rdataTexts(rrset: RRset): string[] {
  const texts = (rrset.rdata as readonly RdataByType[RecordType][]).map((r) =>
    rdataText(rrset.type, r as never),
  );
  return [...new Set(texts)].sort();
}

/** Same owner, type, TTL and set of records (order and duplicates ignored). */
export function sameRRset(a: RRset, b: RRset): boolean {
  if (rrsetKey(a) !== rrsetKey(b) || a.ttl !== b.ttl) return false;
  const ta = rdataTexts(a);
  const tb = rdataTexts(b);
  return ta.length === tb.length && ta.every((t, i) => t === tb[i]);
}

/** Stable order for plans and output: by name (labels right to left), then type. */
export function compareRRsets(a: Pick<RRset, 'name' | 'type'>, b: Pick<RRset, 'name' | 'type'>) {
  const la = labelsOf(normalizeName(a.name)).reverse().join('.');
  const lb = labelsOf(normalizeName(b.name)).reverse().join('.');
  if (la !== lb) return la < lb ? -1 : 1;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

export function assertNever(value: never): never {
  throw new TypeError(`unexpected value: ${String(value)}`);
}
