/**
/**
 * Work-queue keys: one per zone (`zone/<namespace>/<DNSZone name>`), one per instance
 * (`instance/<namespace>/<name>`), one per Bind9Cluster (`cluster/<namespace>/<name>`) and
 * one per source of generated records (`source/<namespace>/<Kind>:<name>`, src/sources/
 * wakes.ts), and which zone and instance keys a watch event wakes (`keysFor`).
 */
import type { DNSZone, RecordResource } from '../api/kinds.ts';
import { isInZone, normalizeName } from '../dns/rrset.ts';
import type { KubeObject } from '../kube/client.ts';

export type KeyKind = 'zone' | 'instance' | 'cluster' | 'source';

const KINDS: ReadonlySet<string> = new Set<KeyKind>(['zone', 'instance', 'cluster', 'source']);

export interface ParsedKey {
  readonly kind: KeyKind;
  readonly namespace: string;
  readonly name: string;
}

export const zoneKey = (namespace: string, name: string) => `zone/${namespace}/${name}`;
export const instanceKey = (namespace: string, name: string) => `instance/${namespace}/${name}`;
export const clusterKey = (namespace: string, name: string) => `cluster/${namespace}/${name}`;

export function parseKey(key: string): ParsedKey | undefined {
  const [kind, namespace, name, ...rest] = key.split('/');
  if (kind === undefined || !KINDS.has(kind) || !namespace || !name || rest.length > 0) {
    return undefined;
  }
  return { kind: kind as KeyKind, namespace, name };
}

/** What the controller last saw of an object: relevance.ts's state, and a record's zone. */
export interface Seen {
  readonly state: string;
  readonly zone?: string;
}

/** The caches' DNSZones, by namespace or all (what `keysFor` needs to fan an event out). */
export interface ZoneView {
  zones(namespace?: string): readonly DNSZone[];
}

/** The DNSZone names a record event concerns: its zone, the one before, the one its status names. */
function recordZones(record: RecordResource, previous: Seen | undefined): string[] {
  const zone = record.spec.zone;
  const out: string[] = [];
  // A record moved (`spec.zone` changed): the zone it left removes its RRset.
  if (previous?.zone !== undefined && previous.zone !== zone) out.push(previous.zone);
  // A pointer still naming another zone (a move not finished, or a status write that raced
  // the old zone's release and put it back) wakes that zone too: it takes its RRset out
  // and releases the pointer, and the release wakes this one.
  const pointer = record.status?.zone;
  if (typeof pointer === 'string' && pointer !== zone) out.push(pointer);
  out.push(zone);
  return [...new Set(out)];
}

/**
 * The keys one watch event wakes (STYLE.md habit 6: handlers only map objects to keys):
 * - a Bind9Cluster: itself;
 * - a Bind9Instance: itself, and every zone of its namespace (its labels are what they
 *   select, so any of them may gain or lose it);
 * - a DNSZone: itself, and every DNSZone for the same zone name (a younger one may be
 *   waiting for this one to go: Conflict) or for a zone inside or around it (a child zone
 *   may be allowed or refused by its parent's publish.namespaceSelector, and shadows the
 *   parent's records below it);
 * - a Namespace (its labels): the zones of that namespace and every zone that lets other
 *   namespaces publish in it;
 * - a record: the zones `recordZones` names.
 */
export function keysFor(
  kind: string,
  obj: KubeObject,
  previous: Seen | undefined,
  view: ZoneView,
): string[] {
  const ns = obj.metadata.namespace;
  if (kind === 'Bind9Cluster') return [clusterKey(ns, obj.metadata.name)];
  if (kind === 'Bind9Instance') {
    const zones = view.zones(ns).map((z) => zoneKey(ns, z.metadata.name));
    return [instanceKey(ns, obj.metadata.name), ...zones];
  }
  if (kind === 'DNSZone') {
    const name = normalizeName((obj as DNSZone).spec.zoneName);
    const related = view
      .zones()
      .filter((z) => {
        const other = normalizeName(z.spec.zoneName);
        return isInZone(other, name) || isInZone(name, other);
      })
      .map((z) => zoneKey(z.metadata.namespace, z.metadata.name));
    return [...new Set([zoneKey(ns, obj.metadata.name), ...related])];
  }
  if (kind === 'Namespace') {
    const name = obj.metadata.name;
    return view
      .zones()
      .filter(
        (z) => z.metadata.namespace === name || z.spec.publish?.namespaceSelector !== undefined,
      )
      .map((z) => zoneKey(z.metadata.namespace, z.metadata.name));
  }
  return recordZones(obj as RecordResource, previous).map((zone) => zoneKey(ns, zone));
}
