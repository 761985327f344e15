/**
 * The desired state of one zone: from a DNSZone and its record resources to the RRsets the
 * zone should hold, and for each resource whether it gets its RRset or why not. Pure: the
 * controller calls it with objects from its caches, the CLI with objects read from files.
 *
 * Ownership rules (DESIGN.md, "Ownership"):
 * - one record resource owns one RRset (name, type); the zone itself owns its apex NS and
 *   the glue of its in-zone name servers, ahead of any record resource;
 * - a second resource for an owned RRset gets `Conflict`; the oldest wins (creation time,
 *   then namespace/name);
 * - a CNAME cannot share its name with other data (RFC 1034 §3.6.2), and a server silently
 *   ignores an UPDATE that would make it (RFC 2136 §3.4.2.2), so the younger of the two gets
 *   `CnameConflict` here, before anything is sent;
 * - a name outside the zone gets `NameOutsideZone` (the server would answer NOTZONE).
 */
import type { DNSZoneSpec } from '../api/dnszone.ts';
import { zoneNameServers } from '../api/dnszone.ts';
import { objectId, resourceKey } from '../api/ids.ts';
import type { ObjectMeta } from '../api/meta.ts';
import { canonicalIpv6, declaredRRset, isRecordKind, type RecordSpec } from '../api/records.ts';
import { formatIssues, validateSpec } from '../api/validate.ts';
import type { DesiredRRset } from '../bind/plan.ts';
import type { ZoneConfig } from '../bind/zone-file.ts';
import {
  absoluteName,
  compareRRsets,
  fqdn,
  isInZone,
  normalizeName,
  type RRset,
  rrsetKey,
} from '../dns/rrset.ts';

/** The parts of a DNSZone this code reads (a `DNSZone` from src/api fits). */
export interface ZoneObject {
  readonly metadata: ObjectMeta;
  readonly spec: DNSZoneSpec;
}

/** The parts of a record resource this code reads (any `RecordResource` fits). */
export interface RecordObject {
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly spec: RecordSpec;
}

export type RefusalReason =
  | 'Conflict'
  | 'InvalidSpec'
  | 'NameOutsideZone'
  | 'CnameConflict'
  /** A child zone on the same server answers for the name (zone-peers.ts). */
  | 'ShadowedByChildZone';

export type Outcome =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: RefusalReason;
      readonly field?: string;
      readonly message: string;
    };

export interface DesiredState {
  /** The zone, absolute, lower-case, without the final dot. */
  readonly zone: string;
  /** Sorted by name, then type. */
  readonly rrsets: DesiredRRset[];
  /** One entry per record resource of the zone, by `resourceKey`. */
  readonly outcomes: Map<string, Outcome>;
}

/** Zone TTL when the object carries none (the schema default, as the API server fills it). */
const DEFAULT_ZONE_TTL = 3600;

function creationTime(metadata: ObjectMeta): number {
  const t =
    metadata.creationTimestamp === undefined ? Number.NaN : Date.parse(metadata.creationTimestamp);
  // Not yet created (a manifest file): younger than anything that exists.
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** Oldest first: creation time, then namespace/name, then kind (a total order). */
export function olderFirst(
  a: { readonly kind: string; readonly metadata: ObjectMeta },
  b: { readonly kind: string; readonly metadata: ObjectMeta },
): number {
  const ta = creationTime(a.metadata);
  const tb = creationTime(b.metadata);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = objectId(a.metadata);
  const nb = objectId(b.metadata);
  if (na !== nb) return na < nb ? -1 : 1;
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/** The zone as src/bind renders and ensures it: names absolute, defaults filled in. */
export function zoneConfigOf(zone: ZoneObject): ZoneConfig {
  const name = normalizeName(zone.spec.zoneName);
  const soa = zone.spec.soaRecord;
  return {
    name,
    ttl: zone.spec.ttl ?? DEFAULT_ZONE_TTL,
    soa: {
      primaryNs: absoluteName(soa.primaryNs, name),
      adminEmail: soa.adminEmail,
      serial: soa.serial ?? 1,
      refresh: soa.refresh ?? 3600,
      retry: soa.retry ?? 900,
      expire: soa.expire ?? 1209600,
      negativeTtl: soa.negativeTtl ?? 300,
    },
    nameServers: zoneNameServers(zone.spec).map((ns) => ({
      hostname: absoluteName(ns.hostname, name),
      ...(ns.ipv4Address === undefined ? {} : { ipv4Address: ns.ipv4Address }),
      ...(ns.ipv6Address === undefined ? {} : { ipv6Address: ns.ipv6Address }),
    })),
  };
}

/** True when the record resource names this zone, in the zone's namespace. */
export function belongsToZone(record: RecordObject, zone: ZoneObject): boolean {
  return (
    record.spec.zone === zone.metadata.name && record.metadata.namespace === zone.metadata.namespace
  );
}

/**
 * What the zone itself declares: the apex NS (its `nameServers`, by default the SOA's
 * primary NS) and glue A/AAAA for the name servers inside the zone (RFC 1034 §4.2.1).
 */
export function zoneOwnedRRsets(zone: ZoneObject): DesiredRRset[] {
  const apex = normalizeName(zone.spec.zoneName);
  const ttl = zone.spec.ttl ?? DEFAULT_ZONE_TTL;
  const owner = resourceKey({ kind: 'DNSZone', metadata: zone.metadata });
  const servers = zoneNameServers(zone.spec);
  const hosts = [...new Set(servers.map((s) => absoluteName(s.hostname, apex)))];
  const rrsets: DesiredRRset[] = [
    { name: apex, type: 'NS', ttl, rdata: hosts.map((host) => ({ host })), owner },
  ];
  const glue = new Map<string, { v4: Set<string>; v6: Set<string> }>();
  for (const s of servers) {
    const host = absoluteName(s.hostname, apex);
    if (!isInZone(host, apex)) continue;
    const g = glue.get(host) ?? { v4: new Set(), v6: new Set() };
    if (s.ipv4Address !== undefined) g.v4.add(s.ipv4Address);
    if (s.ipv6Address !== undefined) g.v6.add(canonicalIpv6(s.ipv6Address));
    glue.set(host, g);
  }
  for (const [name, g] of glue) {
    if (g.v4.size > 0)
      rrsets.push({
        name,
        type: 'A',
        ttl,
        rdata: [...g.v4].map((address) => ({ address })),
        owner,
      });
    if (g.v6.size > 0)
      rrsets.push({
        name,
        type: 'AAAA',
        ttl,
        rdata: [...g.v6].map((address) => ({ address })),
        owner,
      });
  }
  return rrsets;
}

type Built = { ok: true; rrset: RRset } | { ok: false; outcome: Outcome };

function refused(reason: RefusalReason, field: string, message: string): Built {
  return { ok: false, outcome: { ok: false, reason, field, message } };
}

/** The RRset one record resource declares, or why it declares none. */
function buildRRset(record: RecordObject, apex: string, ttl: number): Built {
  const kind = record.kind;
  if (!isRecordKind(kind)) {
    return refused('InvalidSpec', 'kind', `${kind} is not a record kind`);
  }
  // The API server enforced the schema, not the rules it cannot express (a CNAME at the
  // apex, a null MX beside others, an apex NSRecord, names too long once the zone is known).
  const valid = validateSpec(kind, record.spec, { zoneName: apex });
  if (!valid.ok) {
    return refused('InvalidSpec', valid.errors[0]?.field ?? 'spec', formatIssues(valid.errors));
  }
  let rrset: RRset;
  try {
    rrset = declaredRRset({ kind, spec: record.spec }, apex, ttl);
  } catch (error) {
    // The schema normally catches malformed values first; this is the last guard.
    const message = error instanceof Error ? error.message : String(error);
    return refused('InvalidSpec', 'spec', message);
  }
  if (!isInZone(rrset.name, apex)) {
    const message = `${fqdn(rrset.name)} is not in zone ${fqdn(apex)}`;
    return refused('NameOutsideZone', 'spec.name', message);
  }
  return { ok: true, rrset };
}

/** Who holds what so far: RRset keys and, per name, the types and their owners. */
export interface Claims {
  readonly byKey: Map<string, string>;
  readonly byName: Map<string, Map<string, string>>;
}

function claim(claims: Claims, rrset: RRset, owner: string): void {
  claims.byKey.set(rrsetKey(rrset), owner);
  const name = normalizeName(rrset.name);
  const types = claims.byName.get(name) ?? new Map<string, string>();
  types.set(rrset.type, owner);
  claims.byName.set(name, types);
}

/** Why `rrset` cannot be given to a younger resource, or undefined when it can. */
export function conflictWith(claims: Claims, rrset: RRset): Outcome | undefined {
  const holder = claims.byKey.get(rrsetKey(rrset));
  if (holder !== undefined) {
    const message = `${fqdn(rrset.name)} ${rrset.type} is already declared by ${holder}`;
    return { ok: false, reason: 'Conflict', field: 'spec.name', message };
  }
  const atName = claims.byName.get(normalizeName(rrset.name)) ?? new Map<string, string>();
  const cname = atName.get('CNAME');
  const other = [...atName.entries()].find(([type]) => type !== 'CNAME');
  const clash = rrset.type === 'CNAME' ? other : cname === undefined ? undefined : ['CNAME', cname];
  if (clash === undefined) return undefined;
  const message = `${fqdn(rrset.name)}: a CNAME cannot share its name with other data (${clash[0]} declared by ${clash[1]})`;
  return { ok: false, reason: 'CnameConflict', field: 'spec.name', message };
}

/** Gives a record resource its RRset if it may have it; says why not otherwise. */
function admit(record: RecordObject, zone: { apex: string; ttl: number }, claims: Claims) {
  const built = buildRRset(record, zone.apex, zone.ttl);
  if (!built.ok) return { outcome: built.outcome };
  const conflict = conflictWith(claims, built.rrset);
  if (conflict !== undefined) return { outcome: conflict };
  claim(claims, built.rrset, resourceKey(record));
  return { outcome: { ok: true } as const, rrset: built.rrset };
}

/** The desired RRsets of one zone and the outcome for each of its record resources. */
export function desiredState(zone: ZoneObject, records: readonly RecordObject[]): DesiredState {
  const apex = normalizeName(zone.spec.zoneName);
  const ttl = zone.spec.ttl ?? DEFAULT_ZONE_TTL;
  const claims: Claims = { byKey: new Map(), byName: new Map() };
  const rrsets = zoneOwnedRRsets(zone);
  for (const r of rrsets) claim(claims, r, r.owner);
  const outcomes = new Map<string, Outcome>();
  for (const record of records.filter((r) => belongsToZone(r, zone)).sort(olderFirst)) {
    const owner = resourceKey(record);
    const { outcome, rrset } = admit(record, { apex, ttl }, claims);
    outcomes.set(owner, outcome);
    if (rrset !== undefined) rrsets.push({ ...rrset, owner });
  }
  rrsets.sort(compareRRsets);
  return { zone: apex, rrsets, outcomes };
}
