/**
 * Skips `rndc showzone` (ensureZone) for a zone already ensured on an instance that has not
 * changed since (issue #9: one of the three round trips to named in every zone reconcile).
 *
 * A zone counts as ensured on an instance while all of these still hold:
 * - the instance's fingerprint (named's boot time and zone count, from the controller's
 *   health poll) is the one seen when the zone was ensured: a restart or a lost zone
 *   changes it (the self-healing guard);
 * - the ZoneConfig is the same, and so is the instance's endpoint/role/file delivery;
 * - nothing failed since: an error from ensure, read or apply, or a removal, forgets it;
 * - it is younger than `maxAgeMs`, so a zone is looked at with showzone now and then even
 *   on a server that never changes.
 * With no fingerprint (poll not run yet, or the instance down) nothing is skipped.
 *
 * It also notices data loss the poll cannot see (a named wiped before the poll's first
 * reading, or between two readings): ensureZone answering 'created' for a zone known to
 * have been on the instance (ensured here before, or `wasPresent`, i.e. the zone status)
 * means the instance lost it, and most likely its other zones too. `onDataLoss` is told
 * once; the zones it names are then expected to come back 'created' without telling it
 * again, until each has been ensured once.
 */
import { normalizeName, type RRset } from '../dns/rrset.ts';
import type { EnsureResult, Fingerprint, ZoneBackend } from './backend.ts';
import type { ApplyResult } from './executor.ts';
import type { Plan } from './plan.ts';
import type { InstanceTarget } from './target.ts';
import type { ZoneConfig } from './zone-file.ts';

export interface EnsuredCacheOptions {
  readonly inner: ZoneBackend;
  /** The instance's fingerprint as last polled; undefined when unknown or down. */
  readonly fingerprint: (instanceId: string) => Fingerprint | undefined;
  readonly now: () => number;
  /** Default 5 minutes. */
  readonly maxAgeMs?: number;
  /** Whether the zone was on the instance by what others recorded (the DNSZone status). */
  readonly wasPresent?: (instanceId: string, zoneName: string) => boolean;
  /**
   * A zone known present had to be created again: the instance lost data. Returns the
   * names of the zones it will ensure again because of it.
   */
  readonly onDataLoss?: (instanceId: string, zoneName: string) => Iterable<string>;
}

interface Entry {
  readonly stamp: string;
  readonly at: number;
}

/** Everything a cached ensure depends on, as one string. */
export function ensureStamp(target: InstanceTarget, zone: ZoneConfig, fp: Fingerprint): string {
  const { role, dns, rndc, files, primaries } = target;
  return JSON.stringify([
    fp.bootTime,
    fp.zoneCount,
    { role, dns, rndc, primaries },
    files?.where,
    zone,
  ]);
}

export class EnsuredCache implements ZoneBackend {
  readonly #o: EnsuredCacheOptions;
  readonly #entries = new Map<string, Entry>();
  /** By instance: zones ensured there by this process (any answer), until removed. */
  readonly #known = new Map<string, Set<string>>();
  /** Ensures answered from the cache without asking named, with what they would have sent. */
  readonly #skipped = new Map<string, ZoneConfig>();
  /** By instance: zones requeued after a data loss and not ensured since. */
  readonly #rebuilding = new Map<string, Set<string>>();

  constructor(options: EnsuredCacheOptions) {
    this.#o = options;
  }

  /** Zones remembered as ensured (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  async ensureZone(target: InstanceTarget, zone: ZoneConfig): Promise<EnsureResult> {
    const key = keyOf(target.id, zone.name);
    const fp = this.#o.fingerprint(target.id);
    const stamp = fp === undefined ? undefined : ensureStamp(target, zone, fp);
    const entry = this.#entries.get(key);
    const fresh = entry !== undefined && this.#o.now() - entry.at < (this.#o.maxAgeMs ?? 300_000);
    if (stamp !== undefined && fresh && entry.stamp === stamp) {
      this.#skipped.set(key, zone);
      return 'unchanged';
    }
    this.#entries.delete(key);
    this.#skipped.delete(key);
    const result = await this.#o.inner.ensureZone(target, zone);
    this.#noteEnsured(target.id, normalizeName(zone.name), result);
    // The fingerprint read before the call: a restart during it changes the poll's next
    // answer, which then no longer matches.
    if (stamp !== undefined) this.#entries.set(key, { stamp, at: this.#o.now() });
    return result;
  }

  /** Remembers the zone as present; a known one that had to be created is a data loss. */
  #noteEnsured(instanceId: string, zone: string, result: EnsureResult): void {
    const expected = this.#rebuilding.get(instanceId)?.delete(zone) === true;
    const lost = result === 'created' && !expected && this.#wasPresent(instanceId, zone);
    if (!lost) {
      setOf(this.#known, instanceId).add(zone);
      return;
    }
    // Whatever else was cached for this instance may be gone as well: ask named again.
    this.forgetInstance(instanceId);
    this.#known.set(instanceId, new Set([zone]));
    const requeued = new Set(
      [...(this.#o.onDataLoss?.(instanceId, zone) ?? [])].map((z) => normalizeName(z)),
    );
    requeued.delete(zone);
    this.#rebuilding.set(instanceId, requeued);
  }

  #wasPresent(instanceId: string, zone: string): boolean {
    if (this.#known.get(instanceId)?.has(zone) === true) return true;
    return this.#o.wasPresent?.(instanceId, zone) === true;
  }

  async removeZone(target: InstanceTarget, zoneName: string): Promise<void> {
    this.forget(target.id, zoneName);
    // Removed on purpose: a later 'created' is no loss.
    this.#known.get(target.id)?.delete(normalizeName(zoneName));
    this.#rebuilding.get(target.id)?.delete(normalizeName(zoneName));
    await this.#o.inner.removeZone(target, zoneName);
  }

  fingerprint(target: InstanceTarget): Promise<Fingerprint> {
    return this.#o.inner.fingerprint(target);
  }

  probeDns(target: InstanceTarget): Promise<void> {
    return this.#o.inner.probeDns(target);
  }

  async readZone(target: InstanceTarget, zoneName: string): Promise<RRset[]> {
    const skipped = this.#skipped.get(keyOf(target.id, zoneName));
    const read = () => this.#o.inner.readZone(target, zoneName);
    try {
      return await this.#forgetOnError(target, zoneName, read);
    } catch (error) {
      // named answers NOTAUTH for a zone it does not serve, which reads like a key problem
      // (RFC 2136 §2.2 vs RFC 8945 §5.2): when the ensure was skipped here, ask named for
      // real first. A zone it has to create again was lost (see #noteEnsured).
      if (skipped === undefined || (await this.#ensureForReal(target, skipped)) !== 'created') {
        throw error;
      }
      return read();
    }
  }

  /** The real ensure behind one answered from the cache; undefined when it fails too. */
  async #ensureForReal(target: InstanceTarget, zone: ZoneConfig) {
    try {
      const result = await this.#o.inner.ensureZone(target, zone);
      this.#noteEnsured(target.id, normalizeName(zone.name), result);
      return result;
    } catch {
      return undefined;
    }
  }

  apply(target: InstanceTarget, plan: Plan): Promise<ApplyResult> {
    return this.#forgetOnError(target, plan.zone, () => this.#o.inner.apply(target, plan));
  }

  zoneSerial(target: InstanceTarget, zoneName: string): Promise<number | undefined> {
    return this.#o.inner.zoneSerial(target, zoneName);
  }

  retransfer(target: InstanceTarget, zoneName: string): Promise<void> {
    return this.#o.inner.retransfer(target, zoneName);
  }

  /** The next ensure of this zone on this instance asks named again. */
  forget(instanceId: string, zoneName: string): void {
    this.#entries.delete(keyOf(instanceId, zoneName));
    this.#skipped.delete(keyOf(instanceId, zoneName));
  }

  /** Every zone of an instance is asked about again (its spec changed, or it is gone). */
  forgetInstance(instanceId: string): void {
    const prefix = `${instanceId}\u0000`;
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
    for (const key of this.#skipped.keys()) if (key.startsWith(prefix)) this.#skipped.delete(key);
  }

  /** Everything about an instance that is gone. */
  dropInstance(instanceId: string): void {
    this.forgetInstance(instanceId);
    this.#known.delete(instanceId);
    this.#rebuilding.delete(instanceId);
  }

  async #forgetOnError<T>(target: InstanceTarget, zoneName: string, fn: () => Promise<T>) {
    try {
      return await fn();
    } catch (error) {
      // A zone that is not there any more (deleted by hand, named restarted before the
      // poll saw it) fails here first: the retry must ensure it for real.
      this.forget(target.id, zoneName);
      throw error;
    }
  }
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

function keyOf(instanceId: string, zoneName: string): string {
  return `${instanceId}\u0000${normalizeName(zoneName)}`;
}
