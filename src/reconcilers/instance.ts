/**
 * The Bind9Instance reconcile: Ready when its keys can be read, rndc answers with its key
 * (`status`; not on a recordsOnly instance, which has none), and DNS answers a query signed
 * with the TSIG key; otherwise Ready=False with the reason of the first thing that failed.
 */
import type { Bind9Instance } from '../api/kinds.ts';
import type { Fingerprint } from '../bind/backend.ts';
import type { InstanceTarget } from '../bind/target.ts';
import { type ReconcileContext, writeReady } from './context.ts';
import { GONE, OK, type Outcome } from './outcome.ts';
import { isKeyRejection, reasonFor } from './reasons.ts';
import { selectorMatches } from './selector.ts';
import { forgetKeys, resolveTarget } from './target.ts';

export type Probe =
  | { readonly ok: true; readonly fingerprint: Fingerprint }
  | { readonly ok: false; readonly error: unknown };

/**
 * A records-only server may answer a query for a name it does not serve without looking at
 * the key (Knot DNS answers REFUSED for the root whatever the key), so the key is proven
 * with a signed SOA query for a zone that selects the instance, when there is one; a zone
 * it does not serve (yet) proves nothing and is that zone's ZoneNotServed, not this.
 */
async function proveKeyOnAZone(
  ctx: ReconcileContext,
  instance: Bind9Instance,
  target: InstanceTarget,
): Promise<void> {
  const zone = ctx.caches.zones
    .list(instance.metadata.namespace)
    .find((z) => selectorMatches(z.spec.instanceSelector, instance.metadata.labels));
  if (zone !== undefined) await ctx.backend.zoneSerial(target, zone.spec.zoneName);
}

/** Checks one instance end to end. Never throws. */
export async function probeInstance(
  ctx: ReconcileContext,
  instance: Bind9Instance,
): Promise<Probe> {
  try {
    const target = await resolveTarget(instance, ctx.keys, ctx.files);
    const fingerprint = await ctx.backend.fingerprint(target);
    await ctx.backend.probeDns(target);
    if (instance.spec.recordsOnly === true) await proveKeyOnAZone(ctx, instance, target);
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
