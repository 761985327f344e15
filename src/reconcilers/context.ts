/**
 * What every reconciler works with: the informer caches (read), the writer (status and
 * finalizers), Events, keys, the BIND9 backend, a clock and a logger.
 */
import type { Logger } from 'pino';
import type { Bind9Instance, DNSZone, RecordResource } from '../api/kinds.ts';
import { RESOURCE_KINDS } from '../api/kinds.ts';
import type { RecordKind } from '../api/records.ts';
import type { ZoneBackend } from '../bind/backend.ts';
import type { KubeObject, ObjectRef } from '../kube/client.ts';
import type { Clock } from '../kube/clock.ts';
import {
  type Condition,
  type ConditionInput,
  findCondition,
  jsonEqual,
  setCondition,
} from '../kube/conditions.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Store } from '../kube/informer.ts';
import type { KeySource } from '../kube/secrets.ts';
import type { InstanceHealth } from './health.ts';
import type { Ownership } from './ownership.ts';
import { mergePatch, type StatusMemory } from './status-memory.ts';
import type { FileStores } from './target.ts';

export interface Caches {
  readonly instances: Store<Bind9Instance>;
  readonly zones: Store<DNSZone>;
  readonly records: ReadonlyMap<RecordKind, Store<RecordResource>>;
  /** Every Namespace of the cluster (cluster-scoped: under the namespace ''), for its labels. */
  readonly namespaces: Store<KubeObject>;
}

/** The writes a reconcile makes to the API server (src/kube's `Kube` implements it). */
export interface ObjectWriter {
  /**
   * Merge-patches the status. Resolves with the object's new resourceVersion (a string)
   * when the writer knows it, which lets status-memory.ts stand in for the cache until the
   * cache shows the write; with anything else nothing is remembered.
   */
  patchStatus(ref: ObjectRef, status: unknown): Promise<unknown>;
  setFinalizers(
    ref: ObjectRef,
    finalizers: readonly string[],
    resourceVersion?: string,
  ): Promise<void>;
}

export interface UpdateObserver {
  /** One UPDATE message sent to `instance`, answered with `rcode` (`NOERROR`, `REFUSED`, ...). */
  onUpdate?(instance: string, rcode: string): void;
}

export interface ReconcileContext extends UpdateObserver {
  readonly caches: Caches;
  readonly writer: ObjectWriter;
  readonly events: EventRecorder;
  readonly keys: KeySource;
  /** Where base files may go (target.ts): a ConfigMap of ours, a directory below a root. */
  readonly files: FileStores;
  readonly backend: ZoneBackend;
  readonly clock: Clock;
  readonly log: Logger;
  /** How long deletion waits for unreachable instances before releasing the finalizer. */
  readonly deletionTimeoutMs: number;
  /** Who owns which RRset, per zone (ownership.ts): one per controller process. */
  readonly ownership: Ownership;
  /** What the health poll knows of each instance (health.ts); none: every instance is dialled. */
  readonly health?: InstanceHealth;
  /** Status writes the caches do not show yet (status-memory.ts): one per process. */
  readonly statuses: StatusMemory;
}

export function pluralOf(kind: string): string {
  const info = (RESOURCE_KINDS as Readonly<Record<string, { plural: string }>>)[kind];
  return info?.plural ?? `${kind.toLowerCase()}s`;
}

export function refOf(obj: KubeObject): ObjectRef {
  return { plural: pluralOf(obj.kind), namespace: obj.metadata.namespace, name: obj.metadata.name };
}

export function isDeleting(obj: { metadata: { deletionTimestamp?: string } }): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

/** Every record resource, of every kind, in `namespace` whose `spec.zone` is `zone`. */
export function recordsOfZone(caches: Caches, namespace: string, zone: string): RecordResource[] {
  const out: RecordResource[] = [];
  for (const store of caches.records.values()) {
    for (const r of store.list(namespace)) if (r.spec.zone === zone) out.push(r);
  }
  return out;
}

interface StatusLike {
  readonly observedGeneration?: number;
  readonly conditions?: readonly Condition[];
}

/** What a status write needs; `statuses` and `caches` where the caller keeps them. */
type StatusContext = Pick<ReconcileContext, 'writer'> & {
  readonly statuses?: StatusMemory;
  readonly caches?: Caches;
};

/** The object as the cache holds it now (a reconcile's copy may be older), if it is there. */
function cachedNow(caches: Caches, obj: KubeObject): KubeObject | undefined {
  const { namespace, name, uid } = obj.metadata;
  const store =
    obj.kind === 'DNSZone'
      ? caches.zones
      : obj.kind === 'Bind9Instance'
        ? caches.instances
        : caches.records.get(obj.kind as RecordKind);
  const now = store?.get(namespace, name);
  return now !== undefined && now.metadata.uid === uid ? now : undefined;
}

/**
 * The status of `obj` as the API server holds it, as far as this process knows: the one
 * the cache holds now, or a write of ours the cache does not show yet (status-memory.ts).
 * Not the status of `obj` itself: a reconcile read it at its start, and the cache may have
 * shown the previous round's write since.
 */
export function currentStatus(ctx: StatusContext, obj: KubeObject): unknown {
  const latest = (ctx.caches && cachedNow(ctx.caches, obj)) ?? obj;
  return ctx.statuses === undefined ? latest.status : ctx.statuses.statusOf(latest);
}

/** Merge-patches the status of `obj` and remembers what it now is, until the cache shows it. */
export async function patchStatus(ctx: StatusContext, obj: KubeObject, patch: unknown) {
  const before = currentStatus(ctx, obj);
  const version = await ctx.writer.patchStatus(refOf(obj), patch);
  if (typeof version === 'string') ctx.statuses?.wrote(obj, mergePatch(before, patch), version);
}

/**
 * Writes `Ready` (and any extra status fields) when something changed, and records an
 * Event when Ready flips or its reason changes, so `kubectl describe` tells the story.
 * "Changed" is against the status as last written (currentStatus), so a round that starts
 * before the cache shows the previous round's write does not write it again (issue #16).
 * `force` writes even when the status looks the same.
 */
export async function writeReady(
  ctx: Pick<ReconcileContext, 'writer' | 'events' | 'clock'> & StatusContext,
  obj: KubeObject<unknown, StatusLike> | RecordResource | DNSZone | Bind9Instance,
  ready: Omit<ConditionInput, 'type' | 'observedGeneration'>,
  extra: Readonly<Record<string, unknown>> = {},
  force = false,
): Promise<void> {
  const o = obj as KubeObject<unknown, StatusLike>;
  const status = currentStatus(ctx, o) as StatusLike | undefined;
  const generation = o.metadata.generation;
  const previous = findCondition(status?.conditions, 'Ready');
  const conditions = setCondition(
    status?.conditions,
    {
      type: 'Ready',
      ...ready,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    },
    ctx.clock.now(),
  );
  const next = { ...status, ...extra, conditions, observedGeneration: generation };
  if (!force && jsonEqual(next, status ?? {})) return;
  await patchStatus(ctx, o, next);
  // Warnings on every new cause; a Normal Event only for a recovery, so a burst of new
  // records does not become a burst of Events.
  const changed = previous?.status !== ready.status || previous?.reason !== ready.reason;
  if (changed && ready.status !== 'True') {
    await ctx.events.record(o, 'Warning', ready.reason, ready.message);
  } else if (changed && previous !== undefined && previous.status !== 'True') {
    await ctx.events.record(o, 'Normal', ready.reason, ready.message);
  }
}

/** Runs `fn` over items with at most `limit` at once. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
