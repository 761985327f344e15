/**
 * The patterns and limits of the API's names and addresses as plain strings and numbers,
 * with no schema library behind them: the controller's run path (semantics.ts) reads them,
 * and fields.ts builds the schemas from them.
 *
 * Every pattern here must mean the same thing to ajv (ECMAScript regexps, used by
 * `validateResource`) and to kube-apiserver (Go's RE2), so they use only the common
 * subset: no lookarounds, no backreferences, no `\d` inside classes, counted repeats
 * below 1000. Patterns are anchored explicitly because Kubernetes does not anchor them.
 */

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

/** A label value: empty, or up to 63 alphanumerics with inner `-`, `_`, `.`. */
export const LABEL_VALUE = '(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?';

/**
 * The last label of a host name to connect to starts with a letter (RFC 1123 §2.1: top-level
 * labels are alphabetic), so `10.0.0.256` is a bad address rather than a host name.
 */
export const TOP_LABEL = '[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';

/** A Kubernetes object name (RFC 1123 subdomain), e.g. a Secret or a DNSZone. */
export const OBJECT_NAME = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*';

/**
 * An SOA RNAME written as a mail address. The local part becomes one label of the RNAME,
 * dots included: `dns.admin@example.com` is `dns\.admin.example.com.` (RFC 1035 §8). Its
 * 63-octet bound is checked with the other rules a pattern cannot state (semantics.ts).
 */
export const ADMIN_EMAIL = `[A-Za-z0-9_+-]+(?:\\.[A-Za-z0-9_+-]+)*@${DOTTED_NAME}\\.?`;

/** An IPv4 prefix length, 0..32. */
const V4_PREFIX = '(?:3[0-2]|[12]?[0-9])';
/** An IPv6 prefix length, 0..128. */
const V6_PREFIX = '(?:12[0-8]|1[01][0-9]|[1-9]?[0-9])';

/**
 * One element of a named.conf address match list (allow-query, exempt-clients): a
 * built-in name, an address or a prefix, optionally negated with `!`. Nothing else: the
 * element is written into named.conf as it is, so no quote, brace or `;` can pass.
 */
export const ADDRESS_MATCH = `!?(?:any|none|localhost|localnets|${IPV4}(?:/${V4_PREFIX})?|${IPV6}(?:/${V6_PREFIX})?)`;

/** A Kubernetes resource quantity (`50m`, `64Mi`, `1.5`, `1e3`), never negative. */
export const QUANTITY =
  '(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))?';

const IMAGE_PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';

/**
 * A container image reference: an optional registry host (with a port), path components,
 * then a tag and/or a sha256 digest (the grammar of the distribution reference, narrowed).
 */
export const IMAGE = `(?:[A-Za-z0-9.-]+(?::[0-9]{1,5})?/)?${IMAGE_PART}(?:/${IMAGE_PART})*(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@sha256:[a-f0-9]{64})?`;

/** A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of 1..63. */
export const QUALIFIED_NAME = `(?:${OBJECT_NAME}/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?`;

/**
 * A Bind9Cluster's name: an RFC 1035 label (Service names must start with a letter), at most
 * 40 characters, so that `<name>-secondary-<n>` stays a valid pod host name and label value
 * and the StatefulSets' revision labels stay within 63 characters.
 */
export const CLUSTER_NAME = '[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?';
export const MAX_CLUSTER_NAME_LENGTH = 40;
