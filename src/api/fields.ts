/**
 * Schema building blocks shared by every kind: DNS names, addresses, TTLs, ports. The
 * patterns themselves live in patterns.ts (no schema library); import them from there.
 */
import { type SchemaOptions, type TSchema, type TUnsafe, Type } from '@sinclair/typebox';
import {
  anchored,
  DOTTED_NAME,
  IPV4,
  IPV6,
  LABEL,
  LABEL_VALUE,
  MAX_NAME_LENGTH,
  OBJECT_NAME,
  TOP_LABEL,
} from './patterns.ts';

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
    {
      name: objectName('Name of the Secret, in the same namespace.'),
      keyName: Type.Optional(
        Type.String({
          pattern: anchored(`${DOTTED_NAME}\\.?`),
          maxLength: 255,
          description:
            "When the Secret's keyfile holds several keys: the name of the one to use (the Secret may also say it in a keyName field). Default: the only key.",
        }),
      ),
    },
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
