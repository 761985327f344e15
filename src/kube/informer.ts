/**
 * A list+watch cache of one kind that does not give up. The client's informer relists by
 * itself on 410 Gone and resumes watches that time out, but on any other error it emits
 * `error` and stops (KUBERNETES.md): here it is restarted with exponential backoff.
 */
import {
  type Informer,
  type KubernetesObject,
  makeInformer,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, type Kube, type KubeObject, VERSION } from './client.ts';
import type { Clock, TimerHandle } from './clock.ts';

export type ChangeType = 'add' | 'update' | 'delete';

export interface Store<T> {
  get(namespace: string, name: string): T | undefined;
  /** Every object, or those of one namespace. */
  list(namespace?: string): readonly T[];
}

export interface InformerOptions<T extends KubeObject> {
  readonly kube: Kube;
  readonly plural: string;
  /** Watch one namespace; all namespaces when undefined. */
  readonly namespace?: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onChange: (type: ChangeType, obj: T) => void;
  readonly maxBackoffMs?: number;
}

export class ResilientInformer<T extends KubeObject> implements Store<T> {
  readonly #o: InformerOptions<T>;
  readonly #informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  #failures = 0;
  #timer: TimerHandle | undefined;
  #stopped = false;
  #synced = false;
  #attemptFailed = false;

  constructor(options: InformerOptions<T>) {
    this.#o = options;
    const { kube, plural, namespace } = options;
    const path =
      namespace === undefined
        ? `/apis/${GROUP}/${VERSION}/${plural}`
        : `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;
    // The client's object type has mutable V1ObjectMeta; ours is read-only. Same JSON.
    this.#informer = makeInformer<KubernetesObject>(kube.config, path, async () => {
      const list = await kube.list<T>(plural, namespace);
      return list as unknown as { items: KubernetesObject[] };
    });
    this.#informer.on('add', (obj) => options.onChange('add', obj as unknown as T));
    this.#informer.on('update', (obj) => options.onChange('update', obj as unknown as T));
    this.#informer.on('delete', (obj) => options.onChange('delete', obj as unknown as T));
    this.#informer.on('error', (error) => this.#onError(error));
  }

  /** True once a list has filled the cache. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Starts list+watch; resolves after the first attempt, successful or not. */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#attemptFailed = false;
    await this.#informer.start();
    if (!this.#attemptFailed) {
      this.#synced = true;
      this.#failures = 0;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#informer.stop();
  }

  get(namespace: string, name: string): T | undefined {
    return this.#informer.get(name, namespace) as unknown as T | undefined;
  }

  list(namespace?: string): readonly T[] {
    return this.#informer.list(namespace) as unknown as readonly T[];
  }

  #onError(error: unknown): void {
    this.#attemptFailed = true;
    if (this.#stopped) return;
    this.#failures++;
    const delay = Math.min(
      this.#o.maxBackoffMs ?? 30_000,
      500 * 2 ** Math.min(this.#failures - 1, 10),
    );
    this.#o.log.warn(
      {
        kind: this.#o.plural,
        err: error instanceof Error ? error.message : String(error),
        retryInMs: delay,
      },
      'watch failed; restarting',
    );
    this.#timer?.cancel();
    this.#timer = this.#o.clock.after(delay, () => {
      if (!this.#stopped) void this.start();
    });
  }
}
