/**
 * Strict validation of every value that ends up inside the text of an rndc command or a
 * zone file (DESIGN.md "BIND9 facts"): named parses `addzone` text with its configuration
 * grammar, so a zone name like `evil.test; }; zone "x" {` would otherwise inject
 * configuration. Each value must match a narrow pattern; anything else is a
 * ValidationError before a byte is sent.
 */
import { isIP } from 'node:net';
import { ValidationError } from '../errors.ts';

/** A label of letters, digits, `-` and `_` (service labels), not starting or ending in `-`. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
/** File names: path segments of safe characters; no segment starts with `.` (so no `..`). */
const PATH = /^\/?[A-Za-z0-9_][A-Za-z0-9._+-]*(?:\/[A-Za-z0-9_][A-Za-z0-9._+-]*)*$/;
/** The local part of an e-mail address we are willing to put in an SOA RNAME. */
const LOCAL_PART = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;

function shown(value: unknown): string {
  return JSON.stringify(String(value).slice(0, 80));
}

/**
 * A domain name of LDH(+underscore) labels, at most 253 characters; returns it lower-case
 * without the final dot. The root is refused.
 */
export function validateDomainName(value: string, field: string): string {
  if (typeof value !== 'string') throw new ValidationError(field, `${field} must be a string`);
  const name = value.toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every((l) => LABEL.test(l))) {
    throw new ValidationError(
      field,
      `${field} ${shown(value)} is not a domain name (labels of letters, digits, - and _, separated by dots)`,
    );
  }
  return name;
}

export function validateZoneName(value: string, field = 'zoneName'): string {
  return validateDomainName(value, field);
}

/** A host name (name server, SOA MNAME). */
export function validateHostname(value: string, field = 'hostname'): string {
  return validateDomainName(value, field);
}

/** TSIG/rndc key names are domain names too (RFC 8945 §4.2). */
export function validateKeyName(value: string, field = 'keyName'): string {
  return validateDomainName(value, field);
}

/** A file name or path named will open: safe characters only, no `..`, at most 1024 long. */
export function validatePath(value: string, field = 'file'): string {
  if (typeof value !== 'string' || value.length > 1024 || !PATH.test(value)) {
    throw new ValidationError(field, `${field} ${shown(value)} is not a safe file path`);
  }
  return value;
}

/** An IPv4 or IPv6 literal; returned as given (named accepts either textual form). */
export function validateAddress(value: string, field = 'address', family?: 4 | 6): string {
  const got = typeof value === 'string' ? isIP(value) : 0;
  if (got === 0 || (family !== undefined && got !== family)) {
    const what = family === undefined ? 'an IP address' : `an IPv${family} address`;
    throw new ValidationError(field, `${field} ${shown(value)} is not ${what}`);
  }
  return value;
}

export function validatePort(value: number, field = 'port'): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ValidationError(field, `${field} ${shown(value)} is not a port number (1-65535)`);
  }
  return value;
}

/** An unsigned 32-bit number (SOA serial and timers, RFC 1035 §3.3.13). */
export function validateUint32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ValidationError(field, `${field} ${shown(value)} is not an integer in 0..4294967295`);
  }
  return value;
}

/** A TTL: 0..2^31-1 (RFC 2181 §8). */
export function validateTtl(value: number, field = 'ttl'): number {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new ValidationError(field, `${field} ${shown(value)} is not a TTL in 0..2147483647`);
  }
  return value;
}

/** `local@domain`, with a conservative local part; returns both parts. */
export function validateEmail(
  value: string,
  field = 'adminEmail',
): { local: string; domain: string } {
  const at = typeof value === 'string' ? value.lastIndexOf('@') : -1;
  const local = at > 0 ? value.slice(0, at) : '';
  if (!LOCAL_PART.test(local) || local.length > 63) {
    throw new ValidationError(field, `${field} ${shown(value)} is not an e-mail address we accept`);
  }
  return { local, domain: validateDomainName(value.slice(at + 1), field) };
}
