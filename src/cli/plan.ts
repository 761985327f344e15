/**
 * `bind9-controller plan -f PATH... --server HOST[:PORT] --key-file FILE`: what `apply`
 * would change, printed as the script `nsupdate -k FILE` accepts. Exit status as `diff`:
 * 0 nothing would change, 2 something would, 1 an error (an invalid manifest included,
 * in which case nothing is read from the server either).
 */
import {
  changeShare,
  formatNsupdateScript,
  type Plan,
  plainRRset,
  planZone,
  tooMuchChange,
} from '../bind/plan.ts';
import { DnsClient } from '../dns/client.ts';
import { fqdn, type RRset } from '../dns/rrset.ts';
import { zoneOwnedRRsets } from '../reconcilers/desired.ts';
import { formatIssue, loadManifests, type ManifestSet, type ZoneManifests } from './manifests.ts';
import {
  type CliIO,
  consoleIO,
  errorText,
  parseTargetArgs,
  readZone,
  TARGET_USAGE,
  type TargetOptions,
} from './target.ts';

export const PLAN_USAGE = `usage: bind9-controller plan -f PATH... --server HOST[:PORT] --key-file FILE [--prune]

Reads DNSZone and record manifests, reads each zone from the server (signed AXFR), and
prints the changes as an nsupdate script. Exit 0: no changes; 2: changes; 1: error.

${TARGET_USAGE}`;

/** The zone's plan: prune when asked on the command line or by the DNSZone itself. */
export function planFor(
  zone: ZoneManifests,
  observed: readonly RRset[],
  options: TargetOptions,
): Plan {
  return planZone({
    zone: zone.desired.zone,
    desired: zone.desired.rrsets,
    observed,
    prune: options.prune || zone.zone.object.spec.prune === true,
  });
}

/**
 * What a zone that does not exist yet will hold once `apply --rndc` creates it: the base
 * file's apex NS and glue (the SOA is never planned).
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

function thresholdWarning(
  plan: Plan,
  observed: readonly RRset[],
  options: TargetOptions,
): string[] {
  const share = changeShare(plan, observed);
  if (!tooMuchChange(share, options.maxChangePercent)) return [];
  return [
    `; WARNING: changes ${share.changed} of ${share.existing} existing RRsets (more than ${options.maxChangePercent}%): apply refuses this without --force`,
  ];
}

/** Prints one zone's script; true when it has changes (or the zone does not exist yet). */
async function planOne(client: DnsClient, zone: ZoneManifests, options: TargetOptions, io: CliIO) {
  const name = zone.desired.zone;
  const live = await readZone(client, options.server, options.key, name);
  const observed = live ?? baseZoneRRsets(zone);
  const plan = planFor(zone, observed, options);
  const server = `${options.server.address}:${options.server.port}`;
  const missing =
    live === undefined
      ? [
          `; zone ${fqdn(name)} is not served by ${server}: apply --rndc ... creates it first, then sends:`,
        ]
      : [];
  const warning = thresholdWarning(plan, observed, options);
  io.out(
    [...missing, ...warning, formatNsupdateScript(plan, options.server, options.key.name)].join(
      '\n',
    ),
  );
  return live === undefined || plan.changes.length > 0;
}

export async function runPlan(args: readonly string[], io: CliIO = consoleIO): Promise<number> {
  let options: TargetOptions | undefined;
  let manifests: ManifestSet | undefined;
  try {
    options = await parseTargetArgs(args, false);
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
