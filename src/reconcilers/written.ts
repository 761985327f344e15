/**
 * What this process may have written for each record resource, per DNSZone: the memory
 * behind renames and moves that the record's status cannot carry yet.
 *
 * A record's status names the RRset it wrote (`status.fqdn`, `status.zone`), but only once
 * it is Ready on every primary, and a reconcile plans from the informer cache, which may
 * not show the status write of the reconcile just before it. A record renamed or moved
 * right after it was created, or while one primary is down, was therefore written under its
 * old name with no status to say so, and the old RRset stayed on named for good.
 *
 * So each zone reconcile notes, before it sends anything, which RRset each record may be
 * given (a timeout can still have applied a message). The next plan of that zone removes
 * what a record was given and no longer declares there: renamed, moved to another zone,
 * deleted, or gone from the cache. A record that is refused now (InvalidSpec, Conflict)
 * keeps what it was given, as the status rule does. Once every primary has run without
 * error, only what is declared now is kept. The status pointer still covers a restart of
 * the controller; this covers everything in between.
 */
import type { DesiredRRset } from '../bind/plan.ts';
import { removalOf } from '../bind/sync.ts';
import { normalizeName, rrsetKey } from '../dns/rrset.ts';

interface Written {
  readonly name: string;
  readonly type: string;
}

export class WrittenLedger {
  /** By zone key, then owner (resourceKey), then rrsetKey. */
  readonly #zones = new Map<string, Map<string, Map<string, Written>>>();

  /** Notes what the plan about to be sent may give each record owner (`live` owners only). */
  intend(zone: string, desired: readonly DesiredRRset[], live: ReadonlySet<string>): void {
    let owners = this.#zones.get(zone);
    for (const r of desired) {
      if (!live.has(r.owner)) continue;
      if (owners === undefined) {
        owners = new Map();
        this.#zones.set(zone, owners);
      }
      let keys = owners.get(r.owner);
      if (keys === undefined) {
        keys = new Map();
        owners.set(r.owner, keys);
      }
      keys.set(rrsetKey(r), { name: normalizeName(r.name), type: r.type });
    }
  }

  /**
   * Removals for what an owner was given here and no longer declares: every RRset of an
   * owner that is not live in the zone any more, and the old RRsets of one that now
   * declares another. A live owner with no RRset now (refused) loses nothing.
   */
  stale(zone: string, desired: readonly DesiredRRset[], live: ReadonlySet<string>): DesiredRRset[] {
    const declared = declaredByOwner(desired);
    const out: DesiredRRset[] = [];
    for (const [owner, keys] of this.#zones.get(zone) ?? []) {
      const now = declared.get(owner);
      if (live.has(owner) && now === undefined) continue;
      for (const [key, at] of keys) if (now !== key) out.push(removalOf(at, owner));
    }
    return out;
  }

  /** After every primary applied the plan: keep only what each live owner declares now. */
  settle(zone: string, desired: readonly DesiredRRset[], live: ReadonlySet<string>): void {
    const owners = this.#zones.get(zone);
    if (owners === undefined) return;
    const declared = declaredByOwner(desired);
    for (const [owner, keys] of owners) {
      const now = declared.get(owner);
      if (!live.has(owner)) owners.delete(owner);
      else if (now !== undefined) for (const key of keys.keys()) if (key !== now) keys.delete(key);
    }
    if (owners.size === 0) this.#zones.delete(zone);
  }

  /** The zone is gone (deleted with delzone): nothing of it is left to remove. */
  forgetZone(zone: string): void {
    this.#zones.delete(zone);
  }

  /** True when the owner may have been given an RRset in this zone and it is not settled. */
  holds(zone: string, owner: string): boolean {
    return (this.#zones.get(zone)?.get(owner)?.size ?? 0) > 0;
  }

  /** Owners remembered, over all zones (for tests). */
  get size(): number {
    let n = 0;
    for (const owners of this.#zones.values()) n += owners.size;
    return n;
  }
}

function declaredByOwner(desired: readonly DesiredRRset[]): Map<string, string> {
  return new Map(desired.map((r) => [r.owner, rrsetKey(r)]));
}
