/**
 * The keyed work queue (DESIGN.md data flow): events only say *which* key to look at.
 *
 * Guarantees:
 * - a key waiting to run is held once however often it is added (dedup);
 * - at most one run per key at a time: a key added while it runs is run again after;
 * - at most `concurrency` runs at once across keys (p-queue);
 * - transient outcomes retry with exponential backoff and jitter, reset on success;
 * - every key that still exists is re-run after a jittered resync period;
 * - `add(key, { fast: true })` jumps ahead of waiting keys (an instance came back empty).
 */
import PQueue from 'p-queue';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import type { Outcome } from '../reconcilers/outcome.ts';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, jittered } from './backoff.ts';

export type Handler = (key: string) => Promise<Outcome>;

/**
 * Why a run started: `event` (added by a watch event or a caller, also when it merged with
 * a timer), `resync` (the periodic re-check), `retry` (backoff after a transient failure),
 * `requeue` (the reconciler asked to look again). Logged, so drift repair can be told apart.
 */
export type RunCause = 'event' | 'resync' | 'retry' | 'requeue';

export interface QueueOptions {
  readonly handler: Handler;
  readonly clock: Clock;
  readonly concurrency: number;
  readonly resyncMs: number;
  readonly backoff?: BackoffOptions;
  readonly random?: () => number;
  /** Called after each run, for metrics and logs. */
  readonly onDone?: (key: string, outcome: Outcome, durationMs: number, cause: RunCause) => void;
}

interface KeyState {
  queued: boolean;
  running: boolean;
  /** Added again while running: run once more when done. */
  dirty: boolean;
  failures: number;
  timer: TimerHandle | undefined;
  timerAt: number;
  /** Why the waiting (or running) run was started. */
  cause: RunCause;
  /** What the pending timer will start. */
  timerCause: RunCause;
}

export class WorkQueue {
  readonly #options: QueueOptions;
  readonly #pool: PQueue;
  readonly #keys = new Map<string, KeyState>();
  #stopped = false;

  constructor(options: QueueOptions) {
    this.#options = options;
    this.#pool = new PQueue({ concurrency: Math.max(1, options.concurrency) });
  }

  /** Keys waiting to run (not counting those running). */
  get depth(): number {
    let n = 0;
    for (const s of this.#keys.values()) if (s.queued) n++;
    return n;
  }

  get running(): number {
    return this.#pool.pending;
  }

  add(key: string, options: { fast?: boolean } = {}): void {
    this.#enqueue(key, 'event', options.fast ?? false);
  }

  #enqueue(key: string, cause: RunCause, fast: boolean): void {
    if (this.#stopped) return;
    const state = this.#state(key);
    if (state.running) {
      state.dirty = true;
      return;
    }
    if (state.queued) {
      if (cause === 'event') state.cause = 'event';
      return;
    }
    this.#cancelTimer(state);
    state.queued = true;
    state.cause = cause;
    const options = { fast };
    void this.#pool.add(() => this.#run(key), { priority: options.fast ? 1 : 0 });
  }

  /** Runs `key` after `ms` unless it is due sooner already. */
  addAfter(key: string, ms: number, cause: RunCause = 'requeue'): void {
    if (this.#stopped) return;
    const state = this.#state(key);
    const at = this.#options.clock.now() + ms;
    if (state.timer !== undefined && state.timerAt <= at) return;
    this.#cancelTimer(state);
    state.timerAt = at;
    state.timerCause = cause;
    state.timer = this.#options.clock.after(ms, () => {
      state.timer = undefined;
      this.#enqueue(key, state.timerCause, false);
    });
  }

  /**
   * Runs now every key waiting out a backoff after a transient failure: what they waited
   * for is back (the API server answers again), and the longest backoff is minutes.
   */
  retryFailedNow(): number {
    let n = 0;
    for (const [key, state] of this.#keys) {
      if (state.timer === undefined || state.timerCause !== 'retry') continue;
      this.#cancelTimer(state);
      this.#enqueue(key, 'retry', false);
      n++;
    }
    return n;
  }

  /** Stops taking work and timers; resolves when runs in flight have finished. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    for (const s of this.#keys.values()) this.#cancelTimer(s);
    this.#pool.clear();
    await this.#pool.onIdle();
  }

  /** Resolves when nothing is queued or running (timers aside). */
  onIdle(): Promise<void> {
    return this.#pool.onIdle();
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = {
        queued: false,
        running: false,
        dirty: false,
        failures: 0,
        timer: undefined,
        timerAt: 0,
        cause: 'event',
        timerCause: 'requeue',
      };
      this.#keys.set(key, state);
    }
    return state;
  }

  #cancelTimer(state: KeyState): void {
    state.timer?.cancel();
    state.timer = undefined;
  }

  async #run(key: string): Promise<void> {
    const state = this.#state(key);
    state.queued = false;
    if (this.#stopped) return;
    state.running = true;
    state.dirty = false;
    const started = this.#options.clock.now();
    let outcome: Outcome;
    try {
      outcome = await this.#options.handler(key);
    } catch (error) {
      outcome = { result: 'transient', error };
    }
    state.running = false;
    this.#options.onDone?.(key, outcome, this.#options.clock.now() - started, state.cause);
    this.#schedule(key, state, outcome);
  }

  #schedule(key: string, state: KeyState, outcome: Outcome): void {
    if (this.#stopped) return;
    const random = this.#options.random ?? Math.random;
    if (outcome.result === 'transient') {
      state.failures++;
    } else {
      state.failures = 0;
    }
    if (state.dirty) {
      state.dirty = false;
      this.#enqueue(key, 'event', false);
      return;
    }
    switch (outcome.result) {
      case 'gone':
        this.#cancelTimer(state);
        this.#keys.delete(key);
        return;
      case 'transient':
        this.addAfter(
          key,
          backoffDelay(state.failures, this.#options.backoff ?? DEFAULT_BACKOFF, random),
          'retry',
        );
        return;
      case 'requeue':
        this.addAfter(key, outcome.afterMs, 'requeue');
        return;
      case 'ok':
      case 'permanent':
        this.addAfter(key, jittered(this.#options.resyncMs, 0.1, random), 'resync');
        return;
    }
  }
}
