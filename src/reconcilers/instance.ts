/**
 * The Bind9Instance reconcile: Ready when its keys can be read, rndc answers with its key
 * (`status`; not on a recordsOnly instance, which has none), and DNS answers a query signed
 * with the TSIG key; otherwise Ready=False with the reason of the first thing that failed.
 */
import type { Bind9Instance } from '../api/kinds.ts';
import type { Fingerprint } from '../bind/backend.ts';
import { type ReconcileContext, writeReady } from './context.ts';
import { GONE, OK, type Outcome } from './outcome.ts';
import { isKeyRejection, reasonFor } from './reasons.ts';
import { forgetKeys, resolveTarget } from './target.ts';

export type Probe =
  | { readonly ok: true; readonly fingerprint: Fingerprint }
  | { readonly ok: false; readonly error: unknown };

/** Checks one instance end to end. Never throws. */
export async function probeInstance(
  ctx: ReconcileContext,
  instance: Bind9Instance,
): Promise<Probe> {
  try {
    const target = await resolveTarget(instance, ctx.keys, ctx.files);
    const fingerprint = await ctx.backend.fingerprint(target);
    await ctx.backend.probeDns(target);
    return { ok: true, fingerprint };
  } catch (error) {
    if (isKeyRejection(error)) forgetKeys(instance, ctx.keys);
    return { ok: false, error };
  }
}

export async function writeInstanceStatus(
  ctx: ReconcileContext,
  instance: Bind9Instance,
  probe: Probe,
) {
  // No zone count or time in the message: status is written only when it changes.
  const ready = probe.ok
    ? {
        status: 'True' as const,
        reason: 'Reachable',
        message:
          instance.spec.recordsOnly === true
            ? 'DNS answers with the configured key (recordsOnly: no rndc)'
            : 'rndc and DNS answer with the configured keys',
      }
    : { status: 'False' as const, ...reasonFor(probe.error) };
  await writeReady(ctx, instance, ready);
}

export async function reconcileInstance(
  ctx: ReconcileContext,
  namespace: string,
  name: string,
): Promise<Outcome> {
  const instance = ctx.caches.instances.get(namespace, name);
  if (instance === undefined) return GONE;
  const probe = await probeInstance(ctx, instance);
  await writeInstanceStatus(ctx, instance, probe);
  if (probe.ok) return OK;
  const permanent = (probe.error as { disposition?: string }).disposition === 'permanent';
  return permanent
    ? { result: 'permanent', error: probe.error }
    : { result: 'transient', error: probe.error };
}
