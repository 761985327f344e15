/**
 * `plan`'s backend: the sync loop runs as for `apply`, but nothing is changed on the server.
 * A zone `apply --rndc` would create is reported and read as its base file will hold it; a
 * zone the server does not serve (no `--rndc`) is read the same way and reported; a plan is
 * kept instead of sent, and answered as if every message had been accepted.
 */
import type { EnsureResult, Fingerprint, ZoneBackend } from '../bind/backend.ts';
import { type ApplyResult, messagesOf } from '../bind/executor.ts';
import type { Plan } from '../bind/plan.ts';
import type { InstanceTarget } from '../bind/target.ts';
import type { ZoneConfig } from '../bind/zone-file.ts';
import { ensureNeeded } from '../bind/zones.ts';
import { type DnsClient, updateMessageSize } from '../dns/client.ts';
import { normalizeName, type RRset } from '../dns/rrset.ts';
import { PermanentError } from '../errors.ts';
import { notServed } from './target.ts';

export class DryRun implements ZoneBackend {
  /** Zones `apply` would create over rndc. */
  readonly toCreate = new Set<string>();
  /** Zones the server does not serve, with no `--rndc` to create them. */
  readonly unserved = new Set<string>();
  readonly #inner: ZoneBackend;
  readonly #client: DnsClient;
  readonly #base: (zone: string) => RRset[];

  /** `base`: what a zone holds right after its creation (its base file's apex NS and glue). */
  constructor(inner: ZoneBackend, client: DnsClient, base: (zone: string) => RRset[]) {
    this.#inner = inner;
    this.#client = client;
    this.#base = base;
  }

  async ensureZone(target: InstanceTarget, zone: ZoneConfig): Promise<EnsureResult> {
    const needed = await ensureNeeded(target, zone);
    if (needed === 'created') this.toCreate.add(normalizeName(zone.name));
    return needed;
  }

  async readZone(target: InstanceTarget, zoneName: string): Promise<RRset[]> {
    const zone = normalizeName(zoneName);
    if (this.toCreate.has(zone)) return this.#base(zone);
    try {
      return await this.#inner.readZone(target, zone);
    } catch (error) {
      if (!(await notServed(this.#client, target.dns, zone, error))) throw error;
      this.unserved.add(zone);
      return this.#base(zone);
    }
  }

  async apply(target: InstanceTarget, plan: Plan): Promise<ApplyResult> {
    const messages = messagesOf(plan, target.tsigKey, { measure: updateMessageSize });
    return { applied: [...plan.changes], rejected: [], messages: messages.length };
  }

  removeZone(): Promise<void> {
    return Promise.reject(new PermanentError('DRY_RUN', 'plan removes no zone'));
  }

  fingerprint(target: InstanceTarget): Promise<Fingerprint> {
    return this.#inner.fingerprint(target);
  }

  probeDns(target: InstanceTarget): Promise<void> {
    return this.#inner.probeDns(target);
  }

  zoneSerial(target: InstanceTarget, zoneName: string): Promise<number | undefined> {
    return this.#inner.zoneSerial(target, zoneName);
  }

  retransfer(): Promise<void> {
    return Promise.reject(new PermanentError('DRY_RUN', 'plan asks for no transfer'));
  }
}
