/**
 * One zone on one instance, the loop the controller and the CLI's `plan`/`apply` share:
 * ensure the zone exists (rndc; not on an instance without rndc, whose zones are provisioned
 * outside: there a zone it does not serve is ZoneNotServed, `readServed`; on a records-only
 * instance its SOA and apex NS stay as served unless `manageApex`, `apexAsServed`), read it
 * back (AXFR), plan against the desired RRsets (`planWithRemovals`: the
 * records, what deleted/renamed/moved resources held, the SOA, retired glue, prune) and
 * send the plan (UPDATE). A failed prerequisite means someone changed the zone since it was
 * read: read again and plan again, a bounded number of times.
 */
import {
  compareRRsets,
  isInZone,
  normalizeName,
  type RRset,
  rdataText,
  rrsetKey,
} from '../dns/rrset.ts';
import { isControllerError, PermanentError } from '../errors.ts';
import type { EnsureResult, ZoneBackend } from './backend.ts';
import { type ApplyResult, StalePlanError } from './executor.ts';
import { type Change, type DesiredRRset, isApexNs, type Plan, planZone } from './plan.ts';
import type { InstanceTarget } from './target.ts';
import { adminEmailToRname, type ZoneConfig } from './zone-file.ts';

const MAX_REPLANS = 3;

export interface SyncInput {
  readonly zone: ZoneConfig;
  readonly desired: readonly DesiredRRset[];
  /** RRsets of deleted record resources: removed if the zone holds them and no one wants them. */
  readonly removals: readonly DesiredRRset[];
  readonly prune: boolean;
  /** RRsets to leave as the zone holds them (planZone's `keep`): never written nor removed. */
  readonly keep?: readonly Pick<RRset, 'name' | 'type'>[];
  /**
   * For secondaries, when known: every serial the primaries it transfers from serve now
   * (primaries of one zone number their updates each on its own). Reaching any one is in
   * sync.
   */
  readonly primarySerials?: readonly number[];
  /** The DNSZone's `manageApex`: on a records-only target, write the SOA and apex NS too. */
  readonly manageApex?: boolean;
  /** Leave the SOA as served (a records-only target's zone; see apexAsServed). */
  readonly soaAsServed?: boolean;
}

/** Where the loop says what it did: pino's Logger in the controller, the CLI's own output. */
export interface SyncLog {
  info(fields: Record<string, unknown>, message: string): void;
}

export interface SyncOptions {
  /** Looks at each plan before it is sent; throws to refuse it (the CLI's change threshold). */
  readonly approve?: (plan: Plan, observed: readonly RRset[]) => void;
}

export type SyncResult =
  | {
      readonly ok: true;
      readonly ensured: 'created' | 'unchanged' | 'modified';
      readonly plan?: Plan;
      readonly applied: readonly Change[];
      readonly rejected: ApplyResult['rejected'];
      /** UPDATE messages sent, over every attempt. */
      readonly messages: number;
      readonly serial?: number;
      /**
       * A secondary that does not serve its primaries' serial yet: a transfer is pending
       * (requested, or the first load after the zone was added).
       */
      readonly transferPending?: boolean;
    }
  | { readonly ok: false; readonly error: unknown };

/** A removal needs only the name and type: removalChanges deletes whatever the zone holds there. */
export function removalOf(at: { readonly name: string; readonly type: string }, owner: string) {
  return {
    name: normalizeName(at.name),
    type: at.type,
    ttl: 0,
    rdata: [],
    owner,
  } as unknown as DesiredRRset;
}

/** The deletions for RRsets whose resources are gone, with observed minus those RRsets. */
export function removalChanges(
  observed: readonly RRset[],
  desired: readonly DesiredRRset[],
  removals: readonly DesiredRRset[],
): { changes: Change[]; rest: RRset[] } {
  const wanted = new Set(desired.map(rrsetKey));
  const doomed = new Map<string, string>();
  for (const r of removals) if (!wanted.has(rrsetKey(r))) doomed.set(rrsetKey(r), r.owner);
  const changes: Change[] = [];
  const rest: RRset[] = [];
  for (const o of observed) {
    const owner = doomed.get(rrsetKey(o));
    if (owner === undefined) rest.push(o);
    else changes.push({ action: 'delete', before: o, owner });
  }
  return { changes, rest };
}

/**
 * The SOA as declared (MNAME, RNAME and timers; the serial is named's). The planner never
 * touches the SOA, so a changed DNSZone.soaRecord is sent here as a replacement with the
 * next serial: RFC 2136 §3.4.2.2 makes named ignore an SOA add whose serial does not grow,
 * and §3.4.2.3 makes it ignore the delete the replacement starts with.
 */
export function soaChange(observed: readonly RRset[], zone: ZoneConfig): Change | undefined {
  const before = observed.find((r) => r.type === 'SOA');
  const current = before?.type === 'SOA' ? before.rdata[0] : undefined;
  if (before === undefined || current === undefined) return undefined;
  const wanted = {
    mname: normalizeName(zone.soa.primaryNs),
    rname: normalizeName(adminEmailToRname(zone.soa.adminEmail)),
    refresh: zone.soa.refresh,
    retry: zone.soa.retry,
    expire: zone.soa.expire,
    minimum: zone.soa.negativeTtl,
  };
  const same = (Object.keys(wanted) as (keyof typeof wanted)[]).every(
    (k) => current[k] === wanted[k],
  );
  if (same && before.ttl === zone.ttl) return undefined;
  const serial = (current.serial + 1) % 2 ** 32;
  const after: RRset = {
    name: before.name,
    type: 'SOA',
    ttl: zone.ttl,
    rdata: [{ ...wanted, serial }],
  };
  return { action: 'update', before, after };
}

/**
 * The glue of name servers the zone no longer declares: address RRsets at in-zone hosts of
 * the apex NS named serves now that the declared apex NS leaves out. The zone wrote them
 * as glue (RFC 1034 §4.2.1), so they go with their NS record, in the same plan (named
 * refuses the removal of an address an apex NS still needs). A record resource declaring
 * the same RRset keeps it (removalChanges spares what is desired).
 */
export function retiredGlue(
  zone: string,
  desired: readonly DesiredRRset[],
  observed: readonly RRset[],
): DesiredRRset[] {
  const wanted = desired.find((r) => isApexNs(r, zone));
  const served = observed.find((r) => isApexNs(r, zone));
  if (wanted?.type !== 'NS' || served?.type !== 'NS') return [];
  const kept = new Set(wanted.rdata.map((r) => normalizeName(r.host)));
  const out: DesiredRRset[] = [];
  for (const { host } of served.rdata) {
    const name = normalizeName(host);
    if (kept.has(name) || !isInZone(name, zone)) continue;
    for (const type of ['A', 'AAAA'] as const) out.push(removalOf({ name, type }, wanted.owner));
  }
  return out;
}

/**
 * The one plan of a zone on one instance: removals (what deleted, renamed and moved
 * resources held, and retired glue; never what is desired or kept), the SOA as declared,
 * and the planner's diff of the rest.
 */
export function planWithRemovals(input: SyncInput, observed: readonly RRset[]): Plan {
  const removals = [...input.removals, ...retiredGlue(input.zone.name, input.desired, observed)];
  const spared = [...input.desired, ...(input.keep ?? []).map((k) => removalOf(k, ''))];
  const { changes, rest } = removalChanges(observed, spared, removals);
  const soa = input.soaAsServed ? undefined : soaChange(observed, input.zone);
  // The SOA is the zone's own, as its apex NS is: the same owner in plans and scripts.
  const owner = input.desired.find((r) => isApexNs(r, input.zone.name))?.owner;
  if (soa !== undefined) changes.push(owner === undefined ? soa : { ...soa, owner });
  const plan = planZone({
    zone: input.zone.name,
    desired: input.desired,
    observed: rest,
    prune: input.prune,
    ...(input.keep === undefined ? {} : { keep: input.keep }),
  });
  const subject = (c: Change) => c.after ?? c.before;
  const all = [...plan.changes, ...changes].sort((a, b) => compareRRsets(subject(a), subject(b)));
  return { ...plan, changes: all };
}

function serialOf(observed: readonly RRset[]): number | undefined {
  const soa = observed.find((r) => r.type === 'SOA');
  return soa?.type === 'SOA' ? soa.rdata[0]?.serial : undefined;
}

/** Logs one line per applied change (DESIGN.md: one line per change applied). */
function logApplied(
  log: SyncLog,
  target: InstanceTarget,
  zone: string,
  applied: readonly Change[],
) {
  for (const c of applied) {
    const rrset = c.after ?? c.before;
    log.info(
      {
        instance: target.id,
        zone,
        action: c.action,
        name: rrset.name,
        type: rrset.type,
        ttl: c.after?.ttl,
        rdata:
          c.after === undefined
            ? undefined
            : (c.after.rdata as never[]).map((r) => rdataText(c.after!.type, r)),
        owner: c.owner,
      },
      'rrset changed',
    );
  }
}

/**
 * A secondary holds what it transferred, and is in sync only once it serves the serial its
 * primaries serve (an SOA query to each side). The primaries send no NOTIFY to it (they do
 * not know it: it is neither in the zone's NS set nor in an also-notify list), so when its
 * serial differs it is told to transfer again; a zone just created transfers on its own
 * (its first load). Until the serial matches, the result says `transferPending`: the zone
 * is not Ready and is looked at again with backoff. With no primary serial to compare
 * with (no primary answered, or none is selected) there is nothing to wait for.
 */
async function syncSecondary(
  backend: ZoneBackend,
  target: InstanceTarget,
  input: SyncInput,
  ensured: EnsureResult,
  log: SyncLog,
): Promise<SyncResult> {
  const done: SyncResult = { ok: true, ensured, applied: [], rejected: [], messages: 0 };
  const expected = input.primarySerials ?? [];
  if (expected.length === 0) return done;
  const serial = await backend.zoneSerial(target, input.zone.name);
  const seen = serial === undefined ? done : { ...done, serial };
  if (serial !== undefined && expected.includes(serial)) return seen;
  if (ensured !== 'created') {
    await backend.retransfer(target, input.zone.name);
    log.info(
      { instance: target.id, zone: input.zone.name, serial, primarySerials: expected },
      'secondary behind its primaries; transfer requested',
    );
  }
  return { ...seen, transferPending: true };
}

/** Ensures the zone where it is ours to create (a target with rndc); others are as they are. */
async function ensureIfOurs(
  backend: ZoneBackend,
  target: InstanceTarget,
  zone: ZoneConfig,
  log: SyncLog,
): Promise<EnsureResult> {
  if (target.rndc === undefined) return 'unchanged';
  const ensured = await backend.ensureZone(target, zone);
  if (ensured !== 'unchanged')
    log.info({ instance: target.id, zone: zone.name, ensured }, 'zone ensured');
  return ensured;
}

/**
 * A records-only zone's SOA and apex NS stay as the server has them (someone else
 * provisions the zone) unless the DNSZone says `manageApex`: the zone's own RRsets (apex
 * NS and the glue of its in-zone name servers) leave the plan and are kept as served, and
 * the SOA is not written. The server's apex NS then shields its glue from prune (plan.ts).
 */
export function apexAsServed(input: SyncInput): SyncInput {
  const owner = input.desired.find((r) => isApexNs(r, input.zone.name))?.owner;
  if (owner === undefined) return { ...input, soaAsServed: true };
  const own = input.desired.filter((r) => r.owner === owner);
  return {
    ...input,
    desired: input.desired.filter((r) => r.owner !== owner),
    keep: [...(input.keep ?? []), ...own.map(({ name, type }) => ({ name, type }))],
    soaAsServed: true,
  };
}

/**
 * The zone as served, on a target without rndc, whose zones are provisioned by someone
 * else: when the transfer is refused, a signed SOA query tells a zone the server does not
 * serve (ZoneNotServed: nothing is created, and the zone is retried with backoff, so it
 * recovers by itself once provisioned) from a key the server did not accept (PowerDNS
 * answers both with an unsigned NOTAUTH to an AXFR; the query tells them apart).
 */
async function readServed(
  backend: ZoneBackend,
  target: InstanceTarget,
  zone: string,
): Promise<RRset[]> {
  try {
    return await backend.readZone(target, zone);
  } catch (error) {
    const refused = isControllerError(error) && ['NOTAUTH', 'REFUSED'].includes(error.code);
    if (target.rndc !== undefined || !refused) throw error;
    if ((await backend.zoneSerial(target, zone)) !== undefined) throw error;
    const at = `${target.dns.address}:${target.dns.port}`;
    const message = `zone ${zone} is not served by ${target.id} (${at} does not answer its SOA): the controller creates no zone on an instance without rndc; provision it on the server, and the records follow by themselves`;
    throw new PermanentError('NOTAUTH', message, { cause: error, detail: { server: at } });
  }
}

/** What the attempts so far sent. */
interface Sent {
  readonly applied: Change[];
  messages: number;
}

/** Sends one plan; a stale one (failed prerequisite) comes back as its error, to plan again. */
async function send(
  backend: ZoneBackend,
  target: InstanceTarget,
  plan: Plan,
  log: SyncLog,
  sent: Sent,
): Promise<ApplyResult | StalePlanError> {
  let outcome: ApplyResult | StalePlanError;
  try {
    outcome = await backend.apply(target, plan);
  } catch (error) {
    if (!(error instanceof StalePlanError)) throw error;
    outcome = error;
  }
  // A stale plan may have been applied in part before the message that failed.
  const result = outcome instanceof StalePlanError ? outcome.result : outcome;
  logApplied(log, target, plan.zone, result.applied);
  sent.applied.push(...result.applied);
  sent.messages += result.messages;
  return outcome;
}

/** A primary: read, plan, send, and on a failed prerequisite read and plan again. */
async function syncPrimary(
  backend: ZoneBackend,
  target: InstanceTarget,
  input: SyncInput,
  ensured: EnsureResult,
  log: SyncLog,
  options: SyncOptions,
): Promise<SyncResult> {
  const sent: Sent = { applied: [], messages: 0 };
  for (let attempt = 1; ; attempt++) {
    const observed = await readServed(backend, target, input.zone.name);
    const plan = planWithRemovals(input, observed);
    const done = { ok: true as const, ensured, plan, applied: sent.applied, messages: 0 };
    if (plan.changes.length === 0) {
      return { ...done, rejected: [], messages: sent.messages, serial: serialOf(observed) };
    }
    options.approve?.(plan, observed);
    const result = await send(backend, target, plan, log, sent);
    if (!(result instanceof StalePlanError)) {
      return { ...done, rejected: result.rejected, messages: sent.messages };
    }
    if (attempt >= MAX_REPLANS) throw result;
    log.info(
      { instance: target.id, zone: input.zone.name, attempt },
      'zone changed under us; re-reading',
    );
  }
}

export async function syncZone(
  backend: ZoneBackend,
  target: InstanceTarget,
  input: SyncInput,
  log: SyncLog,
  options: SyncOptions = {},
): Promise<SyncResult> {
  try {
    const ensured = await ensureIfOurs(backend, target, input.zone, log);
    if (target.role === 'secondary') {
      return await syncSecondary(backend, target, input, ensured, log);
    }
    const asServed = target.recordsOnly === true && input.manageApex !== true;
    const primaryInput = asServed ? apexAsServed(input) : input;
    return await syncPrimary(backend, target, primaryInput, ensured, log, options);
  } catch (error) {
    return { ok: false, error };
  }
}
