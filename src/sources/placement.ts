/**
 * Where a generated name goes (issue #15): the DNSZone whose `zoneName` is the longest
 * suffix of the name among the zones that let the source's namespace publish
 * (`spec.publish.namespaceSelector`, zone-peers.ts `mayPublish`; by default only the zone's
 * own namespace). Zones being deleted take nothing new. Several DNSZones of that one name
 * (split horizon: one per server) each get the name.
 */
import { objectId } from '../api/ids.ts';
import type { DNSZone } from '../api/kinds.ts';
import { isInZone, normalizeName } from '../dns/rrset.ts';
import { isDeleting, type ReconcileContext } from '../reconcilers/context.ts';
import { olderFirst } from '../reconcilers/desired.ts';
import { mayPublish } from '../reconcilers/zone-peers.ts';

export type Placement =
  | { readonly ok: true; readonly zones: readonly DNSZone[] }
  /** No allowed zone covers the name; `covering` are those that do, without the leave. */
  | { readonly ok: false; readonly covering: readonly DNSZone[] };

export function placeName(
  ctx: Pick<ReconcileContext, 'caches'>,
  hostname: string,
  namespace: string,
): Placement {
  const covering = ctx.caches.zones
    .list()
    .filter((z) => !isDeleting(z) && isInZone(hostname, z.spec.zoneName));
  const allowed = covering.filter((z) => mayPublish(ctx, z, namespace));
  if (allowed.length === 0) return { ok: false, covering };
  const longest = Math.max(...allowed.map((z) => normalizeName(z.spec.zoneName).length));
  const zones = allowed.filter((z) => normalizeName(z.spec.zoneName).length === longest);
  return { ok: true, zones: zones.sort(olderFirst) };
}

/** The Warning for a name no allowed zone covers: which zones would, had they the leave. */
export function unplacedMessage(
  hostname: string,
  namespace: string,
  covering: readonly DNSZone[],
): string {
  const head = `${hostname} is in no DNSZone that lets namespace ${namespace} publish; nothing is published for it`;
  if (covering.length === 0) return head;
  const zones = covering
    .map((z) => `${normalizeName(z.spec.zoneName)} (DNSZone ${objectId(z.metadata)})`)
    .join(', ');
  return `${head} (covered by ${zones}, whose spec.publish.namespaceSelector does not select ${namespace})`;
}
