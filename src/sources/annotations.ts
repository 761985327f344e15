/**
 * What a source's annotations ask for (issue #15): the names to publish, their TTL and a
 * target that overrides the addresses the object reports.
 *
 * | annotation (ours, or external-dns's behind `--external-dns-annotations`) | value |
 * |---|---|
 * | `dns.bind9-controller.io/hostname` / `external-dns.alpha.kubernetes.io/hostname` | names, comma-separated |
 * | `.../internal-hostname` (Services) | names for the Service's cluster IPs |
 * | `.../ttl` | seconds, or a duration such as `1m30s` |
 * | `.../target` | addresses or one host name, comma-separated, instead of the object's own |
 *
 * Ours win over external-dns's where both are set. A value that is not valid is left out and
 * reported as a problem naming the annotation (an Event on the source); the rest still counts.
 */

import { anchored, IPV4, IPV6, LABEL, MAX_NAME_LENGTH, TOP_LABEL } from '../api/patterns.ts';
import { canonicalIpv6 } from '../api/records.ts';

export const OUR_PREFIX = 'dns.bind9-controller.io/';
export const EXTERNAL_DNS_PREFIX = 'external-dns.alpha.kubernetes.io/';

/** The addresses and host names a name should point at, each sorted, without duplicates. */
export interface Targets {
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly hosts: readonly string[];
}

/** Something wrong with a source's input, naming where it is (an annotation, a field). */
export interface Problem {
  /** The Event's reason: a bad annotation value, or targets that cannot all be published. */
  readonly reason: 'InvalidAnnotation' | 'TargetLeftOut';
  readonly field: string;
  readonly message: string;
}

const invalid = (field: string, message: string): Problem => ({
  reason: 'InvalidAnnotation',
  field,
  message,
});

export interface Annotations {
  readonly hostnames: readonly string[];
  readonly internalHostnames: readonly string[];
  readonly ttl?: number;
  readonly target?: Targets;
}

export const NO_TARGETS: Targets = { ipv4: [], ipv6: [], hosts: [] };

const IPV4_RE = new RegExp(anchored(IPV4));
const IPV6_RE = new RegExp(anchored(IPV6));
const NAME_RE = new RegExp(anchored(`(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*`));
/** A target to point a CNAME at: its last label alphabetic, so a bad address is no host. */
const TARGET_RE = new RegExp(anchored(`(?:${LABEL}\\.)*${TOP_LABEL}`));
const DURATION_RE = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const MAX_TTL = 2_147_483_647;

function canonical(text: string, pattern: RegExp): string | undefined {
  const name = text.trim().toLowerCase().replace(/\.$/, '');
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && pattern.test(name) ? name : undefined;
}

/** A name to publish in canonical form (lower case, no final dot; `*.` leftmost allowed). */
export const hostName = (text: string) => canonical(text, NAME_RE);

/** A host name to point at, in canonical form. */
export const targetHost = (text: string) => canonical(text, TARGET_RE);

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** Addresses and host names as targets; what is neither is returned apart. */
export function toTargets(values: readonly string[]): { targets: Targets; bad: string[] } {
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  const hosts: string[] = [];
  const bad: string[] = [];
  for (const raw of values) {
    const value = raw.trim();
    if (IPV4_RE.test(value)) ipv4.push(value);
    else if (IPV6_RE.test(value)) ipv6.push(canonicalIpv6(value));
    else {
      const host = targetHost(value);
      if (host === undefined) bad.push(value);
      else hosts.push(host);
    }
  }
  return { targets: { ipv4: sorted(ipv4), ipv6: sorted(ipv6), hosts: sorted(hosts) }, bad };
}

export function mergeTargets(all: readonly Targets[]): Targets {
  return {
    ipv4: sorted(all.flatMap((t) => t.ipv4)),
    ipv6: sorted(all.flatMap((t) => t.ipv6)),
    hosts: sorted(all.flatMap((t) => t.hosts)),
  };
}

export function hasTargets(t: Targets): boolean {
  return t.ipv4.length + t.ipv6.length + t.hosts.length > 0;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** Seconds: `300`, or a duration `1h`, `5m`, `1m30s`. */
function parseTtl(text: string): number | undefined {
  const value = text.trim();
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    return n <= MAX_TTL ? n : undefined;
  }
  const m = DURATION_RE.exec(value);
  if (m === null || value === '') return undefined;
  const seconds = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return seconds <= MAX_TTL ? seconds : undefined;
}

type Lookup = (suffix: string) => { field: string; value: string } | undefined;

function lookup(annotations: Readonly<Record<string, string>>, externalDns: boolean): Lookup {
  return (suffix) => {
    for (const prefix of externalDns ? [OUR_PREFIX, EXTERNAL_DNS_PREFIX] : [OUR_PREFIX]) {
      const value = annotations[`${prefix}${suffix}`];
      if (value !== undefined)
        return { field: `metadata.annotations['${prefix}${suffix}']`, value };
    }
    return undefined;
  };
}

function names(found: ReturnType<Lookup>, problems: Problem[]): string[] {
  if (found === undefined) return [];
  const out: string[] = [];
  for (const text of list(found.value)) {
    const name = hostName(text);
    if (name === undefined) {
      problems.push(invalid(found.field, `"${text}" is not a host name; left out`));
    } else out.push(name);
  }
  return sorted(out);
}

function target(found: ReturnType<Lookup>, problems: Problem[]): Targets | undefined {
  if (found === undefined) return undefined;
  const { targets, bad: wrong } = toTargets(list(found.value));
  for (const value of wrong) {
    const message = `"${value}" is neither an IP address nor a host name; left out`;
    problems.push(invalid(found.field, message));
  }
  return hasTargets(targets) ? targets : undefined;
}

/** What the annotations of an object ask for, and what is wrong with them. */
export function readAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
  externalDns: boolean,
): { annotations: Annotations; problems: Problem[] } {
  const find = lookup(annotations ?? {}, externalDns);
  const problems: Problem[] = [];
  const ttlText = find('ttl');
  const ttl = ttlText === undefined ? undefined : parseTtl(ttlText.value);
  if (ttlText !== undefined && ttl === undefined) {
    const message = `"${ttlText.value}" is not a TTL (seconds up to ${MAX_TTL}, or a duration such as 5m); the zone's TTL is used`;
    problems.push(invalid(ttlText.field, message));
  }
  const targetOverride = target(find('target'), problems);
  return {
    annotations: {
      hostnames: names(find('hostname'), problems),
      internalHostnames: names(find('internal-hostname'), problems),
      ...(ttl === undefined ? {} : { ttl }),
      ...(targetOverride === undefined ? {} : { target: targetOverride }),
    },
    problems,
  };
}
