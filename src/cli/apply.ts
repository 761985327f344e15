/**
 * `bind9-controller apply`: the flags of `plan`, then the sync loop the controller runs
 * (src/bind/sync.ts) sends the plan as TSIG-signed UPDATE messages, and every change is
 * printed. With `--rndc`, `--rndc-key-file` and `--zone-dir`, zones the server does not
 * serve yet are created first (base file + `rndc addzone`, as the controller does).
 *
 * Exit 0 when every change was applied, 1 when anything was refused or failed.
 */
import { BindBackend } from '../bind/bind-backend.ts';
import type { Change, Plan } from '../bind/plan.ts';
import { changeShare, tooMuchChange } from '../bind/plan.ts';
import { type SyncResult, syncZone } from '../bind/sync.ts';
import { DnsClient } from '../dns/client.ts';
import { fqdn, type RRset } from '../dns/rrset.ts';
import { PermanentError } from '../errors.ts';
import type { ZoneManifests } from './manifests.ts';
import { loadOrReport } from './plan.ts';
import {
  type CliIO,
  consoleIO,
  errorText,
  notServed,
  parseTargetArgs,
  RNDC_USAGE,
  TARGET_USAGE,
  type TargetOptions,
  targetOf,
} from './target.ts';
import { cliLog, syncInputOf } from './zones.ts';

export const APPLY_USAGE = `usage: bind9-controller apply -f PATH... --server HOST[:PORT] --key-file FILE
       [--prune] [--force] [--rndc HOST[:PORT] --rndc-key-file FILE --zone-dir DIR]

Sends the changes 'plan' prints as TSIG-signed UPDATE messages and prints what it did.
Exit 0: everything applied; 1: anything refused or failed.

${TARGET_USAGE}
${RNDC_USAGE}`;

function subject(change: Change) {
  const s = change.after ?? change.before;
  return `${fqdn(s.name)} ${s.type}`;
}

function changeLine(change: Change): string {
  const verb = { create: 'created', update: 'updated', delete: 'deleted' }[change.action];
  return `${verb} ${subject(change)} (${change.owner ?? 'pruned: no manifest declares it'})`;
}

type Synced = Extract<SyncResult, { ok: true }>;

function report(zone: string, result: Synced, io: CliIO): void {
  for (const s of result.plan?.skipped ?? []) {
    io.err(
      `skipped ${fqdn(s.rrset.name)} ${s.rrset.type} (${s.rrset.owner}): ${s.reason}: ${s.message}`,
    );
  }
  if (result.ensured !== 'unchanged') io.out(`zone ${fqdn(zone)}: ${result.ensured} over rndc`);
  for (const change of result.applied) io.out(changeLine(change));
  for (const { change, error } of result.rejected) {
    io.err(`refused ${subject(change)} (${change.owner ?? 'pruned'}): ${error.message}`);
  }
  // Records only: a replaced SOA shows in its own line above.
  const count = (action: Change['action']) =>
    result.applied.filter((c) => c.action === action && (c.after ?? c.before).type !== 'SOA')
      .length;
  io.out(
    `zone ${fqdn(zone)}: ${count('create')} created, ${count('update')} updated, ${count('delete')} deleted, ${result.rejected.length} refused, in ${result.messages} UPDATE message(s)`,
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

/** A zone that is not there, said so with what would create it. */
async function explain(client: DnsClient, zone: string, options: TargetOptions, error: unknown) {
  if (options.rndc !== undefined || !(await notServed(client, options.server, zone, error))) {
    return error;
  }
  const server = `${options.server.address}:${options.server.port}`;
  return new PermanentError(
    'ZONE_NOT_FOUND',
    `zone ${fqdn(zone)} is not served by ${server}: pass --rndc, --rndc-key-file and --zone-dir to create it`,
  );
}

/** Applies one zone; true when everything it wanted is in place. */
async function applyOne(client: DnsClient, zone: ZoneManifests, options: TargetOptions, io: CliIO) {
  const approve = (plan: Plan, observed: readonly RRset[]) =>
    checkThreshold(plan, observed, options);
  const backend = new BindBackend({ dns: client });
  const input = syncInputOf(zone, options);
  const result = await syncZone(backend, targetOf(options), input, cliLog(io), { approve });
  if (!result.ok) throw await explain(client, zone.desired.zone, options, result.error);
  report(zone.desired.zone, result, io);
  return result.rejected.length === 0 && (result.plan?.skipped.length ?? 0) === 0;
}

export async function runApply(args: readonly string[], io: CliIO = consoleIO): Promise<number> {
  let options: TargetOptions | undefined;
  try {
    options = await parseTargetArgs(args);
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
