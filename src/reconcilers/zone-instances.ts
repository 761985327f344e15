/**
 * A zone on its instances: which Bind9Instances serve it, the sync loop run on each
 * (primaries first, then secondaries told the serials to catch up with), and removing the
 * zone from instances that no longer serve it.
 */
import { primariesPort } from '../api/bind9instance.ts';
import type { ZoneInstanceStatus } from '../api/dnszone.ts';
import type { Bind9Instance, DNSZone } from '../api/kinds.ts';
import { type SyncInput, type SyncResult, syncZone } from '../bind/sync.ts';
import { normalizeName } from '../dns/rrset.ts';
import { isDeleting, type ReconcileContext } from './context.ts';
import { failFast, noteFailure } from './health.ts';
import { isKeyRejection, reasonFor } from './reasons.ts';
import { selectorMatches } from './selector.ts';
import { forgetKeys, resolveTarget } from './target.ts';

export interface InstanceRun {
  readonly instance: Bind9Instance;
  readonly result: SyncResult;
}

export const isPrimary = (i: Bind9Instance) => i.spec.role === 'primary';

export function selectedInstances(ctx: ReconcileContext, zone: DNSZone): Bind9Instance[] {
  return ctx.caches.instances
    .list(zone.metadata.namespace)
    .filter((i) => !isDeleting(i) && selectorMatches(zone.spec.instanceSelector, i.metadata.labels))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

async function runInstance(
  ctx: ReconcileContext,
  instance: Bind9Instance,
  input: SyncInput,
): Promise<InstanceRun> {
  const down = failFast(ctx.health, instance);
  if (down !== undefined) return { instance, result: { ok: false, error: down } };
  let result: SyncResult;
  try {
    const target = await resolveTarget(instance, ctx.keys, ctx.files);
    result = await syncZone(ctx.backend, target, input, ctx.log);
  } catch (error) {
    result = { ok: false, error };
  }
  if (!result.ok) noteFailure(ctx.health, instance, result.error);
  if (!result.ok && isKeyRejection(result.error)) forgetKeys(instance, ctx.keys);
  return { instance, result };
}

interface ServedSerial {
  readonly instance: Bind9Instance;
  readonly serial: number;
}

/** The serial each primary serves after its run (a signed SOA query); those that can say. */
async function primarySerials(
  ctx: ReconcileContext,
  runs: readonly InstanceRun[],
  zoneName: string,
): Promise<ServedSerial[]> {
  const served = await Promise.all(
    runs
      .filter((r) => r.result.ok)
      .map(async (r) => {
        try {
          const target = await resolveTarget(r.instance, ctx.keys, ctx.files);
          const serial = await ctx.backend.zoneSerial(target, zoneName);
          return serial === undefined ? undefined : { instance: r.instance, serial };
        } catch {
          return undefined;
        }
      }),
  );
  return served.filter((s) => s !== undefined);
}

/**
 * The serials a secondary must reach: those of the selected primaries it transfers from
 * (its `primaries` addresses on its `primariesPort`), or of every selected primary when
 * it names none of them (it may reach them through a Service address).
 */
export function serialsFor(secondary: Bind9Instance, served: readonly ServedSerial[]): number[] {
  const port = primariesPort(secondary.spec);
  const addresses = new Set(secondary.spec.primaries ?? []);
  const own = served.filter(
    (s) => addresses.has(s.instance.spec.dns.address) && (s.instance.spec.dns.port ?? 53) === port,
  );
  return [...new Set((own.length > 0 ? own : served).map((s) => s.serial))];
}

/** Primaries first (all at once), then secondaries told the serials to catch up with. */
export async function runAll(
  ctx: ReconcileContext,
  instances: readonly Bind9Instance[],
  input: SyncInput,
): Promise<InstanceRun[]> {
  const first = await Promise.all(
    instances.filter(isPrimary).map((i) => runInstance(ctx, i, input)),
  );
  const secondaries = instances.filter((i) => !isPrimary(i));
  if (secondaries.length === 0) return first;
  const served = await primarySerials(ctx, first, input.zone.name);
  const second = await Promise.all(
    secondaries.map((i) =>
      runInstance(ctx, i, { ...input, primarySerials: serialsFor(i, served) }),
    ),
  );
  return [...first, ...second];
}

/** Every primary ran and no removal was refused: what was removed is gone everywhere. */
export function allApplied(primaries: readonly InstanceRun[]): boolean {
  return (
    primaries.length > 0 &&
    primaries.every(
      (p) => p.result.ok && p.result.rejected.every((x) => x.change.action !== 'delete'),
    )
  );
}

/** `rndc delzone` on one instance; the error, if it failed. */
async function removeFrom(
  ctx: ReconcileContext,
  instance: Bind9Instance,
  zoneName: string,
): Promise<unknown> {
  const down = failFast(ctx.health, instance);
  if (down !== undefined) return down;
  try {
    await ctx.backend.removeZone(await resolveTarget(instance, ctx.keys, ctx.files), zoneName);
    ctx.log.info({ zone: zoneName, instance: instance.metadata.name }, 'zone removed');
    return undefined;
  } catch (error) {
    noteFailure(ctx.health, instance, error);
    return error;
  }
}

/**
 * Instances that served the zone (status says so) but are no longer selected: the zone is
 * removed there. One that cannot be reached stays listed, so the next round tries again.
 */
export async function dropUnselected(
  ctx: ReconcileContext,
  zone: DNSZone,
  selected: readonly Bind9Instance[],
): Promise<ZoneInstanceStatus[]> {
  const keep: ZoneInstanceStatus[] = [];
  const zoneName = normalizeName(zone.spec.zoneName);
  for (const previous of zone.status?.instances ?? []) {
    if (!previous.present || selected.some((i) => i.metadata.name === previous.name)) continue;
    const instance = ctx.caches.instances.get(zone.metadata.namespace, previous.name);
    if (instance === undefined || isDeleting(instance)) continue;
    const error = await removeFrom(ctx, instance, zoneName);
    if (error === undefined) continue;
    const message = `no longer selected; removal failed: ${reasonFor(error).message}`;
    keep.push({ ...previous, inSync: false, message: message.slice(0, 4000) });
  }
  return keep;
}

/**
 * Every instance that may hold a zone being deleted: those its selector picks now and
 * those its status lists. The spec may have been edited into something the controller
 * rejects (a selector that picks nothing) after the zone was created: the status still
 * names where it went. A delzone of a zone that is not there is a success.
 */
export function instancesToClear(ctx: ReconcileContext, zone: DNSZone): Bind9Instance[] {
  const listed = new Set((zone.status?.instances ?? []).map((i) => i.name));
  return ctx.caches.instances
    .list(zone.metadata.namespace)
    .filter(
      (i) =>
        listed.has(i.metadata.name) ||
        selectorMatches(zone.spec.instanceSelector, i.metadata.labels),
    );
}

/** `rndc delzone` wherever the zone may be; what failed, as `instance: reason` parts. */
export async function removeEverywhere(ctx: ReconcileContext, zone: DNSZone) {
  const zoneName = normalizeName(zone.spec.zoneName);
  const failures: { instance: string; error: unknown }[] = [];
  for (const instance of instancesToClear(ctx, zone)) {
    const error = await removeFrom(ctx, instance, zoneName);
    if (error !== undefined) failures.push({ instance: instance.metadata.name, error });
  }
  return failures;
}
