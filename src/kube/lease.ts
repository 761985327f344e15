/**
 * Leader election on a coordination.k8s.io/v1 Lease, so two replicas are safe. The
 * client has no helper (KUBERNETES.md); this follows client-go's leaderelection rules:
 *
 * - writes are guarded by resourceVersion, so two candidates never both win;
 * - another holder's lease counts as expired only when its record has not changed for
 *   `leaseDurationMs` of *our* clock (no trust in the other side's clock);
 * - `acquireTime`/`renewTime` are MicroTime (RFC 3339 with microseconds);
 * - release empties `holderIdentity` so a successor need not wait out the duration;
 * - a leader that has not renewed for `renewDeadlineMs` (10 s) stops leading, which is
 *   before any other candidate may take over (`leaseDurationMs`, 15 s, of no change by its
 *   own clock): two replicas never reconcile at once. A failed renewal is retried every
 *   `retryPeriodMs` until then;
 * - candidates retry with jitter (up to +20 %, as client-go), so they do not ask in step,
 *   and watch the Lease meanwhile: a holder that releases it (a pod deleted, a rolling
 *   update) is followed at once by the candidate that was waiting, not by whichever new
 *   process starts first. Without `watch` on leases the candidate only polls.
 */
import type { Logger } from 'pino';
import { isConflict, isNotFound, type Kube, kubeError } from './client.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { microTime } from './rest-kube.ts';

/** The parts of a coordination.k8s.io/v1 Lease we read; the rest is sent back as read. */
interface Lease {
  [field: string]: unknown;
  metadata?: { resourceVersion?: string; [field: string]: unknown };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
    [field: string]: unknown;
  };
}

/** The Lease calls the elector makes (the seam unit tests fill in); the watch is optional. */
export type LeaseStore = Pick<Kube, 'readLease' | 'createLease' | 'replaceLease'> &
  Partial<Pick<Kube, 'watchLease'>>;

export interface LeaseOptions {
  readonly kube: LeaseStore;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly leaseDurationMs?: number;
  /** A leader that could not renew for this long stops leading; below leaseDurationMs. */
  readonly renewDeadlineMs?: number;
  readonly renewPeriodMs?: number;
  readonly retryPeriodMs?: number;
  /** In [0, 1): the jitter's source; default Math.random. */
  readonly random?: () => number;
}

export class LeaderElector {
  readonly #o: Required<LeaseOptions>;
  #observed: { record: string; at: number } | undefined;
  #leading = false;
  #stopped = false;
  #timer: TimerHandle | undefined;
  #deadline: TimerHandle | undefined;
  #onLost: () => void = () => {};

  constructor(options: LeaseOptions) {
    this.#o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      renewPeriodMs: 5_000,
      retryPeriodMs: 2_000,
      random: Math.random,
      ...options,
    };
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Resolves once this process holds the lease (or `stop` was called). */
  acquire(): Promise<void> {
    const watching = new AbortController();
    return new Promise<void>((resolve) => {
      // One attempt at a time; a release seen during one asks for another right after.
      let running = false;
      let again = false;
      const attempt = async (): Promise<void> => {
        if (running) {
          again = true;
          return;
        }
        running = true;
        this.#timer?.cancel();
        const won = !this.#stopped && (await this.#tryAcquireOrRenew());
        running = false;
        if (this.#stopped) return resolve();
        if (won) {
          this.#leading = true;
          this.#renewed();
          this.#o.log.info({ lease: this.#o.name, identity: this.#o.identity }, 'became leader');
          this.#scheduleRenew();
          return resolve();
        }
        if (again) {
          again = false;
          return attempt();
        }
        const wait = this.#o.retryPeriodMs * (1 + 0.2 * this.#o.random());
        this.#timer = this.#o.clock.after(wait, () => void attempt());
      };
      void this.#watchReleases(watching.signal, attempt);
      void attempt();
    }).finally(() => watching.abort());
  }

  /**
   * Until `signal` aborts, tries at once whenever the Lease shows no holder (released) or
   * goes; a watch that ends or fails is opened again after a retry period. Attempts still
   * run on their own schedule whatever the watch does.
   */
  async #watchReleases(signal: AbortSignal, attempt: () => Promise<void>): Promise<void> {
    const watchLease = this.#o.kube.watchLease?.bind(this.#o.kube);
    if (watchLease === undefined) return;
    while (!signal.aborted && !this.#stopped) {
      try {
        for await (const event of watchLease(this.#o.namespace, this.#o.name, signal)) {
          const spec = (event.object as Lease | undefined)?.spec;
          if (this.#leading) return;
          if (event.type === 'DELETED' || (spec !== undefined && !spec.holderIdentity)) {
            await attempt();
          }
        }
      } catch (error) {
        this.#o.log.debug(
          { err: messageOf(error) },
          'lease watch failed; polling only until it opens again',
        );
      }
      await new Promise<void>((r) => {
        const timer = this.#o.clock.after(this.#o.retryPeriodMs, r);
        const onAbort = () => {
          timer.cancel();
          r();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** Called once if the lease is lost while leading (renewals failed past the duration). */
  onLost(callback: () => void): void {
    this.#onLost = callback;
  }

  /** Stops renewing and, if leading, hands the lease back. */
  async release(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#deadline?.cancel();
    if (!this.#leading) return;
    this.#leading = false;
    try {
      const lease = await this.#read();
      if (lease?.spec?.holderIdentity !== this.#o.identity) return;
      lease.spec.holderIdentity = '';
      lease.spec.leaseDurationSeconds = 1;
      await this.#o.kube.replaceLease(this.#o.namespace, this.#o.name, lease);
      this.#o.log.info({ lease: this.#o.name }, 'released leadership');
    } catch (error) {
      this.#o.log.warn({ err: messageOf(error) }, 'could not release lease');
    }
  }

  /**
   * Renews every renewPeriod, and after a failure every retryPeriod. The deadline is a
   * timer of its own, re-armed by each renewal: a renewal that hangs (a request times out
   * only after 30 s) cannot keep this replica leading past it.
   */
  #scheduleRenew(afterMs = this.#o.renewPeriodMs): void {
    this.#timer = this.#o.clock.after(afterMs, async () => {
      if (this.#stopped || !this.#leading) return;
      const ok = await this.#tryAcquireOrRenew().catch(() => false);
      if (this.#stopped || !this.#leading) return;
      if (ok) this.#renewed();
      this.#scheduleRenew(ok ? this.#o.renewPeriodMs : this.#o.retryPeriodMs);
    });
  }

  #renewed(): void {
    this.#deadline?.cancel();
    const since = this.#o.clock.now();
    this.#deadline = this.#o.clock.after(this.#o.renewDeadlineMs, () => this.#lose(since));
  }

  #lose(lastRenew: number): void {
    if (this.#stopped || !this.#leading) return;
    this.#leading = false;
    this.#timer?.cancel();
    this.#o.log.error(
      { lease: this.#o.name, sinceRenewMs: this.#o.clock.now() - lastRenew },
      'lost leadership: could not renew the lease in time',
    );
    this.#onLost();
  }

  async #read(): Promise<Lease | undefined> {
    try {
      return (await this.#o.kube.readLease(this.#o.namespace, this.#o.name)) as Lease | undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw kubeError(`get lease ${this.#o.namespace}/${this.#o.name}`, error);
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#o.clock.now();
    const me = this.#o.identity;
    const durationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    try {
      const lease = await this.#read();
      if (lease === undefined) {
        await this.#o.kube.createLease(this.#o.namespace, {
          metadata: { name: this.#o.name, namespace: this.#o.namespace },
          spec: {
            holderIdentity: me,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        return true;
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      this.#observe(`${holder}|${String(spec.renewTime)}`, now);
      const expired = now - (this.#observed?.at ?? now) >= this.#o.leaseDurationMs;
      if (holder !== '' && holder !== me && !expired) return false;
      const changedHands = holder !== me;
      lease.spec = {
        ...spec,
        holderIdentity: me,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: changedHands || !spec.acquireTime ? microTime(now) : spec.acquireTime,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (changedHands ? 1 : 0),
      };
      await this.#o.kube.replaceLease(this.#o.namespace, this.#o.name, lease);
      return true;
    } catch (error) {
      if (!isConflict(error)) this.#o.log.warn({ err: messageOf(error) }, 'lease attempt failed');
      return false;
    }
  }

  #observe(record: string, now: number): void {
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
