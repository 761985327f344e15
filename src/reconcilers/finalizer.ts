/**
 * The one finalizer state machine, for every object that carries ours (record resources
 * and DNSZones), after kube-runtime's `finalizer()`. An object is in one of four states:
 *
 * | deletionTimestamp | our finalizer | state        | what the reconcile does                 |
 * |-------------------|---------------|--------------|-----------------------------------------|
 * | no                | no            | `adding`     | adds it; writes nothing for the object  |
 * | no                | yes           | `applying`   | writes the object's data to the servers |
 * | yes               | yes           | `cleaningUp` | removes what it wrote, then releases    |
 * | yes               | no            | `gone`       | nothing: it is not ours any more        |
 *
 * Guarantees:
 * - No RRset (or zone) is written for an object before its finalizer is on it: `adding`
 *   objects are left out of the writes of the round (`addFinalizers` says which made it).
 *   One whose finalizer an admission policy added at creation (issue #16) starts in
 *   `applying`, and nothing is written to the API for it here.
 * - The finalizer comes off only after the cleanup says it is done, or after the deletion
 *   deadline (`--deletion-timeout`, counted from `deletionTimestamp`) for a cleanup that
 *   keeps failing: then a Warning Event `DeletionIncomplete` says what was left behind.
 *   That deadline and that Event are here and nowhere else (`finishDeletion`).
 * - A cleanup that waits for something only the user can fix (a zone made invalid after
 *   it wrote) has no deadline: letting the object go would leave its data for good.
 *
 * Caveats: cleanup must be idempotent (it runs again after a crash, and after a release
 * that raced an update); a release is guarded by the resourceVersion it read, so a
 * conflicting write makes it fail, and the next event brings the object back.
 */
import type { KubeObject } from '../kube/client.ts';
import { eachLimited, isDeleting, type ReconcileContext, refOf } from './context.ts';

export const FINALIZER = 'dns.bind9-controller.io/finalizer';

export type FinalizerState = 'adding' | 'applying' | 'cleaningUp' | 'gone';

export function finalizerState(obj: KubeObject): FinalizerState {
  const ours = (obj.metadata.finalizers ?? []).includes(FINALIZER);
  if (!isDeleting(obj)) return ours ? 'applying' : 'adding';
  return ours ? 'cleaningUp' : 'gone';
}

/** How the cleanup of a deleted object went this round. */
export type Cleanup =
  /** Everything it wrote is gone: the finalizer goes. */
  | { readonly done: true }
  /**
   * Not yet (`left` says what is left, and where). It is tried again; past the deletion
   * deadline the finalizer goes anyway, with a Warning Event naming `left`. With
   * `deadline: false` it waits for as long as it takes.
   */
  | { readonly done: false; readonly left: string; readonly deadline?: false };

export const CLEANED: Cleanup = { done: true };

/** Adds our finalizer to an object in `adding` state (guarded by its resourceVersion). */
async function addFinalizer(ctx: ReconcileContext, obj: KubeObject): Promise<void> {
  const finalizers = obj.metadata.finalizers ?? [];
  await ctx.writer.setFinalizers(
    refOf(obj),
    [...finalizers, FINALIZER],
    obj.metadata.resourceVersion,
  );
}

/**
 * The objects of `objs` that carry our finalizer once this returns: those in `applying`
 * state, and those in `adding` state whose finalizer could be added. One whose patch fails
 * (a conflicting write) stays out of this round; its update event brings it back.
 */
export async function addFinalizers<T extends KubeObject>(
  ctx: ReconcileContext,
  objs: readonly T[],
  parallel = 8,
): Promise<T[]> {
  const kept = new Set<T>();
  await eachLimited(objs, parallel, async (obj) => {
    try {
      if (finalizerState(obj) === 'adding') await addFinalizer(ctx, obj);
      kept.add(obj);
    } catch (error) {
      const err = error instanceof Error ? error.message : String(error);
      ctx.log.debug({ object: refOf(obj), err }, 'finalizer not added yet');
    }
  });
  return objs.filter((obj) => kept.has(obj));
}

/** Adds our finalizer to one object, or throws why not (a DNSZone before it is served). */
export async function requireFinalizer(ctx: ReconcileContext, obj: KubeObject): Promise<void> {
  if (finalizerState(obj) === 'adding') await addFinalizer(ctx, obj);
}

/** How long a deleted object has waited for its finalizer, by our clock. */
function waitedMs(ctx: ReconcileContext, obj: KubeObject): number {
  const since = Date.parse(obj.metadata.deletionTimestamp ?? '');
  return Number.isNaN(since) ? 0 : ctx.clock.now() - since;
}

/**
 * Ends the deletion of an object whose cleanup went as `cleanup` says: its finalizer goes
 * when the cleanup is done, or when the deletion deadline has passed (with the Warning
 * Event); otherwise it stays. `beforeRelease` runs just before the finalizer comes off
 * (a zone releases its records first). Returns whether the object still waits.
 */
export async function finishDeletion(
  ctx: ReconcileContext,
  obj: KubeObject,
  cleanup: Cleanup,
  beforeRelease?: () => Promise<void>,
): Promise<'released' | 'waiting'> {
  if (finalizerState(obj) !== 'cleaningUp') {
    await beforeRelease?.();
    return 'released';
  }
  if (!cleanup.done) {
    const waited = waitedMs(ctx, obj);
    if (cleanup.deadline === false || waited < ctx.deletionTimeoutMs) return 'waiting';
    const message = `gave up after ${Math.round(waited / 1000)} s: ${cleanup.left}`;
    await ctx.events.record(obj, 'Warning', 'DeletionIncomplete', message);
  }
  await beforeRelease?.();
  const finalizers = obj.metadata.finalizers ?? [];
  await ctx.writer.setFinalizers(
    refOf(obj),
    finalizers.filter((f) => f !== FINALIZER),
    obj.metadata.resourceVersion,
  );
  return 'released';
}
