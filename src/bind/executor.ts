/**
 * The executor: the only code that sends a plan to a server (DESIGN.md, "Plan as data").
 *
 * Each changed RRset travels as its prerequisite (the records we believe it holds, or its
 * absence) plus delete-RRset plus add, built by `updateRequestFor`. Changes are packed into
 * messages under a size bound and a count bound; all changes at one owner name stay in one
 * message, so an A replaced by a CNAME is never half done.
 *
 * A message is applied whole or not at all (RFC 2136 §3.7). When named refuses a batch
 * (e.g. `REFUSED` because an MX points at a name in the zone without an address record —
 * BIND checks that on every update and refuses the whole message), the batch is split in
 * halves until the refused RRsets are found; they are reported and the rest is applied.
 * Before the first split, one UPDATE that changes nothing asks whether the key may update
 * the zone at all (`probeKey`): a policy refusal ends the run after two messages.
 *
 * One RRset never blocks its zone for any other cause either (issue #18): a change too big
 * for any DNS message is rejected before anything is sent (`TOO_LARGE`), and a SERVFAIL is
 * split like a refusal once a no-op UPDATE has shown the server itself healthy
 * (`probeServer`; BIND9 answers SERVFAIL for an RRset over its max-records-per-type), so
 * only an RRset the server fails on alone is reported, and a server that fails everything
 * is still one transient error for the whole instance.
 * A failed prerequisite means someone else changed the zone since it was read: the
 * executor stops and throws `StalePlanError`, and the caller re-reads (AXFR) and re-plans.
 *
 * What no executor can see: RFC 2136 §3.4.2.2 makes a server silently ignore (and answer
 * NOERROR to) a CNAME added beside other data or data added beside a CNAME. The planner
 * (`cnameClashes`) and the desired-state code (`src/reconcilers/desired.ts`) keep such
 * adds out of every plan; a read-back (the next AXFR and plan) shows anything left over.
 */

import type { SecretKey } from '../dns/keyfile.ts';
import type { RdataByType, RecordType, RRset } from '../dns/rrset.ts';
import { MAX_MESSAGE_SIZE } from '../dns/update.ts';
import type { DnsEndpoint, UpdateOperation, UpdateRequest } from '../dns/update-request.ts';
import {
  type ControllerError,
  isControllerError,
  KeyRefusedError,
  PrerequisiteError,
  RRsetRejectedError,
} from '../errors.ts';
import { type Change, groupByName, type Plan, updateRequestFor } from './plan.ts';

/** The one thing the executor needs from the DNS client (STYLE.md habit 9). */
export interface UpdateSender {
  update(server: DnsEndpoint, key: SecretKey, request: UpdateRequest): Promise<unknown>;
}

export interface ApplyOptions {
  /** Largest UPDATE message, in bytes. Default 32 KiB: well inside TCP's 64 KiB. */
  readonly maxMessageBytes?: number;
  /** Most changed RRsets per message. Default 200. */
  readonly maxChangesPerMessage?: number;
  /** The encoded size of a request (the DNS client's `updateMessageSize`); default an estimate. */
  readonly measure?: (request: UpdateRequest, key: SecretKey) => number;
  /** Called after every message, accepted or not: for logs and metrics. */
  readonly onMessage?: (event: MessageEvent) => void;
}

export interface MessageEvent {
  readonly changes: readonly Change[];
  /** The message's size (measured when read: encoding a large message costs CPU). */
  readonly bytes: number;
  /** Undefined when the server accepted the message. */
  readonly error?: unknown;
}

export interface RejectedChange {
  readonly change: Change;
  readonly error: ControllerError;
}

export interface ApplyResult {
  readonly applied: Change[];
  readonly rejected: RejectedChange[];
  /** UPDATE messages sent, bisection included. */
  readonly messages: number;
}

/** A prerequisite failed: the zone is not what the plan was made from. Re-read and re-plan. */
export class StalePlanError extends PrerequisiteError {
  override readonly name: string = 'StalePlanError';
  /** What was applied before the stale message. */
  readonly result: ApplyResult;
  constructor(cause: PrerequisiteError, result: ApplyResult) {
    super(cause.code, `the zone changed since it was read: ${cause.message}`, {
      cause,
      detail: cause.detail,
    });
    this.result = result;
  }
}

/**
 * Rcodes (and our validation code) that can come from one RRset of a message, so splitting
 * the message can isolate it. Anything else (TSIG failures, NOTAUTH, NOTIMP, transient
 * errors) concerns the whole server or key and is thrown as it is.
 */
const PER_RRSET_CODES: ReadonlySet<string> = new Set(['REFUSED', 'FORMERR', 'NOTZONE', 'INVALID']);

export function isPerRRsetRefusal(error: unknown): error is ControllerError {
  return (
    isControllerError(error) && error.disposition === 'permanent' && PER_RRSET_CODES.has(error.code)
  );
}

// ---------------------------------------------------------------------------------------
// Size estimate
// ---------------------------------------------------------------------------------------

/** Uncompressed wire length of a name (RFC 1035 §3.1): an upper bound of the real one. */
function nameBytes(name: string): number {
  return name === '' ? 1 : Buffer.byteLength(name) + 2;
}

function rdataBytes(type: RecordType, rdata: RdataByType[RecordType]): number {
  const r = rdata as Partial<RdataByType['MX'] & RdataByType['SRV'] & RdataByType['CAA']> &
    Partial<RdataByType['TXT'] & RdataByType['NS'] & RdataByType['SOA']> & { address?: string };
  switch (type) {
    case 'A':
      return 4;
    case 'AAAA':
      return 16;
    case 'TXT':
      return (r.strings ?? []).reduce((n, s) => n + Buffer.byteLength(s) + 1, 0);
    case 'CAA':
      return 2 + Buffer.byteLength(r.tag ?? '') + Buffer.byteLength(r.value ?? '');
    case 'SOA':
      return nameBytes(r.mname ?? '') + nameBytes(r.rname ?? '') + 20;
    default: {
      // Name-bearing types: a fixed part plus one name.
      const name = r.exchange ?? r.target ?? r.host ?? '';
      return (type === 'SRV' ? 6 : type === 'MX' ? 2 : 0) + nameBytes(name);
    }
  }
}

function rrsetBytes(rrset: RRset, withRdata: boolean): number {
  const rdata = rrset.rdata as readonly RdataByType[RecordType][];
  const fixed = nameBytes(rrset.name) + 10;
  if (!withRdata || rdata.length === 0) return fixed;
  return rdata.reduce((n, r) => n + fixed + rdataBytes(rrset.type, r), 0);
}

/**
 * A conservative size of the encoded request: no name compression, and room for a TSIG RR
 * with a 64-byte MAC (hmac-sha512) and the longest algorithm name.
 */
export function estimateUpdateSize(request: UpdateRequest, key: SecretKey): number {
  let size = 12 + nameBytes(request.zone) + 4;
  for (const p of request.prerequisites) {
    size += p.kind === 'rrsetEquals' ? rrsetBytes(p.rrset, true) : nameBytes(p.name) + 10;
  }
  for (const u of request.updates) {
    if (u.kind === 'add' || u.kind === 'deleteRecords') size += rrsetBytes(u.rrset, true);
    else size += nameBytes(u.name) + 10;
  }
  return size + nameBytes(key.name) + 10 + 26 + 16 + 64 + 6;
}

// ---------------------------------------------------------------------------------------
// Batching and bisection
// ---------------------------------------------------------------------------------------

interface Bounds {
  readonly bytes: number;
  readonly count: number;
  readonly measure: (changes: readonly Change[]) => number;
}

/**
 * Packs name groups into batches within both bounds; a group too big alone goes alone.
 * Each group is measured once: a batch's size is the empty message plus its groups' parts,
 * an upper bound since name compression across groups only makes the real one smaller.
 */
export function packGroups(groups: readonly Change[][], bounds: Bounds): Change[][][] {
  const overhead = bounds.measure([]);
  const batches: Change[][][] = [];
  let current: Change[][] = [];
  let count = 0;
  let bytes = overhead;
  for (const group of groups) {
    const size = bounds.measure(group) - overhead;
    const fits = count + group.length <= bounds.count && bytes + size <= bounds.bytes;
    if (!fits && current.length > 0) {
      batches.push(current);
      current = [];
      count = 0;
      bytes = overhead;
    }
    current.push(group);
    count += group.length;
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

interface Run {
  /** Whether the key was seen allowed to change the zone (probeKey). */
  keyMayUpdate: boolean;
  /** Whether the server answered a no-op UPDATE: a SERVFAIL is then about the data. */
  serverHealthy: boolean;
  readonly sender: UpdateSender;
  readonly server: DnsEndpoint;
  readonly key: SecretKey;
  readonly zone: string;
  readonly options: ApplyOptions;
  readonly measure: (changes: readonly Change[]) => number;
  readonly applied: Change[];
  readonly rejected: RejectedChange[];
  messages: number;
}

/** What onMessage is told of one message; its size is measured only if someone reads it. */
function messageEvent(run: Run, changes: readonly Change[], error?: unknown): MessageEvent {
  return {
    changes,
    get bytes() {
      return run.measure(changes);
    },
    ...(error === undefined ? {} : { error }),
  };
}

async function send(run: Run, changes: readonly Change[]): Promise<unknown> {
  const request = updateRequestFor(run.zone, changes);
  run.messages += 1;
  try {
    await run.sender.update(run.server, run.key, request);
    run.options.onMessage?.(messageEvent(run, changes));
    return undefined;
  } catch (error) {
    run.options.onMessage?.(messageEvent(run, changes, error));
    return error;
  }
}

function involvesCname(changes: readonly Change[]): boolean {
  return changes.some((c) => c.before?.type === 'CNAME' || c.after?.type === 'CNAME');
}

/**
 * The same prerequisites as `change`, with an update that changes nothing at its RRset: its
 * records added again as they are, or the RRset deleted where it is absent. A server that
 * refuses this refuses the key at that RRset, whatever the data (probeKey).
 */
export function noOpRequestFor(zone: string, change: Change): UpdateRequest {
  const { zone: z, prerequisites } = updateRequestFor(zone, [change]);
  const updates: UpdateOperation[] =
    change.before === undefined
      ? [{ kind: 'deleteRRset', name: change.after.name, type: change.after.type }]
      : [{ kind: 'add', rrset: change.before }];
  return { zone: z, prerequisites, updates };
}

/**
 * Before the first refused batch is bisected, asks once whether the key may change its
 * first RRset at all. BIND9 (update-policy) and PowerDNS (TSIG-ALLOW-DNSUPDATE) sign their
 * policy refusals, so REFUSED alone cannot tell a key that may not update from one refused
 * RRset, and bisecting for a key that may not update sends two messages per RRset. A
 * refused no-op ends the run with KeyRefusedError: one message more, never a storm.
 */
async function probeKey(run: Run, change: Change, refusal: ControllerError): Promise<void> {
  if (run.keyMayUpdate) return;
  const error = await sendNoOp(run, change);
  if (error === undefined) {
    run.keyMayUpdate = true;
    return;
  }
  if (error instanceof PrerequisiteError) throw new StalePlanError(error, snapshot(run));
  if (!isControllerError(error) || error.code !== 'REFUSED') throw error;
  const at = change.after ?? change.before;
  const message = `UPDATE of zone ${run.zone}: ${run.server.address}:${run.server.port} refused key ${run.key.name} even a change that changes nothing (${at.name} ${at.type}): its policy does not let this key update the zone (BIND9 update-policy, Knot DNS acl, PowerDNS TSIG-ALLOW-DNSUPDATE)`;
  throw new KeyRefusedError('update', message, {
    cause: refusal,
    detail: error.detail,
  });
}

/** Sends the no-op UPDATE of `change` (noOpRequestFor); its error, if any. */
async function sendNoOp(run: Run, change: Change): Promise<unknown> {
  run.messages += 1;
  const request = noOpRequestFor(run.zone, change);
  const error = await run.sender.update(run.server, run.key, request).then(
    () => undefined,
    (e: unknown) => e,
  );
  const bytes = (run.options.measure ?? estimateUpdateSize)(request, run.key);
  run.options.onMessage?.({ changes: [], bytes, ...(error === undefined ? {} : { error }) });
  if (error === undefined) {
    run.keyMayUpdate = true;
    run.serverHealthy = true;
  }
  return error;
}

/**
 * Whether a SERVFAIL can be about the data: true once the server has accepted something
 * in this run (a message or a no-op). A server that fails the no-op too is failing as a
 * whole, and its SERVFAIL is thrown for the instance, transient, as it came.
 */
async function probeServer(run: Run, change: Change, servfail: unknown): Promise<void> {
  if (run.serverHealthy) return;
  const error = await sendNoOp(run, change);
  if (error === undefined) return;
  if (error instanceof PrerequisiteError) throw new StalePlanError(error, snapshot(run));
  throw servfail;
}

function isServfail(error: unknown): boolean {
  return isControllerError(error) && error.code === 'SERVFAIL';
}

/** BIND 9.18's default max-records-per-type. */
const BIND_MAX_RECORDS_PER_TYPE = 100;

/** The error for a change the server failed on alone (SERVFAIL while healthy). */
function servfailOf(run: Run, change: Change, cause: unknown): RRsetRejectedError {
  const rrset = change.after ?? change.before;
  const count = change.after?.rdata.length ?? 0;
  const where = `${run.server.address}:${run.server.port}`;
  if (count > BIND_MAX_RECORDS_PER_TYPE) {
    return new RRsetRejectedError(
      'TOO_LARGE',
      `${where} answered SERVFAIL for ${rrset.name} ${rrset.type} alone, which has ${count} records: more than the server accepts in one RRset (BIND9's max-records-per-type is ${BIND_MAX_RECORDS_PER_TYPE} by default); the rest of the zone is applied`,
      { cause, detail: { records: count } },
    );
  }
  return new RRsetRejectedError(
    'RRSET_SERVFAIL',
    `${where} answered SERVFAIL for ${rrset.name} ${rrset.type} alone, while it accepts the rest of the zone: see the server's log for why; the rest of the zone is applied`,
    { cause },
  );
}

function snapshot(run: Run): ApplyResult {
  return { applied: [...run.applied], rejected: [...run.rejected], messages: run.messages };
}

/**
 * Sends the groups as one message; on a per-RRset refusal, splits them in halves and tries
 * each, down to single name groups, which are then reported as rejected.
 */
async function sendOrBisect(run: Run, groups: readonly Change[][]): Promise<void> {
  const changes = groups.flat();
  const error = await send(run, changes);
  if (error === undefined) {
    run.applied.push(...changes);
    run.serverHealthy = true;
    return;
  }
  if (error instanceof PrerequisiteError) throw new StalePlanError(error, snapshot(run));
  const first = changes[0];
  if (first === undefined) return;
  if (isServfail(error)) await probeServer(run, first, error);
  else if (!isPerRRsetRefusal(error)) throw error;
  else if (error.code === 'REFUSED') await probeKey(run, first, error);
  if (groups.length === 1) {
    const group = groups[0] ?? [];
    // Changes at one name may go separately unless a CNAME is involved (see groupByName).
    if (group.length > 1 && !involvesCname(group)) {
      await sendOrBisect(
        run,
        group.map((c) => [c]),
      );
      return;
    }
    for (const change of changes) {
      const why = isServfail(error) ? servfailOf(run, change, error) : (error as ControllerError);
      run.rejected.push({ change, error: why });
    }
    return;
  }
  const middle = Math.ceil(groups.length / 2);
  await sendOrBisect(run, groups.slice(0, middle));
  await sendOrBisect(run, groups.slice(middle));
}

/**
 * Applies a plan to one server. Returns what was applied and what the server refused.
 * Throws `StalePlanError` when a prerequisite fails (re-read and re-plan), and any error
 * that concerns the whole server or key (timeouts, TSIG failures) as it came.
 */
export async function applyPlan(
  sender: UpdateSender,
  server: DnsEndpoint,
  key: SecretKey,
  plan: Plan,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const bounds = boundsOf(plan.zone, key, options);
  const run: Run = {
    ...{ sender, server, key, zone: plan.zone, options, measure: bounds.measure },
    keyMayUpdate: false,
    serverHealthy: false,
    applied: [],
    rejected: [],
    messages: 0,
  };
  const { sendable, tooLarge } = sortBySize(run, groupByName(plan.changes));
  run.rejected.push(...tooLarge);
  for (const batch of packGroups(sendable, bounds)) {
    await sendOrBisect(run, batch);
  }
  return snapshot(run);
}

/**
 * Name groups that fit in one DNS message, and the changes that never can: those are
 * rejected without a message. A group too big as a whole is sent change by change when
 * its changes may go apart (no CNAME among them, see groupByName).
 */
function sortBySize(run: Run, groups: readonly Change[][]) {
  const sendable: Change[][] = [];
  const tooLarge: RejectedChange[] = [];
  for (const group of groups) {
    if (run.measure(group) <= MAX_MESSAGE_SIZE) {
      sendable.push(group);
      continue;
    }
    const parts = involvesCname(group) ? [group] : group.map((c) => [c]);
    for (const part of parts) {
      const bytes = run.measure(part);
      if (bytes <= MAX_MESSAGE_SIZE) sendable.push(part);
      else
        for (const change of part)
          tooLarge.push({ change, error: tooLargeError(run, change, bytes) });
    }
  }
  return { sendable, tooLarge };
}

function tooLargeError(run: Run, change: Change, bytes: number): RRsetRejectedError {
  const rrset = change.after ?? change.before;
  return new RRsetRejectedError(
    'TOO_LARGE',
    `${rrset.name} ${rrset.type} needs an UPDATE of ${bytes} bytes to ${run.zone} (its prerequisite, deletion and records), more than any DNS message can carry (${MAX_MESSAGE_SIZE} bytes); nothing was sent for it, the rest of the zone is applied`,
    { detail: { bytes } },
  );
}

/**
 * The bounds of one plan's messages. A group of changes is measured once however often it
 * is asked about (sortBySize, then packGroups): the measure may encode a whole message.
 */
function boundsOf(zone: string, key: SecretKey, options: ApplyOptions): Bounds {
  const measureRequest = options.measure ?? estimateUpdateSize;
  const measured = new WeakMap<readonly Change[], number>();
  return {
    bytes: options.maxMessageBytes ?? 32 * 1024,
    count: options.maxChangesPerMessage ?? 200,
    measure: (changes) => {
      let bytes = measured.get(changes);
      if (bytes === undefined) {
        bytes = measureRequest(updateRequestFor(zone, changes), key);
        measured.set(changes, bytes);
      }
      return bytes;
    },
  };
}

/**
 * The messages `applyPlan` sends for a plan, each as its changes, before any bisection of
 * a refused one: what the CLI's `plan` prints as one `send` each (script.ts).
 */
export function messagesOf(plan: Plan, key: SecretKey, options: ApplyOptions = {}): Change[][] {
  const bounds = boundsOf(plan.zone, key, options);
  return packGroups(groupByName(plan.changes), bounds).map((groups) => groups.flat());
}
