/**
 * The DNSZone reconcile, the unit of work (DESIGN.md): one key per zone, covering the zone
 * on every selected instance and every record resource that names it. It reads top to
 * bottom: gather → plan → apply → status.
 */

import { primariesPort } from '../api/bind9instance.ts';
import { objectId, resourceKey } from '../api/ids.ts';
import type { Bind9Instance, DNSZone, RecordResource } from '../api/kinds.ts';
import { declaredRRset } from '../api/records.ts';
import { formatIssues, validateSpec } from '../api/validate.ts';
import type { DesiredRRset } from '../bind/plan.ts';
import { removalOf, type SyncInput, type SyncResult, syncZone } from '../bind/sync.ts';
import { fqdn, normalizeName } from '../dns/rrset.ts';
import { TransientError } from '../errors.ts';
import {
  eachLimited,
  ensureFinalizer,
  isDeleting,
  type ReconcileContext,
  recordsOfZone,
  refOf,
  releaseFinalizer,
  writeReady,
} from './context.ts';
import { type DesiredState, desiredState, olderFirst, zoneConfigOf } from './desired.ts';
import { GONE, OK, type Outcome, worstOutcome } from './outcome.ts';
import { isKeyRejection, isRepairable, type Reason, reasonFor } from './reasons.ts';
import { selectorMatches } from './selector.ts';
import { forgetKeys, resolveTarget } from './target.ts';

/** Status writes in flight at once for the records of one zone. */
const STATUS_PARALLELISM = 8;

interface InstanceRun {
  readonly instance: Bind9Instance;
  readonly result: SyncResult;
}

export function selectedInstances(ctx: ReconcileContext, zone: DNSZone): Bind9Instance[] {
  return ctx.caches.instances
    .list(zone.metadata.namespace)
    .filter((i) => !isDeleting(i) && selectorMatches(zone.spec.instanceSelector, i.metadata.labels))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** The RRset a record resource last wrote, as its status says; undefined before the first. */
export function writtenRRset(r: RecordResource): { name: string; type: string } | undefined {
  const s = r.status;
  if (s?.fqdn === undefined || s.recordType === undefined) return undefined;
  return { name: normalizeName(s.fqdn), type: s.recordType };
}

/**
 * Renamed resources (`spec.name` changed): the RRset they wrote before goes, in the same
 * plan as the new one comes (removalChanges keeps it if another resource declares it). A
 * refused resource keeps what it wrote until it is fixed or deleted.
 */
export function renamedRemovals(
  live: readonly RecordResource[],
  desired: DesiredState,
): DesiredRRset[] {
  const byOwner = new Map(desired.rrsets.map((r) => [r.owner, r]));
  const out: DesiredRRset[] = [];
  for (const r of live) {
    const written = writtenRRset(r);
    const wanted = byOwner.get(resourceKey(r));
    if (written === undefined || wanted === undefined) continue;
    if (normalizeName(wanted.name) !== written.name || wanted.type !== written.type) {
      out.push(removalOf(written, resourceKey(r)));
    }
  }
  return out;
}

/** The RRsets deleted record resources held, to take out of the zone. */
function removalsOf(zone: DNSZone, deleting: readonly RecordResource[]): DesiredRRset[] {
  const apex = normalizeName(zone.spec.zoneName);
  const out: DesiredRRset[] = [];
  for (const r of deleting) {
    const written = writtenRRset(r);
    if (written !== undefined) {
      out.push(removalOf(written, resourceKey(r)));
      continue;
    }
    try {
      const rrset = declaredRRset(r, apex, zone.spec.ttl ?? 3600);
      out.push({ ...rrset, owner: resourceKey(r) });
    } catch {
      // A spec that never made an RRset has nothing to remove.
    }
  }
  return out;
}

async function runInstance(
  ctx: ReconcileContext,
  instance: Bind9Instance,
  input: SyncInput,
): Promise<InstanceRun> {
  let result: SyncResult;
  try {
    const target = await resolveTarget(instance, ctx.keys, ctx.files);
    result = await syncZone(ctx.backend, target, input, ctx.log);
  } catch (error) {
    result = { ok: false, error };
  }
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
async function runAll(
  ctx: ReconcileContext,
  instances: readonly Bind9Instance[],
  input: SyncInput,
): Promise<InstanceRun[]> {
  const isPrimary = (i: Bind9Instance) => i.spec.role === 'primary';
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

// ---------------------------------------------------------------------------------------
// Status

/** Ready of one record resource from the desired-state outcome and every primary's result. */
export function recordReady(
  key: string,
  desired: DesiredState,
  primaries: readonly InstanceRun[],
): { status: 'True' | 'False'; reason: string; message: string } {
  const outcome = desired.outcomes.get(key);
  if (outcome !== undefined && !outcome.ok) {
    const reason = outcome.reason === 'CnameConflict' ? 'Conflict' : outcome.reason;
    return { status: 'False', reason, message: outcome.message };
  }
  if (primaries.length === 0) {
    return {
      status: 'False',
      reason: 'NoInstances',
      message: 'the zone selects no primary Bind9Instance',
    };
  }
  for (const run of primaries) {
    const r = run.result;
    const where = run.instance.metadata.name;
    if (!r.ok) {
      const { reason, message } = reasonFor(r.error);
      return { status: 'False', reason, message: `${where}: ${message}` };
    }
    const skipped = r.plan?.skipped.find((s) => s.rrset.owner === key);
    if (skipped !== undefined) {
      const reason =
        skipped.reason === 'CnameConflict'
          ? 'Conflict'
          : skipped.reason === 'NameOutsideZone'
            ? 'NameOutsideZone'
            : 'InvalidSpec';
      return { status: 'False', reason, message: `${where}: ${skipped.message}` };
    }
    const rejected = r.rejected.find((x) => x.change.owner === key);
    if (rejected !== undefined) {
      return {
        status: 'False',
        reason: reasonFor(rejected.error).reason,
        message: `${where}: ${rejected.error.message}`,
      };
    }
  }
  const names = primaries.map((p) => p.instance.metadata.name).join(', ');
  return { status: 'True', reason: 'Synced', message: `served by ${names}` };
}

function instanceStatus(run: InstanceRun) {
  const name = run.instance.metadata.name;
  const r = run.result;
  if (!r.ok)
    return {
      name,
      present: false,
      inSync: false,
      message: reasonFor(r.error).message.slice(0, 4000),
    };
  const inSync =
    r.rejected.length === 0 && (r.plan?.skipped.length ?? 0) === 0 && r.transferPending !== true;
  const serial = r.serial === undefined ? {} : { serial: r.serial };
  const pending = r.transferPending === true ? { message: transferMessage(r.serial) } : {};
  return { name, present: true, inSync, ...serial, ...pending };
}

function transferMessage(serial: number | undefined): string {
  return serial === undefined
    ? 'transfer pending: the secondary does not serve the zone yet'
    : `transfer pending: the secondary serves serial ${serial}, not its primaries' serial`;
}

function zoneReady(runs: readonly InstanceRun[]): Reason & { status: 'True' | 'False' } {
  if (runs.length === 0) {
    return {
      status: 'False',
      reason: 'NoInstances',
      message: 'the instanceSelector matches no Bind9Instance',
    };
  }
  const failed = runs.find((r) => !r.result.ok);
  if (failed !== undefined && !failed.result.ok) {
    const { reason, message } = reasonFor(failed.result.error);
    return { status: 'False', reason, message: `${failed.instance.metadata.name}: ${message}` };
  }
  const behind = runs.find((r) => r.result.ok && r.result.transferPending === true);
  if (behind?.result.ok) {
    const message = `${behind.instance.metadata.name}: ${transferMessage(behind.result.serial)}`;
    return { status: 'False', reason: 'TransferPending', message };
  }
  const names = runs.map((r) => r.instance.metadata.name).join(', ');
  return { status: 'True', reason: 'Synced', message: `zone present on ${names}` };
}

/**
 * The other, still existing DNSZone a record wrote its RRset through, while that zone has
 * not taken it out: the status keeps pointing at it so that zone's reconcile finds it, and
 * a deleted record waits for it (zone.ts's deletion rules).
 */
function pointerElsewhere(ctx: ReconcileContext, r: RecordResource): string | undefined {
  const before = r.status?.zone;
  if (typeof before !== 'string' || before === r.spec.zone) return undefined;
  const other = ctx.caches.zones.get(r.metadata.namespace, before);
  return other !== undefined && !isDeleting(other) ? before : undefined;
}

/** The ledger key of a DNSZone (written.ts). */
function zoneId(zone: DNSZone): string {
  return objectId(zone.metadata);
}

/** Whether a record may have an RRset in this zone: its status says so, or this process gave it one. */
function wroteThrough(ctx: ReconcileContext, r: RecordResource, zone: DNSZone): boolean {
  const pointer = r.status?.zone ?? zone.metadata.name;
  if (writtenRRset(r) !== undefined && pointer === zone.metadata.name) return true;
  return ctx.written?.holds(zoneId(zone), resourceKey(r)) === true;
}

/**
 * Releases a deleted record's finalizer unless another DNSZone still has to take its RRset
 * out (a move not finished): then it waits for that zone, up to the deletion timeout, and
 * goes with a Warning Event after it. Returns true while it waits.
 */
async function releaseUnlessHeld(ctx: ReconcileContext, r: RecordResource): Promise<boolean> {
  const other = pointerElsewhere(ctx, r);
  if (other !== undefined) {
    const waited = waitedMs(ctx, r);
    if (waited < ctx.deletionTimeoutMs) return true;
    const message = `gave up waiting for DNSZone ${other} to remove the RRset after ${Math.round(waited / 1000)} s`;
    await ctx.events.record(r, 'Warning', 'DeletionIncomplete', message);
  }
  await releaseFinalizer(ctx, r);
  return false;
}

/** Looks again while a deleted record waits for another zone (its pointer event may not come). */
const WAIT_ELSEWHERE: Outcome = {
  result: 'requeue',
  afterMs: 30_000,
  reason: 'a deleted record waits for another DNSZone to remove its RRset',
};

/** Ready of each record; a Ready one also records the RRset it wrote (renames, moves, deletion). */
async function writeRecordStatuses(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
  desired: DesiredState,
  primaries: readonly InstanceRun[],
): Promise<void> {
  const byOwner = new Map(desired.rrsets.map((r) => [r.owner, r]));
  await eachLimited(records, STATUS_PARALLELISM, (r) => {
    const key = resourceKey(r);
    const ready = recordReady(key, desired, primaries);
    const rrset = ready.status === 'True' ? byOwner.get(key) : undefined;
    const written =
      rrset === undefined || pointerElsewhere(ctx, r) !== undefined
        ? {}
        : { fqdn: fqdn(rrset.name), recordType: rrset.type, zone: zone.metadata.name };
    return writeReady(ctx, r, ready, written);
  });
}

/** Records that wrote an RRset through this DNSZone and now name another (`spec.zone` changed). */
function departedRecords(ctx: ReconcileContext, zone: DNSZone): RecordResource[] {
  const name = zone.metadata.name;
  const out: RecordResource[] = [];
  for (const store of ctx.caches.records.values()) {
    for (const r of store.list(zone.metadata.namespace)) {
      if (r.status?.zone === name && r.spec.zone !== name && writtenRRset(r) !== undefined) {
        out.push(r);
      }
    }
  }
  return out;
}

/** Once every primary has dropped a departed record's RRset, its status stops pointing here. */
async function releaseDeparted(
  ctx: ReconcileContext,
  departed: readonly RecordResource[],
  primaries: readonly InstanceRun[],
): Promise<void> {
  if (primaries.length === 0 || primaries.some((p) => !p.result.ok)) return;
  const cleared = { fqdn: null, recordType: null, zone: null };
  await eachLimited(departed, STATUS_PARALLELISM, (r) => ctx.writer.patchStatus(refOf(r), cleared));
}

/**
 * The live records that carry our finalizer, adding it where missing. One whose finalizer
 * could not be added (a conflicting write) is left out of this round; its update event
 * brings the zone back.
 */
async function withFinalizers(
  ctx: ReconcileContext,
  records: readonly RecordResource[],
): Promise<RecordResource[]> {
  const kept: RecordResource[] = [];
  await eachLimited(records, STATUS_PARALLELISM, async (r) => {
    try {
      await ensureFinalizer(ctx, r);
      kept.push(r);
    } catch (error) {
      ctx.log.debug(
        { record: resourceKey(r), err: reasonFor(error).message },
        'finalizer not added yet',
      );
    }
  });
  return kept;
}

function outcomeOf(runs: readonly InstanceRun[]): Outcome {
  return worstOutcome(
    runs.map((run): Outcome => {
      // A pending transfer is looked at again with backoff, as a transient failure is.
      if (run.result.ok && run.result.transferPending === true) {
        const detail = transferMessage(run.result.serial);
        return { result: 'transient', error: new TransientError('TransferPending', detail) };
      }
      if (run.result.ok) return OK;
      const error = run.result.error;
      return (error as { disposition?: string }).disposition === 'permanent' && !isRepairable(error)
        ? { result: 'permanent', error }
        : { result: 'transient', error };
    }),
  );
}

// ---------------------------------------------------------------------------------------
// The reconcile

/**
 * Records that name a zone that does not exist: ZoneNotFound; deleted ones released (unless
 * the zone they moved from still has to remove their RRset).
 */
async function orphanRecords(
  ctx: ReconcileContext,
  records: readonly RecordResource[],
  zone: string,
): Promise<Outcome> {
  let waiting = false;
  await eachLimited(records, STATUS_PARALLELISM, async (r) => {
    if (isDeleting(r)) {
      if (await releaseUnlessHeld(ctx, r)) waiting = true;
      return;
    }
    await writeReady(ctx, r, {
      status: 'False',
      reason: 'ZoneNotFound',
      message: `DNSZone ${zone} not found in namespace ${r.metadata.namespace}`,
    });
  });
  if (waiting) return WAIT_ELSEWHERE;
  return records.length === 0 ? GONE : OK;
}

export async function reconcileZone(
  ctx: ReconcileContext,
  namespace: string,
  name: string,
): Promise<Outcome> {
  // Gather.
  const zone = ctx.caches.zones.get(namespace, name);
  const records = recordsOfZone(ctx.caches, namespace, name);
  if (zone === undefined) {
    ctx.written?.forgetZone(objectId({ namespace, name }));
    return orphanRecords(ctx, records, name);
  }
  const rival = olderRival(ctx, zone);
  if (rival !== undefined) return standAside(ctx, zone, records, rival);
  if (isDeleting(zone)) return deleteZone(ctx, zone, records);
  const invalid = validateSpec('DNSZone', zone.spec);
  if (!invalid.ok) {
    const message = formatIssues(invalid.errors);
    return blocked(ctx, zone, records, { reason: 'InvalidSpec', message });
  }
  await ensureFinalizer(ctx, zone);
  // A finalizer goes on before the RRset is written, so no RRset can outlive its resource.
  const live = await withFinalizers(
    ctx,
    records.filter((r) => !isDeleting(r)),
  );
  const deleting = records.filter(isDeleting);
  const departed = departedRecords(ctx, zone);
  const instances = selectedInstances(ctx, zone);
  // Plan. Every record that is not being deleted counts as live for the ledger, also one
  // left out of this round for its finalizer: it is not gone, it must lose nothing.
  const desired = desiredState(zone, live);
  const liveKeys = new Set(records.filter((r) => !isDeleting(r)).map(resourceKey));
  const input = {
    zone: zoneConfigOf(zone),
    desired: desired.rrsets,
    removals: [
      ...removalsOf(zone, [...deleting, ...departed]),
      ...renamedRemovals(live, desired),
      ...(ctx.written?.stale(zoneId(zone), desired.rrsets, liveKeys) ?? []),
    ],
    prune: zone.spec.prune ?? false,
  };
  // Apply. What may be written is noted before it is sent (written.ts).
  ctx.written?.intend(zoneId(zone), desired.rrsets, liveKeys);
  const runs = await runAll(ctx, instances, input);
  const leftovers = await dropUnselected(ctx, zone, instances);
  const primaries = runs.filter((r) => r.instance.spec.role === 'primary');
  if (allApplied(primaries)) ctx.written?.settle(zoneId(zone), desired.rrsets, liveKeys);
  // Status.
  await writeRecordStatuses(ctx, zone, live, desired, primaries);
  await releaseDeparted(ctx, departed, primaries);
  const waiting = await releaseDeleted(ctx, deleting, primaries);
  const instancesStatus = [...runs.map(instanceStatus), ...leftovers];
  await writeReady(ctx, zone, zoneReady(runs), { instances: instancesStatus });
  const outcome = outcomeOf(runs);
  if (outcome.result !== 'ok') return outcome;
  if (leftovers.length > 0) {
    return { result: 'requeue', afterMs: 30_000, reason: 'zone left on an unselected instance' };
  }
  return waiting ? WAIT_ELSEWHERE : outcome;
}

/** Every primary ran and no removal was refused: what was removed is gone everywhere. */
function allApplied(primaries: readonly InstanceRun[]): boolean {
  return (
    primaries.length > 0 &&
    primaries.every(
      (p) => p.result.ok && p.result.rejected.every((x) => x.change.action !== 'delete'),
    )
  );
}

// ---------------------------------------------------------------------------------------
// Zones that must not be served: a younger duplicate, an invalid spec

/** The oldest other DNSZone, in any watched namespace, for the same zone name, if older. */
export function olderRival(ctx: ReconcileContext, zone: DNSZone): DNSZone | undefined {
  const name = normalizeName(zone.spec.zoneName);
  const self = objectId(zone.metadata);
  const oldest = ctx.caches.zones
    .list()
    .filter((z) => normalizeName(z.spec.zoneName) === name)
    .sort(olderFirst)[0];
  if (oldest === undefined) return undefined;
  return objectId(oldest.metadata) === self ? undefined : oldest;
}

/**
 * Nothing is done for the zone: it is Ready=False with `why`, its records ZoneNotReady.
 * A deleted record that never wrote through this zone is let go. One that did (the zone
 * was valid before) keeps its finalizer: nothing may be sent through a zone in this state,
 * and letting it go would leave its RRset on named for good. Its RRset is removed once
 * the zone is valid again; deleting the zone removes it with the whole zone.
 */
async function blocked(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
  why: Reason,
): Promise<Outcome> {
  await writeReady(ctx, zone, { status: 'False', ...why });
  const message = `DNSZone ${zone.metadata.name}: ${why.message}`;
  let waiting = false;
  await eachLimited(records, STATUS_PARALLELISM, async (r) => {
    if (!isDeleting(r)) {
      await writeReady(ctx, r, { status: 'False', reason: 'ZoneNotReady', message });
    } else if (wroteThrough(ctx, r, zone)) {
      const held = `${message}; deletion waits: the RRset is removed once the DNSZone is valid again, or with the zone when it is deleted`;
      await writeReady(ctx, r, { status: 'False', reason: 'ZoneNotReady', message: held });
    } else if (await releaseUnlessHeld(ctx, r)) {
      waiting = true;
    }
  });
  return waiting ? WAIT_ELSEWHERE : OK;
}

/**
 * A younger DNSZone for a zone name an older one already manages (DESIGN.md: the oldest
 * wins). It touches no server, and its deletion never removes the zone: that is the
 * older one's.
 */
async function standAside(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
  rival: DNSZone,
): Promise<Outcome> {
  if (isDeleting(zone)) {
    await eachLimited(records.filter(isDeleting), STATUS_PARALLELISM, (r) =>
      releaseFinalizer(ctx, r),
    );
    await releaseFinalizer(ctx, zone);
    return records.some((r) => !isDeleting(r)) ? OK : GONE;
  }
  const older = objectId(rival.metadata);
  const message = `zone ${fqdn(zone.spec.zoneName)} is already managed by the older DNSZone ${older}`;
  return blocked(ctx, zone, records, { reason: 'Conflict', message });
}

/** How long a deleted object has waited for its finalizer, by our clock. */
function waitedMs(ctx: ReconcileContext, obj: { metadata: { deletionTimestamp?: string } }) {
  const since = Date.parse(obj.metadata.deletionTimestamp ?? '');
  return Number.isNaN(since) ? 0 : ctx.clock.now() - since;
}

/**
 * Deleted records lose their finalizer once their RRsets are off every primary; while a
 * primary fails, they wait up to the deletion timeout, then go with a Warning Event. One
 * whose RRset another zone still has to remove waits for it (releaseUnlessHeld). Returns
 * true while some record waits for another zone.
 */
async function releaseDeleted(
  ctx: ReconcileContext,
  deleting: readonly RecordResource[],
  primaries: readonly InstanceRun[],
): Promise<boolean> {
  const failed = primaries.filter((p) => !p.result.ok).map((p) => p.instance.metadata.name);
  let waiting = false;
  await eachLimited(deleting, STATUS_PARALLELISM, async (r) => {
    if (failed.length > 0) {
      const waited = waitedMs(ctx, r);
      if (waited < ctx.deletionTimeoutMs) return;
      const message = `gave up removing the RRset from ${failed.join(', ')} after ${Math.round(waited / 1000)} s`;
      await ctx.events.record(r, 'Warning', 'DeletionIncomplete', message);
    }
    if (await releaseUnlessHeld(ctx, r)) waiting = true;
  });
  return waiting;
}

type ZoneInstanceStatus = NonNullable<NonNullable<DNSZone['status']>['instances']>[number];

/**
 * Instances that served the zone (status says so) but are no longer selected: the zone is
 * removed there. One that cannot be reached stays listed, so the next round tries again.
 */
async function dropUnselected(
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
    try {
      await ctx.backend.removeZone(await resolveTarget(instance, ctx.keys, ctx.files), zoneName);
      ctx.log.info(
        { zone: zoneName, instance: previous.name },
        'zone removed from unselected instance',
      );
    } catch (error) {
      const message = `no longer selected; removal failed: ${reasonFor(error).message}`;
      keep.push({ ...previous, inSync: false, message: message.slice(0, 4000) });
    }
  }
  return keep;
}

/**
 * A deleted zone: `rndc delzone` on every instance that may hold it, then the finalizer
 * goes. An instance that stays unreachable past the deletion timeout does not block it
 * forever: the finalizer is released with a Warning Event.
 */
async function deleteZone(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
): Promise<Outcome> {
  const zoneName = normalizeName(zone.spec.zoneName);
  const instances = instancesToClear(ctx, zone);
  const failures: { instance: string; error: unknown }[] = [];
  for (const instance of instances) {
    try {
      await ctx.backend.removeZone(await resolveTarget(instance, ctx.keys, ctx.files), zoneName);
      ctx.log.info({ zone: zoneName, instance: instance.metadata.name }, 'zone removed');
    } catch (error) {
      failures.push({ instance: instance.metadata.name, error });
    }
  }
  if (failures.length > 0) {
    const waited = waitedMs(ctx, zone);
    const summary = failures.map((f) => `${f.instance}: ${reasonFor(f.error).message}`).join('; ');
    if (waited < ctx.deletionTimeoutMs) return { result: 'transient', error: failures[0]!.error };
    await ctx.events.record(
      zone,
      'Warning',
      'DeletionIncomplete',
      `gave up removing ${zoneName} after ${Math.round(waited / 1000)} s: ${summary}`,
    );
  }
  // The zone is gone from named with everything in it: nothing is left to remove.
  ctx.written?.forgetZone(zoneId(zone));
  await eachLimited(records.filter(isDeleting), STATUS_PARALLELISM, (r) =>
    releaseFinalizer(ctx, r),
  );
  await releaseFinalizer(ctx, zone);
  return records.some((r) => !isDeleting(r)) ? OK : GONE;
}

/**
 * Every instance that may hold a zone being deleted: those its selector picks now and
 * those its status lists. The spec may have been edited into something the controller
 * rejects (a selector that picks nothing) after the zone was created: the status still
 * names where it went. A delzone of a zone that is not there is a success.
 */
function instancesToClear(ctx: ReconcileContext, zone: DNSZone): Bind9Instance[] {
  const listed = new Set((zone.status?.instances ?? []).map((i) => i.name));
  return ctx.caches.instances
    .list(zone.metadata.namespace)
    .filter(
      (i) =>
        listed.has(i.metadata.name) ||
        selectorMatches(zone.spec.instanceSelector, i.metadata.labels),
    );
}
