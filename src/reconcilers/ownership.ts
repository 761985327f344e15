/**
 * The ownership registry: the one answer, per zone, to "which RRset does each record
 * resource own, what may it have written, and what must go" (external-dns keeps the same
 * concern in its `registry/`). The zone reconcile asks it once before it sends anything
 * (`claim`) and tells it once after (`settle`); nothing else decides ownership.
 *
 * What a record may have written in a zone comes from three places, merged into one set:
 * - its status pointer (`status.fqdn`, `status.recordType`, `status.zone`), written once
 *   the record is Ready on every primary: the durable record of steady state;
 * - this process's memory of what it sent and has not seen confirmed by a pointer yet (the
 *   informer cache may not show the pointer write of the reconcile just before);
 * - the zone's `status.unconfirmedWrites`, the same memory written down *before* sending:
 *   a controller restarted between an UPDATE and the pointer write reads it back, so a
 *   record renamed, moved or deleted meanwhile still loses its old RRset.
 *
 * The rules:
 * - one record resource owns one RRset (desired.ts decides who, oldest first);
 * - what a record wrote here and no longer declares here goes (renamed, moved, deleted,
 *   gone from the cache); a live record that declares nothing now (refused) keeps it;
 * - a record whose finalizer is not on it yet (`held`) gets nothing written, and what it
 *   declares is kept exactly as served: never created, changed, removed or pruned;
 * - nothing that a live resource declares is ever removed (sync.ts spares desired and kept
 *   RRsets from every removal, prune included).
 */

import { MAX_UNCONFIRMED_WRITES, type UnconfirmedWrite } from '../api/dnszone.ts';
import { objectId, resourceKey } from '../api/ids.ts';
import type { DNSZone, RecordResource } from '../api/kinds.ts';
import { declaredRRset } from '../api/records.ts';
import type { DesiredRRset } from '../bind/plan.ts';
import { removalOf } from '../bind/sync.ts';
import { fqdn, normalizeName, type RRset, rrsetKey } from '../dns/rrset.ts';
import { type Caches, isDeleting } from './context.ts';
import type { DesiredState } from './desired.ts';

/** One RRset a record may have written: its owner (`resourceKey`), name and type. */
export interface Written {
  readonly owner: string;
  readonly name: string;
  readonly type: string;
}

/** The record resources that concern one zone, by their state. */
export interface ZoneOwners {
  /** Name the zone, finalizer on: their RRsets are written. */
  readonly live: readonly RecordResource[];
  /** Name the zone, finalizer not on yet: their RRsets are kept as served. */
  readonly held: readonly RecordResource[];
  /** Name the zone and are being deleted. */
  readonly deleting: readonly RecordResource[];
  /** Name another zone now, while their status says they wrote through this one. */
  readonly departed: readonly RecordResource[];
}

/** The RRset key (dns/rrset.ts) of an entry, whose type comes from a status as text. */
const keyOf = (w: Pick<Written, 'name' | 'type'>) => rrsetKey(w as Pick<RRset, 'name' | 'type'>);

/** The RRset a record's status says it wrote, and through which DNSZone (by name). */
export function pointerOf(r: RecordResource): (Written & { readonly zone: string }) | undefined {
  const s = r.status;
  if (s?.fqdn === undefined || s.recordType === undefined) return undefined;
  // Statuses written before `zone` was recorded wrote through the zone the spec names.
  const zone = typeof s.zone === 'string' ? s.zone : r.spec.zone;
  return { owner: resourceKey(r), name: normalizeName(s.fqdn), type: s.recordType, zone };
}

/** Written entries by owner, then RRset key. */
class WrittenSet {
  readonly byOwner = new Map<string, Map<string, Written>>();

  add(w: Written): void {
    let keys = this.byOwner.get(w.owner);
    if (keys === undefined) {
      keys = new Map();
      this.byOwner.set(w.owner, keys);
    }
    keys.set(keyOf(w), { owner: w.owner, name: normalizeName(w.name), type: w.type });
  }

  all(): Written[] {
    return [...this.byOwner.values()].flatMap((keys) => [...keys.values()]);
  }
}

function setOf(written: readonly Written[]): WrittenSet {
  const set = new WrittenSet();
  for (const w of written) set.add(w);
  return set;
}

function fromStatus(w: UnconfirmedWrite): Written {
  return { owner: w.owner, name: normalizeName(w.fqdn), type: w.type };
}

/** The zone status form, sorted so equal lists compare equal. */
export function toStatus(written: readonly Written[]): UnconfirmedWrite[] {
  return written
    .map((w) => ({ owner: w.owner, fqdn: fqdn(w.name), type: w.type }))
    .sort((a, b) => (`${a.owner} ${a.fqdn} ${a.type}` < `${b.owner} ${b.fqdn} ${b.type}` ? -1 : 1));
}

/** What one zone reconcile may do, as the registry decided it before anything is sent. */
export interface Claim {
  /** The zone, `namespace/name`. */
  readonly zone: string;
  /** What the zone and its live records get written. */
  readonly desired: readonly DesiredRRset[];
  /** What held records declare: left exactly as served. */
  readonly keep: readonly Pick<RRset, 'name' | 'type'>[];
  /** What records wrote here and no longer declare here. */
  readonly removals: readonly DesiredRRset[];
  /** Everything the zone may hold that no record status names: to write down before sending. */
  readonly unconfirmed: readonly Written[];
  /** Live records held back this round: the zone status could not list more (requeue). */
  readonly heldBack: ReadonlySet<string>;
  /** Owners of records that name this zone now (live or held). */
  readonly liveHere: ReadonlySet<string>;
  /** Owner → the RRset key its pointer names in this zone. */
  readonly confirmed: ReadonlyMap<string, string>;
}

/** Owner → the RRset key its pointer names in `zoneName`, over every record that concerns it. */
function pointersIn(owners: ZoneOwners, zoneName: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of [...owners.live, ...owners.held, ...owners.deleting, ...owners.departed]) {
    const p = pointerOf(r);
    if (p !== undefined && p.zone === zoneName) out.set(p.owner, keyOf(p));
  }
  return out;
}

/** The RRset a deleted record declares, for one with no trace of what it wrote. */
function declaredRemoval(r: RecordResource, zone: DNSZone): DesiredRRset | undefined {
  try {
    const rrset = declaredRRset(r, normalizeName(zone.spec.zoneName), zone.spec.ttl ?? 3600);
    return removalOf(rrset, resourceKey(r));
  } catch {
    // A spec that never made an RRset has nothing to remove.
    return undefined;
  }
}

/** Removals: each owner's written RRsets that it does not declare here now. */
function removalsOf(
  wrote: WrittenSet,
  liveHere: ReadonlySet<string>,
  declared: ReadonlyMap<string, DesiredRRset>,
): DesiredRRset[] {
  const out: DesiredRRset[] = [];
  for (const [owner, keys] of wrote.byOwner) {
    const now = liveHere.has(owner) ? declared.get(owner) : undefined;
    // A live record refused now (Conflict, InvalidSpec) keeps what it wrote until it is
    // fixed or deleted.
    if (liveHere.has(owner) && now === undefined) continue;
    for (const [key, w] of keys)
      if (now === undefined || rrsetKey(now) !== key) out.push(removalOf(w, owner));
  }
  return out;
}

export class Ownership {
  /** By zone (`namespace/name`): what this process may have written and not seen confirmed. */
  readonly #memory = new Map<string, WrittenSet>();
  /** By zone: the `unconfirmedWrites` last written (or first read): as JSON, and by entry. */
  readonly #persisted = new Map<string, { readonly json: string; readonly keys: Set<string> }>();

  /**
   * Decides the round of one zone: what is written, kept and removed, and what must be
   * written down first. Until `settle`, everything the round may send counts as written;
   * `sends` false (no primary selected) means nothing will be.
   */
  claim(zone: DNSZone, owners: ZoneOwners, desired: DesiredState, sends = true): Claim {
    const id = objectId(zone.metadata);
    const confirmed = pointersIn(owners, zone.metadata.name);
    const wrote = this.#wrote(id, zone, owners, confirmed);
    const liveHere = new Set([...owners.live, ...owners.held].map(resourceKey));
    const declared = new Map(desired.rrsets.map((r) => [r.owner, r]));
    const removals = removalsOf(wrote, liveHere, declared);
    for (const r of owners.deleting) {
      if (wrote.byOwner.has(resourceKey(r))) continue;
      const removal = declaredRemoval(r, zone);
      if (removal !== undefined) removals.push(removal);
    }
    const live = new Set(owners.live.map(resourceKey));
    const held = new Set(owners.held.map(resourceKey));
    const unsure = (w: Pick<Written, 'owner' | 'name' | 'type'>) =>
      confirmed.get(w.owner) !== keyOf(w);
    const isIntent = (r: DesiredRRset) => live.has(r.owner) && unsure(r);
    const heldBack = overflow(desired.rrsets.filter(isIntent), wrote.all().filter(unsure).length);
    const writes = desired.rrsets.filter((r) => !held.has(r.owner) && !heldBack.has(r.owner));
    if (sends) for (const r of writes.filter(isIntent)) wrote.add(r);
    // From here on, everything this round may send counts as written (a timeout can still
    // have applied a message); what a record status confirms needs no memory.
    const unconfirmed = wrote.all().filter(unsure);
    this.#memory.set(id, setOf(unconfirmed));
    const kept = desired.rrsets.filter((r) => held.has(r.owner) || heldBack.has(r.owner));
    return {
      zone: id,
      desired: writes,
      keep: kept.map((r) => ({ name: r.name, type: r.type })),
      removals,
      unconfirmed,
      heldBack,
      liveHere,
      confirmed,
    };
  }

  /** Everything the zone may hold per owner; memory the cache now confirms is dropped. */
  #wrote(id: string, zone: DNSZone, owners: ZoneOwners, confirmed: Map<string, string>) {
    const wrote = new WrittenSet();
    for (const w of this.#memory.get(id)?.all() ?? []) {
      if (confirmed.get(w.owner) !== keyOf(w)) wrote.add(w);
    }
    const persisted = zone.status?.unconfirmedWrites ?? [];
    if (!this.#persisted.has(id)) this.#note(id, toStatus(persisted.map(fromStatus)));
    for (const w of persisted) wrote.add(fromStatus(w));
    for (const r of [...owners.live, ...owners.held, ...owners.deleting, ...owners.departed]) {
      const p = pointerOf(r);
      if (p !== undefined && p.zone === zone.metadata.name) wrote.add(p);
    }
    return wrote;
  }

  /** True when the claim's list must be written down before anything is sent. */
  mustPersist(claim: Claim): boolean {
    const persisted = this.#persisted.get(claim.zone)?.keys ?? new Set<string>();
    return claim.unconfirmed.some((w) => !persisted.has(`${w.owner} ${keyOf(w)}`));
  }

  /** Notes what the zone status now says (after a successful write of it). */
  persisted(claim: Claim, list: readonly UnconfirmedWrite[]): void {
    this.#note(claim.zone, list);
  }

  #note(id: string, list: readonly UnconfirmedWrite[]): void {
    const keys = new Set(list.map((w) => `${w.owner} ${keyOf(fromStatus(w))}`));
    this.#persisted.set(id, { json: JSON.stringify(list), keys });
  }

  /** True when `list` is not what the zone status says already. */
  differs(claim: Claim, list: readonly UnconfirmedWrite[]): boolean {
    return this.#persisted.get(claim.zone)?.json !== JSON.stringify(list);
  }

  /**
   * After the round: when every primary applied it (`applied`), each live record keeps only
   * what it declares now, and what others held is gone; otherwise everything stays. Returns
   * what the zone status must list: what may be served with no record status naming it,
   * `pointed` being the owners whose pointer this round just wrote (owner → RRset key).
   */
  settle(claim: Claim, applied: boolean, pointed: ReadonlyMap<string, string>): UnconfirmedWrite[] {
    const memory = this.#memory.get(claim.zone) ?? new WrittenSet();
    if (applied) {
      const declared = new Map(claim.desired.map((r) => [r.owner, rrsetKey(r)]));
      for (const [owner, keys] of memory.byOwner) {
        const now = declared.get(owner);
        if (!claim.liveHere.has(owner)) memory.byOwner.delete(owner);
        else if (now !== undefined)
          for (const key of keys.keys()) if (key !== now) keys.delete(key);
      }
    }
    const sure = (w: Written) =>
      claim.confirmed.get(w.owner) === keyOf(w) || pointed.get(w.owner) === keyOf(w);
    return toStatus(memory.all().filter((w) => !sure(w)));
  }

  /**
   * Whether a record may hold an RRset in this zone: its status says so, this process may
   * have given it one, or the zone's status wrote down that it may have.
   */
  mayHold(zone: DNSZone, r: RecordResource): boolean {
    const owner = resourceKey(r);
    const p = pointerOf(r);
    if (p !== undefined && p.zone === zone.metadata.name) return true;
    if (this.#memory.get(objectId(zone.metadata))?.byOwner.has(owner) === true) return true;
    return (zone.status?.unconfirmedWrites ?? []).some((w) => w.owner === owner);
  }

  /** The zone is gone (deleted with delzone): nothing of it is left to remove. */
  forgetZone(id: string): void {
    this.#memory.delete(id);
    this.#persisted.delete(id);
  }

  /** Entries remembered over all zones (tests). */
  get size(): number {
    let n = 0;
    for (const set of this.#memory.values()) n += set.all().length;
    return n;
  }
}

/**
 * Live owners to hold back so that the zone status lists at most MAX_UNCONFIRMED_WRITES:
 * the last of the new writes, in plan order. A burst larger than that is written in a few
 * rounds instead of one.
 */
function overflow(intents: readonly DesiredRRset[], unsure: number): Set<string> {
  const room = Math.max(0, MAX_UNCONFIRMED_WRITES - unsure);
  return new Set(intents.slice(room).map((r) => r.owner));
}

/**
 * The other, still existing DNSZone a record wrote its RRset through, while that zone has
 * not taken it out (a move not finished): the record's pointer keeps naming it, so that
 * zone's reconcile finds it, and a deleted record waits for it.
 */
export function zoneHoldingPointer(caches: Caches, r: RecordResource): string | undefined {
  const p = pointerOf(r);
  if (p === undefined || p.zone === r.spec.zone) return undefined;
  const other = caches.zones.get(r.metadata.namespace, p.zone);
  return other !== undefined && !isDeleting(other) ? p.zone : undefined;
}

/** Records that wrote an RRset through this DNSZone and now name another (`spec.zone` changed). */
export function departedFrom(caches: Caches, zone: DNSZone): RecordResource[] {
  const name = zone.metadata.name;
  const out: RecordResource[] = [];
  for (const store of caches.records.values()) {
    for (const r of store.list(zone.metadata.namespace)) {
      if (r.spec.zone !== name && pointerOf(r)?.zone === name) out.push(r);
    }
  }
  return out;
}
