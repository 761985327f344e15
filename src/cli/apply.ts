/**
 * `bind9-controller apply`: the flags of `plan`, then the plan is sent as TSIG-signed
 * UPDATE messages by the same executor the controller uses, and every change is printed.
 * With `--rndc`, `--rndc-key-file` and `--zone-dir`, zones the server does not serve yet
 * are created first (base file + `rndc addzone`, as the controller does).
 *
 * Exit 0 when every change was applied, 1 when anything was refused or failed.
 */
import { type ApplyResult, applyPlan, StalePlanError } from '../bind/executor.ts';
import { directoryStore } from '../bind/files.ts';
import { type Change, changeShare, type Plan, tooMuchChange } from '../bind/plan.ts';
import type { InstanceTarget } from '../bind/target.ts';
import { ensureZone } from '../bind/zones.ts';
import { DnsClient, updateMessageSize } from '../dns/client.ts';
import { fqdn, type RRset } from '../dns/rrset.ts';
import { PermanentError } from '../errors.ts';
import { zoneConfigOf } from '../reconcilers/zone.ts';
import type { ZoneManifests } from './manifests.ts';
import { loadOrReport, planFor } from './plan.ts';
import {
  type CliIO,
  consoleIO,
  errorText,
  parseTargetArgs,
  RNDC_USAGE,
  readZone,
  TARGET_USAGE,
  type TargetOptions,
} from './target.ts';

export const APPLY_USAGE = `usage: bind9-controller apply -f PATH... --server HOST[:PORT] --key-file FILE
       [--prune] [--force] [--rndc HOST[:PORT] --rndc-key-file FILE --zone-dir DIR]

Sends the changes 'plan' prints as TSIG-signed UPDATE messages and prints what it did.
Exit 0: everything applied; 1: anything refused or failed.

${TARGET_USAGE}
${RNDC_USAGE}`;

/** Re-reads after a failed prerequisite (someone else changed the zone) at most this often. */
const MAX_ATTEMPTS = 3;

function changeLine(change: Change): string {
  const s = change.after ?? change.before;
  const verb = { create: 'created', update: 'updated', delete: 'deleted' }[change.action];
  return `${verb} ${fqdn(s.name)} ${s.type} (${change.owner ?? 'pruned: no manifest declares it'})`;
}

function report(zone: string, result: ApplyResult, io: CliIO): void {
  for (const change of result.applied) io.out(changeLine(change));
  for (const { change, error } of result.rejected) {
    io.err(
      `refused ${fqdn((change.after ?? change.before).name)} ${(change.after ?? change.before).type} (${change.owner ?? 'pruned'}): ${error.message}`,
    );
  }
  const count = (action: Change['action']) =>
    result.applied.filter((c) => c.action === action).length;
  io.out(
    `zone ${fqdn(zone)}: ${count('create')} created, ${count('update')} updated, ${count('delete')} deleted, ${result.rejected.length} refused, in ${result.messages} UPDATE message(s)`,
  );
}

/** Creates the zone over rndc when asked to; says what it did. */
async function ensureIfAsked(
  zone: ZoneManifests,
  options: TargetOptions,
  io: CliIO,
): Promise<void> {
  if (options.rndc === undefined) return;
  const target: InstanceTarget = {
    id: 'cli',
    role: 'primary',
    dns: options.server,
    rndc: options.rndc.endpoint,
    rndcKey: options.rndc.key,
    tsigKey: options.key,
    files: directoryStore(options.rndc.zoneDir),
  };
  const outcome = await ensureZone(target, zoneConfigOf(zone.zone.object));
  if (outcome !== 'unchanged') io.out(`zone ${fqdn(zone.desired.zone)}: ${outcome} over rndc`);
}

async function observe(client: DnsClient, zone: string, options: TargetOptions): Promise<RRset[]> {
  const observed = await readZone(client, options.server, options.key, zone);
  if (observed !== undefined) return observed;
  const server = `${options.server.address}:${options.server.port}`;
  throw new PermanentError(
    'ZONE_NOT_FOUND',
    `zone ${fqdn(zone)} is not served by ${server}: pass --rndc, --rndc-key-file and --zone-dir to create it`,
  );
}

function checkThreshold(plan: Plan, observed: readonly RRset[], options: TargetOptions): void {
  const share = changeShare(plan, observed);
  if (options.force || !tooMuchChange(share, options.maxChangePercent)) return;
  throw new PermanentError(
    'TOO_MUCH_CHANGE',
    `zone ${fqdn(plan.zone)}: the plan changes ${share.changed} of ${share.existing} existing RRsets (more than ${options.maxChangePercent}%); check it with 'plan', then use --force`,
  );
}

/** Applies one zone; true when everything it wanted is in place. */
async function applyOne(client: DnsClient, zone: ZoneManifests, options: TargetOptions, io: CliIO) {
  await ensureIfAsked(zone, options, io);
  for (let attempt = 1; ; attempt++) {
    const observed = await observe(client, zone.desired.zone, options);
    const plan = planFor(zone, observed, options);
    for (const s of plan.skipped) {
      io.err(
        `skipped ${fqdn(s.rrset.name)} ${s.rrset.type} (${s.rrset.owner}): ${s.reason}: ${s.message}`,
      );
    }
    checkThreshold(plan, observed, options);
    try {
      const result = await applyPlan(client, options.server, options.key, plan, {
        measure: updateMessageSize,
      });
      report(plan.zone, result, io);
      return result.rejected.length === 0 && plan.skipped.length === 0;
    } catch (error) {
      if (!(error instanceof StalePlanError) || attempt >= MAX_ATTEMPTS) throw error;
      for (const change of error.result.applied) io.out(changeLine(change));
      io.err(`zone ${fqdn(plan.zone)} changed while applying (${error.code}): reading it again`);
    }
  }
}

export async function runApply(args: readonly string[], io: CliIO = consoleIO): Promise<number> {
  let options: TargetOptions | undefined;
  try {
    options = await parseTargetArgs(args, true);
    if (options === undefined) {
      io.out(APPLY_USAGE);
      return 0;
    }
    const manifests = await loadOrReport(options.files, io);
    if (manifests === undefined) return 1;
    const client = new DnsClient({ timeoutMs: options.timeoutMs });
    let ok = true;
    try {
      for (const zone of manifests.zones) {
        // One zone failing does not stop the others: each is its own unit of work.
        const done = await applyOne(client, zone, options, io).catch((error: unknown) => {
          io.err(`apply: ${errorText(error)}`);
          return false;
        });
        ok &&= done;
      }
    } finally {
      await client.close();
    }
    return ok ? 0 : 1;
  } catch (error) {
    io.err(`apply: ${errorText(error)}`);
    return 1;
  }
}
