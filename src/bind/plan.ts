/**
 * The planner: a pure diff of the RRsets a zone should hold against the RRsets it holds
 * (STYLE.md habit 3). No clock, no logger, no network: the same inputs give the same plan,
 * sorted so it reads the same every time. The executor (`executor.ts`) is the only code that
 * sends a plan anywhere; `script.ts` prints it as the text `nsupdate -k` reads. The SOA and
 * the removal of what deleted, renamed or moved resources held are added by sync.ts's
 * `planWithRemovals`, the one entry point the controller and the CLI plan through.
 *
 * Safety rules are small named functions below (habit 4): the planner leaves the SOA to
 * sync.ts (named increments its serial itself), apex NS is never pruned, nothing is pruned
 * unless asked, an RRset the caller says to keep is never touched, a CNAME is only written
 * at a name that holds nothing else.
 */

import {
  compareRRsets,
  fqdn,
  isInZone,
  normalizeName,
  type RdataByType,
  type RecordType,
  type RRset,
  rdataText,
  rdataTexts,
  rrsetKey,
  sameRRset,
} from '../dns/rrset.ts';
import type { UpdateOperation, UpdateRequest } from '../dns/update-request.ts';

/** An RRset some resource wants, with that resource's key (e.g. `ARecord/default/www`). */
export type DesiredRRset = RRset & { readonly owner: string };

export type Change =
  | {
      readonly action: 'create';
      readonly before?: undefined;
      readonly after: RRset;
      readonly owner?: string;
    }
  | {
      readonly action: 'update';
      readonly before: RRset;
      readonly after: RRset;
      readonly owner?: string;
    }
  | {
      readonly action: 'delete';
      readonly before: RRset;
      readonly after?: undefined;
      readonly owner?: string;
    };

export type SkipReason =
  | 'Soa'
  | 'NameOutsideZone'
  | 'CnameConflict'
  | 'Duplicate'
  | 'Empty'
  | 'SingleRecordType';

/** A desired RRset the planner will not write, and why. */
export interface Skipped {
  readonly rrset: DesiredRRset;
  readonly reason: SkipReason;
  readonly message: string;
}

export interface Plan {
  /** The zone, absolute, lower-case, without the final dot. */
  readonly zone: string;
  /** Sorted by owner name (labels right to left), then type. */
  readonly changes: readonly Change[];
  readonly skipped: readonly Skipped[];
}

export interface PlanInput {
  readonly zone: string;
  readonly desired: readonly DesiredRRset[];
  readonly observed: readonly RRset[];
  /** Delete RRsets that nothing desires (SOA and apex NS excepted). */
  readonly prune: boolean;
  /**
   * RRsets to leave exactly as the zone holds them: never created, changed, deleted or
   * pruned. A record resource whose finalizer is not on it yet may not be written (no RRset
   * before its finalizer), and what it declares must not be lost either (issue #12).
   */
  readonly keep?: readonly Pick<RRset, 'name' | 'type'>[];
}

// ---------------------------------------------------------------------------------------
// Safety rules
// ---------------------------------------------------------------------------------------

/**
 * The SOA is not the planner's: named increments the serial itself (RFC 2136 §3.6), and a
 * changed DNSZone.soaRecord is planned by sync.ts (`soaChange`) with the next serial.
 */
export function isSoa(rrset: Pick<RRset, 'type'>): boolean {
  return rrset.type === 'SOA';
}

/** The apex NS RRset: a zone without it is broken, so it is never pruned. */
export function isApexNs(rrset: Pick<RRset, 'name' | 'type'>, zone: string): boolean {
  return rrset.type === 'NS' && normalizeName(rrset.name) === normalizeName(zone);
}

/**
 * Address records of a name server the apex NS names inside the zone (glue, RFC 1034
 * §4.2.1). BIND refuses an UPDATE that leaves an in-zone apex name server without an
 * address ("post update name server sanity check failed"), so glue is never pruned.
 */
export function isApexGlue(rrset: Pick<RRset, 'name' | 'type'>, apexHosts: ReadonlySet<string>) {
  return (rrset.type === 'A' || rrset.type === 'AAAA') && apexHosts.has(normalizeName(rrset.name));
}

/** What pruning may not touch in one zone. */
export interface PruneRule {
  readonly zone: string;
  readonly prune: boolean;
  /** Hosts of the apex NS the zone will have once the plan is applied. */
  readonly apexHosts: ReadonlySet<string>;
}

/** An observed RRset nothing desires is deleted only when pruning; never SOA, apex NS or glue. */
export function mayPrune(rrset: Pick<RRset, 'name' | 'type'>, rule: PruneRule): boolean {
  return (
    rule.prune && !isSoa(rrset) && !isApexNs(rrset, rule.zone) && !isApexGlue(rrset, rule.apexHosts)
  );
}

/** The apex NS hosts after the plan: the desired apex NS if any, else the observed one. */
function finalApexHosts(zone: string, desired: Iterable<RRset>, observed: Iterable<RRset>) {
  const apexNs = (list: Iterable<RRset>) => [...list].find((r) => isApexNs(r, zone));
  const ns = apexNs(desired) ?? apexNs(observed);
  const hosts = ns?.type === 'NS' ? ns.rdata.map((r) => normalizeName(r.host)) : [];
  return new Set(hosts);
}

/** A desired RRset whose owner is not the zone or below it cannot go into this zone. */
export function isOutsideZone(rrset: Pick<RRset, 'name'>, zone: string): boolean {
  return !isInZone(rrset.name, zone);
}

/**
 * RFC 1034 §3.6.2 / RFC 2136 §3.4.2.2: a CNAME cannot share its name with other data, and
 * a server silently ignores (answers NOERROR to) an add that would break that. So a plan
 * must never contain one: `others` are the types that will stay at the name.
 */
export function cnameClashes(type: RecordType, others: readonly RecordType[]): boolean {
  if (others.length === 0) return false;
  return type === 'CNAME' || others.includes('CNAME');
}

// ---------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------

/** The plain RRset of a desired RRset (the owner stays out of the wire vocabulary). */
export function plainRRset(rrset: RRset): RRset {
  return { name: rrset.name, type: rrset.type, ttl: rrset.ttl, rdata: rrset.rdata } as RRset;
}

function skip(rrset: DesiredRRset, reason: SkipReason, message: string): Skipped {
  return { rrset, reason, message };
}

/** Drops desired RRsets that can never be written, whatever the zone holds. */
function admissible(zone: string, desired: readonly DesiredRRset[]) {
  const kept = new Map<string, DesiredRRset>();
  const skipped: Skipped[] = [];
  for (const d of desired) {
    const key = rrsetKey(d);
    if (isSoa(d)) skipped.push(skip(d, 'Soa', 'the SOA record is managed by the server'));
    else if (isOutsideZone(d, zone))
      skipped.push(skip(d, 'NameOutsideZone', `${fqdn(d.name)} is not in zone ${fqdn(zone)}`));
    else if (d.rdata.length === 0) skipped.push(skip(d, 'Empty', 'the RRset has no records'));
    else if (d.type === 'CNAME' && rdataTexts(d).length > 1)
      skipped.push(skip(d, 'SingleRecordType', 'a CNAME RRset holds one record (RFC 2181 §10.1)'));
    else if (kept.has(key))
      skipped.push(skip(d, 'Duplicate', `${key} is already wanted by ${kept.get(key)?.owner}`));
    else kept.set(key, d);
  }
  return { kept, skipped };
}

function byName<T extends Pick<RRset, 'name'>>(items: Iterable<T>): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = normalizeName(item.name);
    const group = groups.get(name);
    if (group === undefined) groups.set(name, [item]);
    else group.push(item);
  }
  return groups;
}

/**
 * Removes desired RRsets that would sit beside a CNAME (RFC 2136 §3.4.2.2 would make the
 * server ignore them). `stays(rrset)` says whether an observed RRset nothing desires stays.
 * Order of the rules: a desired CNAME beside other desired data is refused (the data wins;
 * `desired.ts` already settles this by age); then a desired CNAME beside data that stays is
 * refused; then desired data beside a CNAME that stays is refused.
 */
function withoutCnameClashes(
  desired: Map<string, DesiredRRset>,
  observedByName: Map<string, RRset[]>,
  stays: (rrset: RRset) => boolean,
): Skipped[] {
  const skipped: Skipped[] = [];
  const refuse = (d: DesiredRRset, beside: string) => {
    desired.delete(rrsetKey(d));
    skipped.push(
      skip(d, 'CnameConflict', `${fqdn(d.name)}: a CNAME cannot share its name with ${beside}`),
    );
  };
  for (const [name, group] of byName([...desired.values()])) {
    const left = () =>
      (observedByName.get(name) ?? []).filter((o) => !desired.has(rrsetKey(o)) && stays(o));
    const cname = group.find((d) => d.type === 'CNAME');
    if (cname !== undefined && group.length > 1) refuse(cname, 'other desired data');
    else if (cname !== undefined && cnameClashes('CNAME', types(left()))) {
      refuse(cname, `data no resource declares (${types(left()).join(', ')})`);
    }
    const remaining = left();
    if (!types(remaining).includes('CNAME')) continue;
    for (const d of group) {
      if (desired.has(rrsetKey(d))) refuse(d, 'a CNAME no resource declares');
    }
  }
  return skipped;
}

function types(rrsets: readonly RRset[]): RecordType[] {
  return rrsets.map((r) => r.type);
}

function diff(desired: Map<string, DesiredRRset>, observed: Map<string, RRset>, rule: PruneRule) {
  const changes: Change[] = [];
  for (const [key, d] of desired) {
    const before = observed.get(key);
    const after = plainRRset(d);
    if (before === undefined) changes.push({ action: 'create', after, owner: d.owner });
    else if (!sameRRset(before, after))
      changes.push({ action: 'update', before, after, owner: d.owner });
  }
  for (const [key, before] of observed) {
    if (!desired.has(key) && mayPrune(before, rule)) {
      changes.push({ action: 'delete', before });
    }
  }
  return changes;
}

function changeSubject(change: Change): RRset {
  return change.after ?? change.before;
}

/** Plans one zone: what to create, update and delete so that it holds `desired`. */
export function planZone(input: PlanInput): Plan {
  const zone = normalizeName(input.zone);
  const { kept, skipped } = admissible(zone, input.desired);
  const held = new Set((input.keep ?? []).map(rrsetKey));
  for (const key of held) kept.delete(key);
  const observed = new Map<string, RRset>();
  for (const o of input.observed)
    if (!isSoa(o) && !held.has(rrsetKey(o))) observed.set(rrsetKey(o), o);
  const rule = {
    zone,
    prune: input.prune,
    apexHosts: finalApexHosts(zone, kept.values(), observed.values()),
  };
  const stays = (o: RRset) => held.has(rrsetKey(o)) || !mayPrune(o, rule);
  // The SOA counts here: it always stays at the apex, so a CNAME can never go there.
  skipped.push(...withoutCnameClashes(kept, byName(input.observed), stays));
  const changes = diff(kept, observed, rule);
  changes.sort((a, b) => compareRRsets(changeSubject(a), changeSubject(b)));
  skipped.sort((a, b) => compareRRsets(a.rrset, b.rrset));
  return { zone, changes, skipped };
}

/** How much of a zone's existing data a plan would change (octodns-style safety). */
export interface ChangeShare {
  /** Existing RRsets, SOA aside, the plan updates or deletes (creates touch nothing that exists). */
  readonly changed: number;
  /** Existing RRsets, SOA excluded. */
  readonly existing: number;
}

export function changeShare(plan: Plan, observed: readonly RRset[]): ChangeShare {
  // The SOA is replaced whenever the DNSZone's soaRecord changes: not data of the zone's.
  const changed = plan.changes.filter((c) => c.action !== 'create' && !isSoa(c.before)).length;
  return { changed, existing: observed.filter((o) => !isSoa(o)).length };
}

/**
 * A plan that rewrites more than `maxPercent` of a zone holding at least `minRRsets` is
 * more likely a mistake (wrong directory, wrong zone) than an intent: refuse it unless
 * forced. Small zones are exempt, where one change is already a large share.
 */
export function tooMuchChange(share: ChangeShare, maxPercent = 30, minRRsets = 10): boolean {
  return share.existing >= minRRsets && share.changed * 100 > share.existing * maxPercent;
}

// ---------------------------------------------------------------------------------------
// From changes to UPDATE messages
// ---------------------------------------------------------------------------------------

/**
 * Changes grouped by owner name, in plan order. A group is never split between messages:
 * replacing an A by a CNAME must delete the A in the same message that adds the CNAME, or
 * the server ignores the add (RFC 2136 §3.4.2.2).
 */
export function groupByName(changes: readonly Change[]): Change[][] {
  return [...byName(changes.map((c) => ({ name: changeSubject(c).name, change: c }))).values()].map(
    (group) => group.map((g) => g.change),
  );
}

function recordsOnlyIn(a: RRset, b: RRset): RRset {
  const keep = new Set(rdataTexts(b));
  const rdata = (a.rdata as readonly RdataByType[RecordType][]).filter(
    (r) => !keep.has(rdataText(a.type, r as never)),
  );
  return { ...a, rdata } as RRset;
}

/**
 * The operations of one change, as three ordered parts: deletions first so an add never
 * meets data it cannot sit beside, then adds, then per-record deletions of the apex NS.
 * The apex NS is special (RFC 2136 §3.4.2.3): a delete-RRset of it is silently ignored, so
 * the new records are added first and the old ones removed one by one afterwards.
 */
function operationsOf(change: Change, zone: string) {
  const deletes: UpdateOperation[] = [];
  const adds: UpdateOperation[] = [];
  const late: UpdateOperation[] = [];
  const { name, type } = changeSubject(change);
  if (change.action === 'update' && isApexNs(change.after, zone)) {
    adds.push({ kind: 'add', rrset: change.after });
    const gone = recordsOnlyIn(change.before, change.after);
    if (gone.rdata.length > 0) late.push({ kind: 'deleteRecords', rrset: gone });
    return { deletes, adds, late };
  }
  if (change.action !== 'create') deletes.push({ kind: 'deleteRRset', name, type });
  if (change.after !== undefined) adds.push({ kind: 'add', rrset: change.after });
  return { deletes, adds, late };
}

/**
 * One UPDATE message for these changes (RFC 2136 §2.4, §2.5): each RRset carries its own
 * prerequisite — exactly the records we believe it holds, or its absence — so a change made
 * by someone else since we read the zone fails the whole message instead of being
 * overwritten (optimistic concurrency; DESIGN.md).
 */
export function updateRequestFor(zone: string, changes: readonly Change[]): UpdateRequest {
  const z = normalizeName(zone);
  const prerequisites = changes.map((c) =>
    c.action === 'create'
      ? { kind: 'rrsetAbsent' as const, name: c.after.name, type: c.after.type }
      : { kind: 'rrsetEquals' as const, rrset: c.before },
  );
  const parts = changes.map((c) => operationsOf(c, z));
  const updates = [
    ...parts.flatMap((p) => p.deletes),
    ...parts.flatMap((p) => p.adds),
    ...parts.flatMap((p) => p.late),
  ];
  return { zone: z, prerequisites, updates };
}
