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
 */
import type { ApplyResult } from '../bind/executor.ts';
import type { Plan } from '../bind/plan.ts';
import type { ZoneConfig } from '../bind/zone-file.ts';
import { normalizeName, type RRset } from '../dns/rrset.ts';
import type { EnsureResult, Fingerprint, InstanceTarget, ZoneBackend } from './backend.ts';

export interface EnsuredCacheOptions {
  readonly inner: ZoneBackend;
  /** The instance's fingerprint as last polled; undefined when unknown or down. */
  readonly fingerprint: (instanceId: string) => Fingerprint | undefined;
  readonly now: () => number;
  /** Default 5 minutes. */
  readonly maxAgeMs?: number;
}

interface Entry {
  readonly stamp: string;
  readonly at: number;
}

/** Everything a cached ensure depends on, as one string. */
export function ensureStamp(target: InstanceTarget, zone: ZoneConfig, fp: Fingerprint): string {
  const { role, dns, rndc, zoneFiles, primaries, primariesPort } = target;
  return JSON.stringify([
    fp.bootTime,
    fp.zoneCount,
    { role, dns, rndc, zoneFiles, primaries, primariesPort },
    zone,
  ]);
}

export class EnsuredCache implements ZoneBackend {
  readonly #o: EnsuredCacheOptions;
  readonly #entries = new Map<string, Entry>();

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
    if (stamp !== undefined && fresh && entry.stamp === stamp) return 'unchanged';
    this.#entries.delete(key);
    const result = await this.#o.inner.ensureZone(target, zone);
    // The fingerprint read before the call: a restart during it changes the poll's next
    // answer, which then no longer matches.
    if (stamp !== undefined) this.#entries.set(key, { stamp, at: this.#o.now() });
    return result;
  }

  async removeZone(target: InstanceTarget, zoneName: string): Promise<void> {
    this.forget(target.id, zoneName);
    await this.#o.inner.removeZone(target, zoneName);
  }

  fingerprint(target: InstanceTarget): Promise<Fingerprint> {
    return this.#o.inner.fingerprint(target);
  }

  probeDns(target: InstanceTarget): Promise<void> {
    return this.#o.inner.probeDns(target);
  }

  readZone(target: InstanceTarget, zoneName: string): Promise<RRset[]> {
    return this.#forgetOnError(target, zoneName, () => this.#o.inner.readZone(target, zoneName));
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
  }

  /** Every zone of an instance is asked about again (its spec changed, or it is gone). */
  forgetInstance(instanceId: string): void {
    const prefix = `${instanceId}\u0000`;
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
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

function keyOf(instanceId: string, zoneName: string): string {
  return `${instanceId}\u0000${normalizeName(zoneName)}`;
}
