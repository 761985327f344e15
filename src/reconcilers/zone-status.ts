/**
 * What a zone reconcile's runs mean for status: Ready of each record and of the zone, the
 * zone's per-instance entries, and the outcome the work queue acts on. Pure functions of
 * the desired state and the runs, but for `writeRecordStatuses`.
 */
import type { ZoneInstanceStatus } from '../api/dnszone.ts';
import { resourceKey } from '../api/ids.ts';
import type { DNSZone, RecordResource } from '../api/kinds.ts';
import { fqdn, rrsetKey } from '../dns/rrset.ts';
import { isControllerError } from '../errors.ts';
import { eachLimited, type ReconcileContext, writeReady } from './context.ts';
import type { DesiredState } from './desired.ts';
import { OK, type Outcome, worstOutcome } from './outcome.ts';
import { isRepairable, type Reason, reasonFor } from './reasons.ts';
import type { InstanceRun } from './zone-instances.ts';

/**
 * Status writes in flight at once for the records of one zone. The last round of a burst
 * writes the statuses of every record that arrived during the round before it: at 8 at a
 * time that took 1.3 s after the last create for 1,000 records in one zone, at 32 0.8 s
 * (bench/RESULTS.md, issue #16), with the creates accepted no slower. (Before the finalizer
 * came at admission, each record cost two writes, and 32 did slow the creates down.)
 */
export const STATUS_PARALLELISM = 32;

type Ready = Reason & { readonly status: 'True' | 'False' };

function skippedReason(reason: string): string {
  if (reason === 'CnameConflict') return 'Conflict';
  return reason === 'NameOutsideZone' ? 'NameOutsideZone' : 'InvalidSpec';
}

/** Why one primary's run leaves a record not Ready, if it does. */
function notReadyOn(key: string, run: InstanceRun): Ready | undefined {
  const r = run.result;
  const where = run.instance.metadata.name;
  if (!r.ok) {
    const { reason, message } = reasonFor(r.error);
    return { status: 'False', reason, message: `${where}: ${message}` };
  }
  const skipped = r.plan?.skipped.find((s) => s.rrset.owner === key);
  if (skipped !== undefined) {
    const message = `${where}: ${skipped.message}`;
    return { status: 'False', reason: skippedReason(skipped.reason), message };
  }
  const rejected = r.rejected.find((x) => x.change.owner === key);
  if (rejected === undefined) return undefined;
  const message = `${where}: ${rejected.error.message}`;
  return { status: 'False', reason: reasonFor(rejected.error).reason, message };
}

/** Ready of one record resource from the desired-state outcome and every primary's result. */
export function recordReady(
  key: string,
  desired: DesiredState,
  primaries: readonly InstanceRun[],
): Ready {
  const outcome = desired.outcomes.get(key);
  if (outcome !== undefined && !outcome.ok) {
    const reason = outcome.reason === 'CnameConflict' ? 'Conflict' : outcome.reason;
    return { status: 'False', reason, message: outcome.message };
  }
  if (primaries.length === 0) {
    const message = 'the zone selects no primary Bind9Instance';
    return { status: 'False', reason: 'NoInstances', message };
  }
  for (const run of primaries) {
    const notReady = notReadyOn(key, run);
    if (notReady !== undefined) return notReady;
  }
  const names = primaries.map((p) => p.instance.metadata.name).join(', ');
  return { status: 'True', reason: 'Synced', message: `served by ${names}` };
}

function transferMessage(serial: number | undefined): string {
  return serial === undefined
    ? 'transfer pending: the secondary does not serve the zone yet'
    : `transfer pending: the secondary serves serial ${serial}, not its primaries' serial`;
}

export function instanceStatus(run: InstanceRun): ZoneInstanceStatus {
  const name = run.instance.metadata.name;
  const r = run.result;
  if (!r.ok) {
    const message = reasonFor(r.error).message.slice(0, 4000);
    return { name, present: false, inSync: false, message };
  }
  const inSync =
    r.rejected.length === 0 && (r.plan?.skipped.length ?? 0) === 0 && r.transferPending !== true;
  const serial = r.serial === undefined ? {} : { serial: r.serial };
  const pending = r.transferPending === true ? { message: transferMessage(r.serial) } : {};
  return { name, present: true, inSync, ...serial, ...pending };
}

export function zoneReady(runs: readonly InstanceRun[]): Ready {
  if (runs.length === 0) {
    const message = 'the instanceSelector matches no Bind9Instance';
    return { status: 'False', reason: 'NoInstances', message };
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

export function outcomeOf(runs: readonly InstanceRun[]): Outcome {
  return worstOutcome(
    runs.map((run): Outcome => {
      // A pending transfer is looked at again every 3 s: the primary's signed NOTIFY brings
      // the secondary up within seconds, and a backoff would leave the zone TransferPending
      // for a minute after it caught up (seen on a Bind9Cluster: ~60 s of 83).
      if (run.result.ok && run.result.transferPending === true) {
        return { result: 'requeue', afterMs: 3_000, reason: transferMessage(run.result.serial) };
      }
      if (run.result.ok) return OK;
      const error = run.result.error;
      // Waiting for the kubelet to deliver a base file: a steady look every 5 s, not a
      // backoff that would reach minutes while the file arrives within one (zones.ts).
      if (isControllerError(error) && error.code === 'BASE_FILE_NOT_DELIVERED') {
        return { result: 'requeue', afterMs: 5_000, reason: error.message };
      }
      return (error as { disposition?: string }).disposition === 'permanent' && !isRepairable(error)
        ? { result: 'permanent', error }
        : { result: 'transient', error };
    }),
  );
}

/**
 * Ready of each live record; a Ready one also records the RRset it wrote (renames, moves,
 * deletion), unless its pointer still names another zone that has to take its RRset out
 * (`elsewhere`): that zone clears it, and the next round here writes this one's. Returns
 * the owners whose pointer was written, with the RRset key it names.
 */
export async function writeRecordStatuses(
  ctx: ReconcileContext,
  zone: DNSZone,
  records: readonly RecordResource[],
  desired: DesiredState,
  primaries: readonly InstanceRun[],
  elsewhere: (r: RecordResource) => boolean,
): Promise<Map<string, string>> {
  const byOwner = new Map(desired.rrsets.map((r) => [r.owner, r]));
  const pointed = new Map<string, string>();
  await eachLimited(records, STATUS_PARALLELISM, async (r) => {
    const key = resourceKey(r);
    const ready = recordReady(key, desired, primaries);
    const rrset = ready.status === 'True' ? byOwner.get(key) : undefined;
    const moving = rrset !== undefined && elsewhere(r);
    const written =
      rrset === undefined || moving
        ? {}
        : { fqdn: fqdn(rrset.name), recordType: rrset.type, zone: zone.metadata.name };
    await writeReady(ctx, r, ready, written);
    if (rrset !== undefined && !moving) pointed.set(key, rrsetKey(rrset));
  });
  return pointed;
}
