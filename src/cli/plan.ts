/**
 * `bind9-controller plan -f PATH... --server HOST[:PORT] --key-file FILE`: what `apply`
 * would change, printed as the script `nsupdate -k FILE` accepts. It runs the sync loop
 * `apply` and the controller run (src/bind/sync.ts: SOA changes, retired glue, prune,
 * the same messages) against a backend that changes nothing (dry-run.ts), and takes every
 * flag `apply` takes. Exit status as `diff`: 0 nothing would change, 2 something would, 1
 * an error (an invalid manifest included, in which case nothing is read from the server).
 */
import { BindBackend } from '../bind/bind-backend.ts';
import { changeShare, type Plan, plainRRset, tooMuchChange } from '../bind/plan.ts';
import { formatNsupdateScript } from '../bind/script.ts';
import { syncZone } from '../bind/sync.ts';
import { DnsClient, updateMessageSize } from '../dns/client.ts';
import { fqdn, type RRset } from '../dns/rrset.ts';
import { zoneOwnedRRsets } from '../reconcilers/desired.ts';
import { DryRun } from './dry-run.ts';
import { formatIssue, loadManifests, type ManifestSet, type ZoneManifests } from './manifests.ts';
import {
  type CliIO,
  consoleIO,
  errorText,
  parseTargetArgs,
  RNDC_USAGE,
  TARGET_USAGE,
  type TargetOptions,
  targetOf,
} from './target.ts';
import { cliLog, syncInputOf } from './zones.ts';

export const PLAN_USAGE = `usage: bind9-controller plan -f PATH... --server HOST[:PORT] --key-file FILE
       [--prune] [--force] [--rndc HOST[:PORT] --rndc-key-file FILE --zone-dir DIR]

Reads DNSZone and record manifests, reads each zone from the server (signed AXFR), and
prints the changes 'apply' would send as an nsupdate script. With --rndc it also says which
zones 'apply' would create. Exit 0: no changes; 2: changes; 1: error.

${TARGET_USAGE}
${RNDC_USAGE}`;

/**
 * What a zone that does not exist yet will hold once `apply --rndc` creates it: the base
 * file's apex NS and glue (its SOA is the declared one, so no SOA change is planned).
 */
export function baseZoneRRsets(zone: ZoneManifests): RRset[] {
  return zoneOwnedRRsets(zone.zone.object).map(plainRRset);
}

/** Loads and validates manifests; reports every issue and returns undefined if any. */
export async function loadOrReport(
  files: readonly string[],
  io: CliIO,
): Promise<ManifestSet | undefined> {
  const manifests = await loadManifests(files);
  for (const issue of manifests.issues) io.err(formatIssue(issue));
  if (manifests.issues.length > 0) {
    io.err(`${manifests.issues.length} problem(s) in the manifests: nothing was sent`);
    return undefined;
  }
  if (manifests.zones.length === 0) {
    io.err('no DNSZone among the manifests: nothing to do');
    return undefined;
  }
  return manifests;
}

function thresholdWarning(plan: Plan, observed: readonly RRset[], options: TargetOptions) {
  const share = changeShare(plan, observed);
  if (!tooMuchChange(share, options.maxChangePercent)) return undefined;
  const then = options.force
    ? 'apply sends it anyway (--force)'
    : 'apply refuses this without --force';
  return `; WARNING: changes ${share.changed} of ${share.existing} existing RRsets (more than ${options.maxChangePercent}%): ${then}`;
}

/** The lines before the script: a zone that would be created, or is not served. */
function zoneNotes(dry: DryRun, zone: string, options: TargetOptions): string[] {
  const server = `${options.server.address}:${options.server.port}`;
  if (dry.toCreate.has(zone)) {
    return [
      `; zone ${fqdn(zone)} is not served by ${server}: apply creates it over rndc, then sends:`,
    ];
  }
  if (dry.unserved.has(zone)) {
    return [
      `; zone ${fqdn(zone)} is not served by ${server}: apply --rndc ... creates it first, then sends:`,
    ];
  }
  return [];
}

/** Prints one zone's script; true when it has changes (or the zone does not exist yet). */
async function planOne(client: DnsClient, zone: ZoneManifests, options: TargetOptions, io: CliIO) {
  const name = zone.desired.zone;
  const dry = new DryRun(new BindBackend({ dns: client }), client, () => baseZoneRRsets(zone));
  let warning: string | undefined;
  const approve = (plan: Plan, observed: readonly RRset[]) => {
    warning = thresholdWarning(plan, observed, options);
  };
  const target = targetOf(options);
  const result = await syncZone(dry, target, syncInputOf(zone, options), cliLog(io), { approve });
  if (!result.ok) throw result.error;
  const plan = result.plan ?? { zone: name, changes: [], skipped: [] };
  const script = formatNsupdateScript(plan, options.server, options.key.name, {
    key: options.key,
    measure: updateMessageSize,
  });
  const notes = zoneNotes(dry, name, options);
  io.out([...notes, ...(warning === undefined ? [] : [warning]), script].join('\n'));
  return notes.length > 0 || plan.changes.length > 0;
}

export async function runPlan(args: readonly string[], io: CliIO = consoleIO): Promise<number> {
  let options: TargetOptions | undefined;
  let manifests: ManifestSet | undefined;
  try {
    options = await parseTargetArgs(args);
    if (options === undefined) {
      io.out(PLAN_USAGE);
      return 0;
    }
    manifests = await loadOrReport(options.files, io);
  } catch (error) {
    io.err(`plan: ${errorText(error)}`);
    return 1;
  }
  if (manifests === undefined) return 1;
  const client = new DnsClient({ timeoutMs: options.timeoutMs });
  try {
    let changes = false;
    for (const zone of manifests.zones) {
      if (await planOne(client, zone, options, io)) changes = true;
    }
    return changes ? 2 : 0;
  } catch (error) {
    io.err(`plan: ${errorText(error)}`);
    return 1;
  } finally {
    await client.close();
  }
}
