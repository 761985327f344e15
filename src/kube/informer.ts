/**
 * A list+watch cache of one kind that does not give up, as client-go's reflector:
 *
 * - list (paged), then watch from the list's resourceVersion; each event updates the cache
 *   and is handed to `onChange`;
 * - a watch that ends (the server's timeout) resumes from the last resourceVersion seen,
 *   after a 0.5 s pause if it brought no event at all (no tight loop against a server that
 *   ends watches at once);
 * - 410 Gone (the version left the server's watch cache) relists at once, and the relist
 *   is diffed against the cache: what changed or vanished meanwhile is reported as
 *   update/delete, so no event is lost;
 * - any other error is retried with exponential backoff (0.5 s doubling) and jitter, so
 *   many informers do not retry in step (watchBackoff). A server that does not answer at all
 *   is cheap to ask again and is asked at least every 2 s: after an outage the cache is
 *   fresh within seconds, not after the half-minute a long backoff would sleep (issue #18).
 *   A server that answers with errors waits up to `maxBackoffMs` (30 s); a 429 waits what its
 *   Retry-After says (a restarted API server answers "storage is (re)initializing" so for
 *   a second or two). The count starts over when the server answers again (a list that
 *   fills the cache, a watch it accepts) and when failures change kind (no answer, then an
 *   answer that is an error: the outage is over, the server is starting).
 *
 * `metadata.managedFields` is dropped from cached objects: nobody here reads it and it is
 * often the biggest part of an object (issue #9's memory target).
 */
import type { Logger } from 'pino';
import type { Kube, KubeObject } from './client.ts';
import type { Clock } from './clock.ts';
import { isGone, isKubeApiError } from './rest.ts';
import { type Collection, collectionName } from './rest-kube.ts';
import type { WatchEvent } from './watch.ts';

export type ChangeType = 'add' | 'update' | 'delete';

export interface Store<T> {
  get(namespace: string, name: string): T | undefined;
  /** Every object, or those of one namespace. */
  list(namespace?: string): readonly T[];
}

export interface InformerOptions<T extends KubeObject> {
  /** What is listed and watched (the seam unit tests fill in). */
  readonly kube: Pick<Kube, 'list' | 'watch'>;
  /** One of our kinds by its plural, or any resource (cluster-scoped ones included). */
  readonly plural: Collection;
  /** Watch one namespace; all namespaces when undefined. */
  readonly namespace?: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onChange: (type: ChangeType, obj: T) => void;
  /** Longest wait after errors from a server that answers; default 30 s. */
  readonly maxBackoffMs?: number;
  /** Server-side watch timeout; default random in [300, 600) s (watch.ts). */
  readonly watchTimeoutSeconds?: number;
  /** In [0, 1): the jitter's source; default Math.random. */
  readonly random?: () => number;
  /** Called when the API server answers again after this informer's list or watch failed. */
  readonly onRecovered?: () => void;
}

/** The longest wait between attempts while the API server does not answer at all. */
export const UNREACHABLE_BACKOFF_MS = 2_000;

/** Whether the server answered at all (an HTTP status), or the request got no answer. */
function answered(error: unknown): boolean {
  return isKubeApiError(error) && error.status !== undefined;
}

/**
 * How long to wait after the `failures`-th failure in a row of this kind: 0.5 s doubling
 * up to a cap (2 s while the server does not answer, `maxBackoffMs` when it answers with
 * errors), then between half and all of it (jitter). A 429 waits its Retry-After instead,
 * plus up to a tenth more so informers do not come back in step.
 */
export function watchBackoff(
  failures: number,
  error: unknown,
  maxBackoffMs: number,
  random: () => number,
): number {
  const retryAfter = isKubeApiError(error) ? error.retryAfterSeconds : undefined;
  if (retryAfter !== undefined) return Math.round(retryAfter * 1000 * (1 + random() / 10));
  const cap = answered(error) ? maxBackoffMs : Math.min(maxBackoffMs, UNREACHABLE_BACKOFF_MS);
  const delay = Math.min(cap, 500 * 2 ** Math.min(Math.max(failures, 1) - 1, 16));
  return Math.round(delay / 2 + (random() * delay) / 2);
}

/** Objects by namespace, then name. */
class Cache<T extends KubeObject> {
  readonly byNamespace = new Map<string, Map<string, T>>();

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  set(obj: T): T | undefined {
    const { namespace, name } = obj.metadata;
    const names = this.byNamespace.get(namespace) ?? new Map<string, T>();
    this.byNamespace.set(namespace, names);
    const old = names.get(name);
    names.set(name, obj);
    return old;
  }

  delete(namespace: string, name: string): void {
    const names = this.byNamespace.get(namespace);
    names?.delete(name);
    if (names?.size === 0) this.byNamespace.delete(namespace);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.byNamespace.get(namespace)?.values() ?? [])];
    return [...this.byNamespace.values()].flatMap((names) => [...names.values()]);
  }
}

/**
 * The object as cached: without `managedFields`, and a cluster-scoped object (a Namespace)
 * under the namespace '' so every cached object has one.
 */
function trimmed<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as { managedFields?: unknown; namespace?: string };
  delete meta.managedFields;
  meta.namespace ??= '';
  return obj;
}

export class ResilientInformer<T extends KubeObject> implements Store<T> {
  readonly #o: InformerOptions<T>;
  #cache = new Cache<T>();
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #failures = 0;
  /** Whether the last failure was an answer (an HTTP error) rather than no answer. */
  #answered = false;
  #synced = false;
  /** Resolves `start()`: the first watch is open, or the first attempt failed. */
  #firstAttempt: () => void = () => {};

  constructor(options: InformerOptions<T>) {
    this.#o = options;
  }

  /** True once a list has filled the cache. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Starts list+watch; resolves once the watch is open, or after a first failed attempt. */
  start(): Promise<void> {
    if (this.#loop !== undefined) return Promise.resolve();
    this.#abort = new AbortController();
    const first = new Promise<void>((resolve) => {
      this.#firstAttempt = resolve;
    });
    this.#loop = this.#run(this.#abort.signal).finally(() => this.#firstAttempt());
    return first;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    this.#loop = undefined;
  }

  get(namespace: string, name: string): T | undefined {
    return this.#cache.get(namespace, name);
  }

  list(namespace?: string): readonly T[] {
    return this.#cache.list(namespace);
  }

  async #run(signal: AbortSignal): Promise<void> {
    // undefined: the cache must be (re)filled by a list before watching.
    let version: string | undefined;
    while (!signal.aborted) {
      try {
        version ??= await this.#relist(signal);
        const { last, events } = await this.#watch(version, signal);
        version = last;
        // A server that ends watches at once must not get a tight loop of requests.
        if (events === 0) await this.#sleep(500, signal);
      } catch (error) {
        if (signal.aborted) return;
        if (isGone(error)) {
          this.#o.log.info(
            { kind: collectionName(this.#o.plural) },
            'watch expired (410 Gone); relisting',
          );
          version = undefined;
          continue;
        }
        this.#firstAttempt();
        await this.#backOff(error, signal);
      }
    }
  }

  /** Lists everything, swaps the cache, reports the differences; returns the version. */
  async #relist(signal: AbortSignal): Promise<string> {
    const { items, metadata } = await this.#o.kube.list<T>(this.#o.plural, this.#o.namespace);
    if (signal.aborted) return metadata.resourceVersion;
    const old = this.#cache;
    const fresh = new Cache<T>();
    for (const item of items) fresh.set(trimmed(item));
    this.#cache = fresh;
    this.#synced = true;
    this.#recovered();
    for (const obj of items) {
      const before = old.get(obj.metadata.namespace, obj.metadata.name);
      if (before === undefined) this.#o.onChange('add', obj);
      else if (before.metadata.resourceVersion !== obj.metadata.resourceVersion) {
        this.#o.onChange('update', obj);
      }
    }
    for (const gone of old.list()) {
      const { namespace, name } = gone.metadata;
      if (fresh.get(namespace, name) === undefined) this.#o.onChange('delete', gone);
    }
    return metadata.resourceVersion;
  }

  /** Watches until the server ends the stream; returns the last version seen. */
  async #watch(from: string, signal: AbortSignal): Promise<{ last: string; events: number }> {
    let version = from;
    let count = 0;
    const events = this.#o.kube.watch<T>(this.#o.plural, this.#o.namespace, {
      resourceVersion: from,
      allowWatchBookmarks: true,
      signal,
      onOpen: () => {
        // The server answers again: the next failure starts the backoff over.
        this.#recovered();
        this.#firstAttempt();
      },
      ...(this.#o.watchTimeoutSeconds !== undefined
        ? { timeoutSeconds: this.#o.watchTimeoutSeconds }
        : {}),
    });
    for await (const event of events) {
      version = event.object.metadata.resourceVersion ?? version;
      count++;
      this.#failures = 0;
      this.#apply(event);
    }
    return { last: version, events: count };
  }

  #apply(event: WatchEvent<T>): void {
    if (event.type === 'BOOKMARK') return;
    const obj = trimmed(event.object);
    if (event.type === 'DELETED') {
      this.#cache.delete(obj.metadata.namespace, obj.metadata.name);
      this.#o.onChange('delete', obj);
      return;
    }
    const old = this.#cache.set(obj);
    this.#o.onChange(old === undefined ? 'add' : 'update', obj);
  }

  #recovered(): void {
    const failures = this.#failures;
    this.#failures = 0;
    if (failures === 0) return;
    this.#o.log.info({ kind: collectionName(this.#o.plural), failures }, 'watch recovered');
    this.#o.onRecovered?.();
  }

  #backOff(error: unknown, signal: AbortSignal): Promise<void> {
    // A new kind of failure (no answer, then answers that are errors) starts the count over.
    if (this.#failures > 0 && answered(error) !== this.#answered) this.#failures = 0;
    this.#answered = answered(error);
    this.#failures++;
    const delay = watchBackoff(
      this.#failures,
      error,
      this.#o.maxBackoffMs ?? 30_000,
      this.#o.random ?? Math.random,
    );
    // One warning per outage (and per change of kind), not one every 2 s while it lasts.
    const level = this.#failures === 1 ? 'warn' : 'debug';
    this.#o.log[level](
      {
        kind: collectionName(this.#o.plural),
        err: error instanceof Error ? error.message : String(error),
        failures: this.#failures,
        retryInMs: delay,
      },
      'watch failed; restarting',
    );
    return this.#sleep(delay, signal);
  }

  /** Waits on the injected clock; an abort (stop) ends the wait early. */
  #sleep(delay: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#o.clock.after(delay, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        timer.cancel();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
