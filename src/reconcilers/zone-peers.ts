/**
 * A DNSZone among the other DNSZones of the cluster (issue #18): who else would be served
 * by the same server, and what that means.
 *
 * - Zone identity is per server: two DNSZones for one zone name conflict only when they
 *   would be served by the same server (a shared DNS endpoint of their instances), so
 *   split-horizon setups, or two tenants with servers of their own, may use one name.
 * - A zone inside another zone served by the same server (a child) takes every name below
 *   its apex from the parent. It is allowed only when both DNSZones are in one namespace
 *   or the parent's `spec.publish.namespaceSelector` allows the child's namespace;
 *   otherwise the child is a Conflict and is not served. The parent's records below an
 *   allowed child's apex are shadowed: Ready=False, saying which zone serves them now.
 */
import { objectId } from '../api/ids.ts';
import type { Bind9Instance, DNSZone } from '../api/kinds.ts';
import { isInZone, normalizeName } from '../dns/rrset.ts';
import type { ReconcileContext } from './context.ts';
import { type DesiredState, olderFirst } from './desired.ts';
import { selectorMatches } from './selector.ts';
import { selectedInstances } from './zone-instances.ts';

/** The label every namespace carries with its own name (Kubernetes 1.22+). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function endpointOf(instance: Bind9Instance): string {
  return `${instance.spec.dns.address}:${instance.spec.dns.port ?? 53}`;
}

/** The DNS endpoints (address:port) of the instances the zone selects. */
export function endpointsOf(ctx: ReconcileContext, zone: DNSZone): Set<string> {
  return new Set(selectedInstances(ctx, zone).map(endpointOf));
}

/** Whether two zones would be served by one server (a DNS endpoint in common). */
export function shareServer(ctx: ReconcileContext, a: DNSZone, b: DNSZone): boolean {
  const mine = endpointsOf(ctx, a);
  for (const endpoint of endpointsOf(ctx, b)) if (mine.has(endpoint)) return true;
  return false;
}

/** The other DNSZones, in every watched namespace, that share a server with `zone`. */
function peersOf(ctx: ReconcileContext, zone: DNSZone): DNSZone[] {
  const self = objectId(zone.metadata);
  const mine = endpointsOf(ctx, zone);
  if (mine.size === 0) return [];
  return ctx.caches.zones.list().filter((other) => {
    if (objectId(other.metadata) === self) return false;
    for (const endpoint of endpointsOf(ctx, other)) if (mine.has(endpoint)) return true;
    return false;
  });
}

/**
 * The oldest DNSZone for the same zone name on a server this one would be served by, if it
 * is older than this one (DESIGN.md: the oldest wins).
 */
export function olderRival(ctx: ReconcileContext, zone: DNSZone): DNSZone | undefined {
  const name = normalizeName(zone.spec.zoneName);
  const namesakes = peersOf(ctx, zone).filter((z) => normalizeName(z.spec.zoneName) === name);
  const oldest = [...namesakes, zone].sort(olderFirst)[0];
  return oldest === zone ? undefined : oldest;
}

/** Whether `zone` lets DNSZones and generated records of `namespace` publish names in it. */
export function mayPublish(
  ctx: Pick<ReconcileContext, 'caches'>,
  zone: DNSZone,
  namespace: string,
): boolean {
  if (zone.metadata.namespace === namespace) return true;
  const selector = zone.spec.publish?.namespaceSelector;
  if (selector === undefined) return false;
  const labels = ctx.caches.namespaces.get('', namespace)?.metadata.labels ?? {
    [NAMESPACE_NAME_LABEL]: namespace,
  };
  return selectorMatches(selector, labels);
}

/** The nearest zone around this one (a proper parent) on a server they share. */
export function enclosingZone(ctx: ReconcileContext, zone: DNSZone): DNSZone | undefined {
  const name = normalizeName(zone.spec.zoneName);
  const parents = peersOf(ctx, zone).filter((z) => {
    const other = normalizeName(z.spec.zoneName);
    return other !== name && isInZone(name, other);
  });
  // The nearest: the longest name, then the oldest.
  return parents.sort(
    (a, b) => b.spec.zoneName.length - a.spec.zoneName.length || olderFirst(a, b),
  )[0];
}

/** Why `zone` may not be served inside `parent`, or undefined when it may. */
export function nestingRefusal(
  ctx: ReconcileContext,
  zone: DNSZone,
  parent: DNSZone,
): string | undefined {
  if (mayPublish(ctx, parent, zone.metadata.namespace)) return undefined;
  const child = normalizeName(zone.spec.zoneName);
  const around = normalizeName(parent.spec.zoneName);
  return `zone ${child} lies inside zone ${around}, which DNSZone ${objectId(parent.metadata)} serves on the same server and does not let namespace ${zone.metadata.namespace} publish in (its spec.publish.namespaceSelector)`;
}

/** The zones inside this one, on a shared server, that it lets be served there. */
export function childZones(ctx: ReconcileContext, zone: DNSZone): DNSZone[] {
  const name = normalizeName(zone.spec.zoneName);
  return peersOf(ctx, zone).filter((z) => {
    const other = normalizeName(z.spec.zoneName);
    return other !== name && isInZone(other, name) && mayPublish(ctx, zone, z.metadata.namespace);
  });
}

/** RFC 1034 §4.2.1: at a zone cut the parent keeps the delegation (NS, and its DS). */
const DELEGATION_TYPES: ReadonlySet<string> = new Set(['NS', 'DS']);

/**
 * The desired state with the records that child zones shadow taken out: each is Ready=False,
 * ShadowedByChildZone, naming the zone that answers for it now. Nothing is written or removed
 * for them (a refused owner keeps what it wrote, ownership.ts); once the child goes, they
 * are served again. The parent's own NS and glue, and the delegation at a child's apex, stay.
 */
export function withoutShadowed(desired: DesiredState, children: readonly DNSZone[]): DesiredState {
  if (children.length === 0) return desired;
  const outcomes = new Map(desired.outcomes);
  const rrsets = desired.rrsets.filter((rrset) => {
    if (!desired.outcomes.has(rrset.owner)) return true;
    const child = children.find((c) => shadows(normalizeName(c.spec.zoneName), rrset));
    if (child === undefined) return true;
    const message = `${rrset.name} ${rrset.type} is inside zone ${normalizeName(child.spec.zoneName)}, which DNSZone ${objectId(child.metadata)} serves on the same server: that zone answers for this name now, not this one`;
    outcomes.set(rrset.owner, { ok: false, reason: 'ShadowedByChildZone', message });
    return false;
  });
  return { ...desired, rrsets, outcomes };
}

function shadows(childApex: string, rrset: { name: string; type: string }): boolean {
  const name = normalizeName(rrset.name);
  if (!isInZone(name, childApex)) return false;
  return !(name === childApex && DELEGATION_TYPES.has(rrset.type));
}
