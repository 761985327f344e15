/**
 * The DNSZone reconcile, the unit of work (DESIGN.md): one key per zone, covering the zone
 * on every selected instance and every record resource that names it. A zone is in one of
 * five situations, each handled by one function below:
 *
 * - gone from the cache (`withoutZone`): its records say ZoneNotFound, deleted ones go;
 * - a younger duplicate of another DNSZone on the same server (`standAside`): touches no
 *   server;
 * - inside another tenant's zone on the same server without its leave (`refuseNested`):
 *   not served, removed where it was;
 * - being deleted (`deleteZone`): delzone everywhere, then the finalizers go;
 * - invalid (`blocked`): touches no server, its records say ZoneNotReady;
 * - valid (`serve`): gather → claim (ownership.ts) → apply (the sync loop on each
 *   instance) → status, top to bottom.
 *
 * Every deletion ends in finalizer.ts's `finishDeletion`, the one place that knows the
 * deletion deadline; every decision about who owns which RRset is ownership.ts's.
 */
import { objectId, resourceKey } from '../api/ids.ts';
import type { Bind9Instance, DNSZone, RecordResource } from '../api/kinds.ts';
import { formatIssues, validateSpec } from '../api/validate.ts';
import type { SyncInput } from '../bind/sync.ts';
import { fqdn } from '../dns/rrset.ts';
import {
  eachLimited,
  isDeleting,
  patchStatus,
  type ReconcileContext,
  recordsOfZone,
  writeReady,
} from './context.ts';
import { desiredState, zoneConfigOf } from './desired.ts';
import {
  addFinalizers,
  CLEANED,
  type Cleanup,
  finishDeletion,
  requireFinalizer,
} from './finalizer.ts';
import { awaitingProbe } from './health.ts';
import { GONE, OK, type Outcome } from './outcome.ts';
import {
  type Claim,
  departedFrom,
  toStatus,
  type ZoneOwners,
  zoneHoldingPointer,
} from './ownership.ts';
import { type Reason, reasonFor } from './reasons.ts';
import {
  allApplied,
  dropUnselected,
  type InstanceRun,
  instancesToClear,
  isPrimary,
  removeEverywhere,
  runAll,
  selectedInstances,
} from './zone-instances.ts';
import {
  childZones,
  enclosingZone,
  nestingRefusal,
  olderRival,
  withoutShadowed,
} from './zone-peers.ts';
import {
  instanceStatus,
  outcomeOf,
  STATUS_PARALLELISM,
  writeRecordStatuses,
  zoneReady,
} from './zone-status.ts';

/**
 * An instance of the zone has not answered its first health probe (health.ts): the zone
 * goes back to the queue, touching nothing and writing nothing, instead of holding a worker
 * on a server that may never answer. The probe's answer wakes it; this is the fallback.
 */
function awaitProbe(pending: readonly Bind9Instance[]): Outcome {
  const names = pending.map((i) => i.metadata.name).join(', ');
  return {
    result: 'requeue',
    afterMs: 500,
    reason: `waiting for the first health probe of ${names}`,
  };
}

/** Looks again while a deleted record waits for another zone (its pointer event may not come). */
const WAIT_ELSEWHERE: Outcome = {
  result: 'requeue',
  afterMs: 30_000,
  reason: 'a deleted record waits for another DNSZone to remove its RRset',
};

export async function reconcileZone(
  ctx: ReconcileContext,
  namespace: string,
  name: string,
): Promise<Outcome> {
  const zone = ctx.caches.zones.get(namespace, name);
  const records = recordsOfZone(ctx.caches, namespace, name);
  if (zone === undefined) return withoutZone(ctx, objectId({ namespace, name }), name, records);
  const rival = olderRival(ctx, zone);
  if (rival !== undefined) return standAside(ctx, zone, records, rival);
  if (isDeleting(zone)) return deleteZone(ctx, zone, records);
  const parent = enclosingZone(ctx, zone);
  const intrudes = parent === undefined ? undefined : nestingRefusal(ctx, zone, parent);
  if (intrudes !== undefined) return refuseNested(ctx, zone, records, intrudes);
  const invalid = validateSpec('DNSZone', zone.spec);
  if (!invalid.ok) {
    return blocked(ctx, zone, records, {
      reason: 'InvalidSpec',
      message: formatIssues(invalid.errors),
    });
  }
  return serve(ctx, zone, records);
}

// ---------------------------------------------------------------------------------------
// Deleted records: one cleanup rule per situation, one place that ends the deletion

/** A deleted record whose RRset another zone still has to take out waits for it. */
function movedCleanup(ctx: ReconcileContext, r: RecordResource): Cleanup {
  const other = zoneHoldingPointer(ctx.caches, r);
  if (other === undefined) return CLEANED;
  return { done: false, left: `DNSZone ${other} has not removed the RRset yet` };
}

/** After a round of the zone: its RRset is off every primary, unless one failed. */
function roundCleanup(ctx: ReconcileContext, r: RecordResource, primaries: readonly InstanceRun[]) {
  const key = resourceKey(r);
  const failed = primaries.filter(
    (p) =>
      !p.result.ok ||
      p.result.rejected.some((x) => x.change.owner === key && x.change.action === 'delete'),
  );
  if (failed.length === 0) return movedCleanup(ctx, r);
  const names = failed.map((p) => p.instance.metadata.name).join(', ');
  return { done: false, left: `the RRset may still be on ${names}` } as const;
}

/** Ends the deletion of each record by its cleanup; true while one waits with a deadline. */
async function finishRecords(
  ctx: ReconcileContext,
  records: readonly RecordResource[],
  cleanupOf: (r: RecordResource) => Cleanup,
): Promise<boolean> {
  let waiting = false;
  await eachLimited(records, STATUS_PARALLELISM, async (r) => {
    const cleanup = cleanupOf(r);
    const state = await finishDeletion(ctx, r, cleanup);
    if (state === 'waiting' && !cleanup.done && cleanup.deadline !== false) waiting = true;
  });
  return waiting;
}

// ---------------------------------------------------------------------------------------
// The zone is gone, a duplicate, deleted or invalid

/** Records that name a zone that does not exist: ZoneNotFound; deleted ones go. */
async function withoutZone(
  ctx: ReconcileContext,
  id: string,
  name: string,
  records: readonly RecordResource[],
): Promise<Outcome> {
  ctx.ownership.forgetZone(id);
  const waiting = await finishRecords(ctx, records.filter(isDeleting), (r) => movedCleanup(ctx, r));
  await eachLimited(
    records.filter((r) => !isDeleting(r)),
    STATUS_PARALLELISM,
    (r) =>
      writeReady(ctx, r, {
        status: 'False',
        reason: 'ZoneNotFound',
        message: `DNSZone ${name} not found in namespace ${r.metadata.namespace}`,
      }),
  );
  if (waiting) return WAIT_ELSEWHERE;
  return records.length === 0 ? GONE : OK;
}

/**
 * A younger DNSZone for a zone name an older one already manages (DESIGN.md: the oldest
 * wins). It touches no server, and its deletion never removes the zone: that is the
 * older one's. Its records never wrote through it.
 */
async function standAside(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
  rival: DNSZone,
): Promise<Outcome> {
  if (isDeleting(zone)) {
    await finishRecords(ctx, records.filter(isDeleting), () => CLEANED);
    await finishDeletion(ctx, zone, CLEANED);
    return records.some((r) => !isDeleting(r)) ? OK : GONE;
  }
  const older = objectId(rival.metadata);
  const message = `zone ${fqdn(zone.spec.zoneName)} is already managed by the older DNSZone ${older}`;
  return blocked(ctx, zone, records, { reason: 'Conflict', message });
}

/**
 * Nothing is done for the zone: it is Ready=False with `why`, its records ZoneNotReady.
 * A deleted record that may hold an RRset here (the zone was valid before) waits, with no
 * deadline: nothing may be sent through a zone in this state, and letting it go would
 * leave its RRset on named for good. It goes once the zone is valid again, or with the
 * zone. Any other deleted record goes.
 */
async function blocked(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
  why: Reason,
  status: Readonly<Record<string, unknown>> = {},
): Promise<Outcome> {
  await writeReady(ctx, zone, { status: 'False', ...why }, status);
  const message = `DNSZone ${zone.metadata.name}: ${why.message}`;
  const held = `${message}; deletion waits: the RRset is removed once the DNSZone is valid again, or with the zone when it is deleted`;
  const stuck = (r: RecordResource) => isDeleting(r) && ctx.ownership.mayHold(zone, r);
  await eachLimited(
    records.filter((r) => !isDeleting(r) || stuck(r)),
    STATUS_PARALLELISM,
    (r) =>
      writeReady(ctx, r, {
        status: 'False',
        reason: 'ZoneNotReady',
        message: stuck(r) ? held : message,
      }),
  );
  const cleanup = (r: RecordResource): Cleanup =>
    stuck(r) ? { done: false, left: held, deadline: false } : movedCleanup(ctx, r);
  const waiting = await finishRecords(ctx, records.filter(isDeleting), cleanup);
  return waiting ? WAIT_ELSEWHERE : OK;
}

/**
 * A zone inside another tenant's zone on the same server, without that zone's leave
 * (zone-peers.ts): a Conflict, blocked like an invalid zone, and taken off the servers its
 * status says it is on (it may have been served before the parent came or changed its
 * mind), so the parent's names are answered by the parent. Nothing of it is left to remove.
 */
async function refuseNested(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
  message: string,
): Promise<Outcome> {
  const why = { reason: 'Conflict', message };
  if (!(zone.status?.instances ?? []).some((i) => i.present))
    return blocked(ctx, zone, records, why);
  const failures = await removeEverywhere(ctx, zone);
  if (failures.length > 0) {
    await blocked(ctx, zone, records, why);
    return { result: 'transient', error: failures[0]?.error };
  }
  ctx.ownership.forgetZone(objectId(zone.metadata));
  ctx.log.info(
    { zone: objectId(zone.metadata) },
    "zone refused inside another tenant's zone; removed",
  );
  return blocked(ctx, zone, records, why, { instances: [] });
}

/**
 * A deleted zone: `rndc delzone` on every instance that may hold it, then the finalizers
 * go, the records' first: the zone took everything in it along. An instance that stays
 * unreachable past the deletion deadline does not block it forever.
 */
async function deleteZone(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
): Promise<Outcome> {
  const pending = awaitingProbe(ctx.health, instancesToClear(ctx, zone));
  if (pending.length > 0) return awaitProbe(pending);
  const failures = await removeEverywhere(ctx, zone);
  const left = failures.map((f) => `${f.instance}: ${reasonFor(f.error).message}`).join('; ');
  const cleanup: Cleanup =
    failures.length === 0
      ? CLEANED
      : { done: false, left: `zone ${fqdn(zone.spec.zoneName)} may still be on ${left}` };
  const state = await finishDeletion(ctx, zone, cleanup, async () => {
    ctx.ownership.forgetZone(objectId(zone.metadata));
    await finishRecords(ctx, records.filter(isDeleting), () => CLEANED);
  });
  if (state === 'waiting') return { result: 'transient', error: failures[0]?.error };
  return records.some((r) => !isDeleting(r)) ? OK : GONE;
}

// ---------------------------------------------------------------------------------------
// A valid zone: gather → claim → apply → status

/**
 * The records of the zone by their state (finalizer.ts), our finalizer added to those
 * that lack it: one whose finalizer could not be added this round is held.
 */
async function ownersOf(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
): Promise<ZoneOwners> {
  const alive = records.filter((r) => !isDeleting(r));
  const live = await addFinalizers(ctx, alive);
  const finalized = new Set(live);
  return {
    live,
    held: alive.filter((r) => !finalized.has(r)),
    deleting: records.filter(isDeleting),
    departed: departedFrom(ctx.caches, zone),
  };
}

/** What may be sent is written down first (ownership.ts): a restart must not lose it. */
async function persistClaim(ctx: ReconcileContext, zone: DNSZone, claim: Claim): Promise<void> {
  if (!ctx.ownership.mustPersist(claim)) return;
  const unconfirmedWrites = toStatus(claim.unconfirmed);
  await patchStatus(ctx, zone, { unconfirmedWrites });
  ctx.ownership.persisted(claim, unconfirmedWrites);
}

function syncInputOf(zone: DNSZone, claim: Claim): SyncInput {
  return {
    zone: zoneConfigOf(zone),
    desired: claim.desired,
    removals: claim.removals,
    keep: claim.keep,
    prune: zone.spec.prune ?? false,
    manageApex: zone.spec.manageApex ?? false,
  };
}

/** Once every primary has dropped a departed record's RRset, its status stops pointing here. */
async function releaseDeparted(
  ctx: ReconcileContext,
  departed: readonly RecordResource[],
  primaries: readonly InstanceRun[],
): Promise<void> {
  if (primaries.length === 0 || primaries.some((p) => !p.result.ok)) return;
  const cleared = { fqdn: null, recordType: null, zone: null };
  await eachLimited(departed, STATUS_PARALLELISM, (r) => patchStatus(ctx, r, cleared));
}

async function serve(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
): Promise<Outcome> {
  const instances = selectedInstances(ctx, zone);
  const pending = awaitingProbe(ctx.health, instances);
  if (pending.length > 0) return awaitProbe(pending);
  // Gather. A finalizer goes on before anything is written, so nothing outlives its resource.
  await requireFinalizer(ctx, zone);
  const owners = await ownersOf(ctx, zone, records);
  const desired = withoutShadowed(
    desiredState(zone, [...owners.live, ...owners.held]),
    childZones(ctx, zone),
  );
  // Claim: who gets what, what goes, written down before it is sent.
  const claim = ctx.ownership.claim(zone, owners, desired, instances.some(isPrimary));
  await persistClaim(ctx, zone, claim);
  // Apply.
  const runs = await runAll(ctx, instances, syncInputOf(zone, claim));
  const leftovers = await dropUnselected(ctx, zone, instances);
  const primaries = runs.filter((r) => isPrimary(r.instance));
  // Status.
  const shown = owners.live.filter((r) => !claim.heldBack.has(resourceKey(r)));
  const elsewhere = (r: RecordResource) => zoneHoldingPointer(ctx.caches, r) !== undefined;
  const pointed = await writeRecordStatuses(ctx, zone, shown, desired, primaries, elsewhere);
  const unconfirmed = ctx.ownership.settle(claim, allApplied(primaries), pointed);
  await releaseDeparted(ctx, owners.departed, primaries);
  const waiting = await finishRecords(ctx, owners.deleting, (r) => roundCleanup(ctx, r, primaries));
  const extra = {
    instances: [...runs.map(instanceStatus), ...leftovers],
    ...(unconfirmed.length > 0 || ctx.ownership.differs(claim, unconfirmed)
      ? { unconfirmedWrites: unconfirmed }
      : {}),
  };
  await writeReady(ctx, zone, zoneReady(runs), extra, ctx.ownership.differs(claim, unconfirmed));
  ctx.ownership.persisted(claim, unconfirmed);
  return roundOutcome(runs, leftovers.length > 0, claim, waiting);
}

function roundOutcome(
  runs: readonly InstanceRun[],
  leftovers: boolean,
  claim: Claim,
  waiting: boolean,
): Outcome {
  const outcome = outcomeOf(runs);
  if (outcome.result !== 'ok') return outcome;
  if (leftovers) {
    return { result: 'requeue', afterMs: 30_000, reason: 'zone left on an unselected instance' };
  }
  if (claim.heldBack.size > 0) {
    return { result: 'requeue', afterMs: 1_000, reason: 'more new records than one round takes' };
  }
  return waiting ? WAIT_ELSEWHERE : OK;
}
