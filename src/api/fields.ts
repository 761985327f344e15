/**
 * Schema building blocks shared by every kind: DNS names, addresses, TTLs, ports.
 *
 * Every pattern here must mean the same thing to ajv (ECMAScript regexps, used by
 * `validateResource`) and to kube-apiserver (Go's RE2), so they use only the common
 * subset: no lookarounds, no backreferences, no `\d` inside classes, counted repeats
 * below 1000. Patterns are anchored explicitly because Kubernetes does not anchor them.
 */
import { type SchemaOptions, type TSchema, type TUnsafe, Type } from '@sinclair/typebox';

/** One DNS label as people write them: letters, digits, `_` (SRV, DKIM), inner `-`; 1..63 octets (RFC 1035 §2.3.4). */
export const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';

/** A name of one or more labels, without the final dot. */
export const DOTTED_NAME = `${LABEL}(?:\\.${LABEL})*`;

/**
 * A name in presentation form is at most 253 characters without the final dot: on the wire
 * that is 255 octets (RFC 1035 §3.1: each label adds a length octet, the root adds one).
 */
export const MAX_NAME_LENGTH = 253;

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';

/** Dotted-quad IPv4, no leading zeros (which some parsers read as octal). */
export const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;

const HEX = '[0-9A-Fa-f]{1,4}';

/**
 * IPv6 text forms of RFC 4291 §2.2 (full, `::`-compressed, IPv4 tail), without zone ids,
 * which an AAAA record cannot carry. An explicit alternation over where `::` sits, because
 * RE2 has no lookahead to count groups. `::` stands for at least one zero group, so the
 * groups written on both sides of it number at most 7 (at most 5 before an IPv4 tail).
 */
export const IPV6 = ipv6Pattern();

function ipv6Pattern(): string {
  const h = `(?:${HEX}:)`;
  const hexOnly = [`${h}{7}${HEX}`, `${h}{1,7}:`, `:(?:(?::${HEX}){1,7}|:)`];
  for (let left = 1; left <= 6; left += 1) hexOnly.push(`${h}{${left}}(?::${HEX}){1,${7 - left}}`);
  // Everything that may precede an IPv4 tail (which takes the place of two groups).
  const beforeIpv4 = [`${h}{6}`, `::${h}{0,5}`];
  for (let left = 1; left <= 5; left += 1)
    beforeIpv4.push(`${h}{${left}}(?::${HEX}){0,${5 - left}}:`);
  return `(?:${hexOnly.join('|')}|(?:${beforeIpv4.join('|')})${IPV4})`;
}

/** `pattern` anchored at both ends (Kubernetes and ajv both search, they do not match whole). */
export function anchored(pattern: string): string {
  return `^(?:${pattern})$`;
}

/** A string schema that must carry a description (for `kubectl explain`). */
export function text(description: string, options: SchemaOptions = {}) {
  return Type.String({ description, ...options });
}

/** A closed set of strings as `enum` (Kubernetes structural schemas do not allow anyOf of consts). */
export function stringEnum<const T extends readonly string[]>(
  values: T,
  description: string,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description, ...options });
}

/** A label value: empty, or up to 63 alphanumerics with inner `-`, `_`, `.`. */
export const LABEL_VALUE = '(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?';

/** A map of label keys to label values, as `additionalProperties` alone, which CRDs require. */
export function stringMap(description: string): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    description,
    additionalProperties: {
      type: 'string',
      maxLength: 63,
      pattern: anchored(LABEL_VALUE),
      description: 'A label value.',
    },
  });
}

/** TTL: an unsigned 31-bit number of seconds (RFC 2181 §8). */
export function ttl(description: string, options: SchemaOptions = {}) {
  return Type.Integer({ minimum: 0, maximum: 2147483647, description, ...options });
}

/** A TCP/UDP port. */
export function port(description: string, options: SchemaOptions = {}) {
  return Type.Integer({ minimum: 0, maximum: 65535, description, ...options });
}

export function u16(description: string, options: SchemaOptions = {}) {
  return Type.Integer({ minimum: 0, maximum: 65535, description, ...options });
}

export function ipv4(description: string) {
  return Type.String({ pattern: anchored(IPV4), maxLength: 15, description });
}

export function ipv6(description: string) {
  return Type.String({ pattern: anchored(IPV6), maxLength: 45, description });
}

/** IPv4 or IPv6 address. */
export function ipAddress(description: string) {
  return Type.String({ pattern: anchored(`${IPV4}|${IPV6}`), maxLength: 45, description });
}

/**
 * The last label of a host name to connect to starts with a letter (RFC 1123 §2.1: top-level
 * labels are alphabetic), so `10.0.0.256` is a bad address rather than a host name.
 */
const TOP_LABEL = '[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';

/** An address to connect to: an IP address or a host name (such as a Service's DNS name). */
export function endpointAddress(description: string) {
  return Type.String({
    pattern: anchored(`${IPV4}|${IPV6}|(?:${LABEL}\\.)*${TOP_LABEL}\\.?`),
    maxLength: MAX_NAME_LENGTH + 1,
    description,
  });
}

/** A zone name: absolute, written without the final dot. */
export function zoneName(description: string) {
  return Type.String({
    pattern: anchored(DOTTED_NAME),
    minLength: 1,
    maxLength: MAX_NAME_LENGTH,
    description,
  });
}

/**
 * A host name inside record data: relative to the zone unless it ends in `.`; `@` is the
 * zone apex. With `allowRoot`, `.` alone means "no host" (RFC 7505 null MX, RFC 2782 SRV).
 */
export function hostName(description: string, options: { allowRoot?: boolean } = {}) {
  const root = options.allowRoot === true ? '|\\.' : '';
  return Type.String({
    pattern: anchored(`@|${DOTTED_NAME}\\.?${root}`),
    minLength: 1,
    maxLength: MAX_NAME_LENGTH + 1,
    description,
  });
}

/** A record owner name: relative to the zone (zone-file rules), `@` for the apex, `*` as the leftmost label for a wildcard (RFC 4592). */
export function ownerName(description: string) {
  return Type.String({
    pattern: anchored(`@|(?:\\*|${LABEL})(?:\\.${LABEL})*\\.?`),
    minLength: 1,
    maxLength: MAX_NAME_LENGTH + 1,
    description,
  });
}

/** A Kubernetes object name (RFC 1123 subdomain), e.g. a Secret or a DNSZone. */
export const OBJECT_NAME = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*';

export function objectName(description: string) {
  return Type.String({
    pattern: anchored(OBJECT_NAME),
    minLength: 1,
    maxLength: 253,
    description,
  });
}

/** A reference to a Secret in the resource's namespace. */
export function secretRef(description: string) {
  return Type.Object(
    { name: objectName('Name of the Secret, in the same namespace.') },
    { description, additionalProperties: false },
  );
}

/**
 * An absolute file-system path. Restricted to plain characters because it ends up inside
 * the text of an `rndc addzone` command: nothing a user writes may inject configuration.
 */
export function absolutePath(description: string) {
  return Type.String({ pattern: '^/[A-Za-z0-9._/-]*$', maxLength: 1024, description });
}

/** A list with at least one element: an RRset is never empty. */
export function nonEmptyList<T extends TSchema>(items: T, description: string, maxItems = 1000) {
  return Type.Array(items, { minItems: 1, maxItems, description });
}
