/**
 * The reconcile of one source (issue #15), keyed like every reconcile (STYLE.md habit 6):
 * gather (what the source asks for, endpoints.ts; where each name goes, placement.ts) →
 * write (each generated record applied as wanted, those no longer wanted deleted) →
 * feedback (Events on the source, feedback.ts).
 *
 * It writes record resources only; the zone reconcile serves them, with the same ownership
 * and conflict rules as for records someone wrote (desired.ts: the oldest resource of an
 * RRset wins, the other is `Conflict`). So a generated record never overwrites a record
 * someone else owns, and takes over when that one goes.
 *
 * A record is withdrawn (deleted: its finalizer makes the zone remove the RRset first) when
 * the source is gone, no longer names the host, or its namespace may no longer publish in
 * that zone. Which records a source has comes from their labels (index-of-generated.ts),
 * also for a source deleted while the controller was down.
 */
import type { Logger } from 'pino';
import { objectId } from '../api/ids.ts';
import type { RecordResource } from '../api/kinds.ts';
import { absoluteName } from '../dns/rrset.ts';
import type { KubeObject } from '../kube/client.ts';
import { findCondition } from '../kube/conditions.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Store } from '../kube/informer.ts';
import { type Caches, isDeleting } from '../reconcilers/context.ts';
import { GONE, OK, type Outcome } from '../reconcilers/outcome.ts';
import { type Computed, endpointsOf, type GatewayView, NOTHING } from './endpoints.ts';
import type { Feedback, Round } from './feedback.ts';
import {
  generatedFrom,
  isAsWanted,
  SOURCE_LABELS,
  type SourceRef,
  sourceId,
  type Wanted,
  wantedRecords,
} from './generated.ts';
import type { GeneratedIndex, RecordRef } from './index-of-generated.ts';
import { SOURCE_KINDS, type SourceKind } from './kinds.ts';
import { placeName, unplacedMessage } from './placement.ts';

/** The writes of a source reconcile: record resources, nothing else. */
export interface RecordWriter {
  apply(wanted: Wanted): Promise<void>;
  /** Deletes the record if it is still the one with `uid`; gone already is success. */
  remove(record: RecordRef, uid: string | undefined): Promise<void>;
}

export interface SourceContext {
  /** Zones, records and namespaces, as the zone reconcile reads them. */
  readonly caches: Caches;
  readonly sources: ReadonlyMap<SourceKind, Store<KubeObject>>;
  readonly gateways: GatewayView;
  readonly generated: GeneratedIndex;
  readonly writer: RecordWriter;
  readonly events: EventRecorder;
  readonly feedback: Feedback;
  readonly log: Logger;
  /** Read external-dns's annotations too. */
  readonly externalDns: boolean;
}

/** A deleted record being cleaned up is recreated once it is gone (its delete event wakes us). */
const WAIT_FOR_DELETION: Outcome = {
  result: 'requeue',
  afterMs: 5_000,
  reason: 'a generated record of the same name is still being deleted',
};

/** What the source asks for; computed the same way for the wake-up filter (wakes.ts). */
export function computeSource(
  ctx: Pick<SourceContext, 'externalDns' | 'gateways'>,
  kind: SourceKind,
  obj: KubeObject,
): Computed {
  return isDeleting(obj) ? NOTHING : endpointsOf(kind, obj, ctx);
}

/**
 * The cached object with its kind and apiVersion: items of a list of core kinds carry
 * neither, and Events and owner references need both.
 */
function typed(kind: SourceKind, obj: KubeObject | undefined): KubeObject | undefined {
  return obj === undefined
    ? undefined
    : { ...obj, kind, apiVersion: SOURCE_KINDS[kind].apiVersion };
}

interface Gathered {
  readonly wanted: readonly Wanted[];
  /** Host name → where it went now (zone ids), or undefined when no allowed zone takes it. */
  readonly placed: ReadonlyMap<string, readonly string[] | undefined>;
}

function gather(ctx: SourceContext, obj: KubeObject, computed: Computed, round: Round): Gathered {
  for (const p of computed.problems) {
    const message = `${p.field}: ${p.message}`;
    round.note(`problem ${message}`, 'seen', { type: 'Warning', reason: p.reason, message });
  }
  const wanted: Wanted[] = [];
  const placed = new Map<string, readonly string[] | undefined>();
  for (const e of computed.endpoints) {
    const placement = placeName(ctx, e.hostname, obj.metadata.namespace);
    if (!placement.ok) {
      placed.set(e.hostname, undefined);
      const message = unplacedMessage(e.hostname, obj.metadata.namespace, placement.covering);
      round.note(`place ${e.hostname}`, 'none', {
        type: 'Warning',
        reason: 'NoAllowedZone',
        message,
      });
      continue;
    }
    const zones = placement.zones.map((z) => objectId(z.metadata));
    placed.set(e.hostname, zones);
    round.note(`place ${e.hostname}`, zones.join(','), undefined);
    for (const zone of placement.zones) wanted.push(...wantedRecords(obj, e, zone));
  }
  return { wanted, placed };
}

export async function reconcileSource(ctx: SourceContext, ref: SourceRef): Promise<Outcome> {
  const obj = typed(ref.kind, ctx.sources.get(ref.kind)?.get(ref.namespace, ref.name));
  const live = obj !== undefined && !isDeleting(obj) ? obj : undefined;
  const round = ctx.feedback.begin(sourceId(ref));
  const gathered =
    live === undefined
      ? { wanted: [], placed: new Map() }
      : gather(ctx, live, computeSource(ctx, ref.kind, live), round);
  const errors: unknown[] = [];
  let waiting = false;
  for (const w of gathered.wanted) {
    const state = await ensure(ctx, ref, w, round).catch((error: unknown) => {
      errors.push(error);
      if (isPermanent(error)) {
        const message = `${w.kind} ${w.namespace}/${w.name} for ${w.hostname} was refused: ${String((error as Error).message ?? error)}`;
        round.tell({ type: 'Warning', reason: 'PublishFailed', message });
      }
      return 'failed' as const;
    });
    if (state === 'waiting') waiting = true;
  }
  const kept = new Set(gathered.wanted.map(recordKey));
  const stale = ctx.generated.of(ref).filter((r) => !kept.has(recordKey(r)));
  for (const r of stale) {
    await withdraw(ctx, r, round, whyWithdrawn(ctx, r, live, gathered)).catch((error: unknown) => {
      errors.push(error);
    });
  }
  await ctx.feedback.end(sourceId(ref), round, obj ?? goneSource(ctx, ref), ctx.events);
  return outcomeOf(ctx, ref, obj, errors, waiting, gathered.wanted.length + stale.length);
}

const isPermanent = (error: unknown) =>
  (error as { disposition?: string } | undefined)?.disposition === 'permanent';

const recordKey = (r: { kind: string; namespace: string; name: string }) =>
  `${r.kind}/${r.namespace}/${r.name}`;

function sameSource(a: SourceRef | undefined, b: SourceRef): boolean {
  return a !== undefined && a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}

/** Applies one wanted record unless the cache shows it as wanted already; notes its Ready. */
async function ensure(
  ctx: SourceContext,
  ref: SourceRef,
  w: Wanted,
  round: Round,
): Promise<'done' | 'waiting'> {
  const cached = ctx.caches.records.get(w.kind)?.get(w.namespace, w.name);
  const item = `record ${recordKey(w)}`;
  if (cached !== undefined && !sameSource(generatedFrom(cached), ref)) {
    const message = `${w.kind} ${w.namespace}/${w.name} exists and was not generated from this ${ref.kind}: ${w.hostname} is not published through it`;
    round.note(item, 'taken', { type: 'Warning', reason: 'NameTaken', message });
    return 'done';
  }
  if (cached !== undefined && isDeleting(cached)) return 'waiting';
  if (cached === undefined || !isAsWanted(cached, w)) await ctx.writer.apply(w);
  if (cached === undefined) round.note(item, 'pending', undefined);
  else noteReady(ctx, round, item, w, cached);
  return 'done';
}

/** A Published, or a Warning with the record's own reason, when its Ready changes. */
function noteReady(ctx: SourceContext, round: Round, item: string, w: Wanted, r: RecordResource) {
  const ready = findCondition(r.status?.conditions, 'Ready');
  if (ready === undefined) return round.note(item, 'pending', undefined);
  const type = w.kind.replace('Record', '');
  const where = `DNSZone ${objectId(w.zone.metadata)} (${w.kind} ${w.namespace}/${w.name})`;
  const event =
    ready.status === 'True'
      ? {
          type: 'Normal' as const,
          reason: 'Published',
          message: `${w.hostname} ${type} published in ${where}`,
        }
      : {
          type: 'Warning' as const,
          reason: ready.reason,
          message: `${w.hostname} ${type} not published in ${where}: ${ready.message}${ownerNote(ctx, ready.message)}`,
        };
  round.note(item, `${ready.status} ${ready.reason}`, event, true);
}

/** For a Conflict with a generated record: the source that one came from. */
function ownerNote(ctx: SourceContext, message: string): string {
  const m = /declared by (\w+)\/([^/\s]+)\/([^\s),]+)/.exec(message);
  if (m === null) return '';
  const [, kind, namespace, name] = m as unknown as [string, string, string, string];
  const store = ctx.caches.records.get(kind as RecordResource['kind']);
  const owner = store?.get(namespace, name);
  const from = owner === undefined ? undefined : generatedFrom(owner);
  return from === undefined ? '' : ` (generated from ${from.kind} ${from.namespace}/${from.name})`;
}

/** The absolute name a cached record is for (its zone's name; the spec's own without it). */
function hostOf(ctx: SourceContext, r: RecordResource): string {
  const zone = ctx.caches.zones.get(r.metadata.namespace, r.spec.zone);
  return zone === undefined ? r.spec.name : absoluteName(r.spec.name, zone.spec.zoneName);
}

function whyWithdrawn(
  ctx: SourceContext,
  r: RecordRef,
  live: KubeObject | undefined,
  gathered: Gathered,
): string {
  if (live === undefined) return 'the source is gone';
  const cached = ctx.caches.records.get(r.kind)?.get(r.namespace, r.name);
  const host = cached === undefined ? undefined : hostOf(ctx, cached);
  if (host === undefined || !gathered.placed.has(host)) return 'the source no longer names it';
  const now = gathered.placed.get(host);
  return now === undefined
    ? `namespace ${live.metadata.namespace} may no longer publish it there`
    : `it goes to DNSZone ${now.join(', ')} now`;
}

/** Deletes a record no longer wanted (the zone removes its RRset before it goes). */
async function withdraw(ctx: SourceContext, r: RecordRef, round: Round, why: string) {
  const cached = ctx.caches.records.get(r.kind)?.get(r.namespace, r.name);
  if (cached === undefined || isDeleting(cached)) return;
  await ctx.writer.remove(r, cached.metadata.uid);
  const type = r.kind.replace('Record', '');
  const message = `${hostOf(ctx, cached)} ${type} withdrawn from DNSZone ${r.namespace}/${cached.spec.zone} (${r.kind} ${r.namespace}/${r.name} deleted): ${why}`;
  round.tell({ type: 'Normal', reason: 'Withdrawn', message });
  ctx.log.info({ source: r, why }, 'generated record withdrawn');
}

/** The deleted source as an Event can still name it: from what its records' labels keep. */
function goneSource(ctx: SourceContext, ref: SourceRef): KubeObject | undefined {
  const records = ctx.generated.of(ref);
  if (records.length === 0) return undefined;
  const first = records[0] as RecordRef;
  const cached = ctx.caches.records.get(first.kind)?.get(first.namespace, first.name);
  const uid = cached?.metadata.labels?.[SOURCE_LABELS.uid];
  return {
    apiVersion: SOURCE_KINDS[ref.kind].apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, namespace: ref.namespace, ...(uid === undefined ? {} : { uid }) },
    spec: {},
  };
}

function outcomeOf(
  ctx: SourceContext,
  ref: SourceRef,
  obj: KubeObject | undefined,
  errors: readonly unknown[],
  waiting: boolean,
  touched: number,
): Outcome {
  const error = errors.find((e) => !isPermanent(e)) ?? errors[0];
  if (error !== undefined) {
    ctx.log.warn({ source: sourceId(ref), err: String(error) }, 'generated records not written');
    return isPermanent(error) ? { result: 'permanent', error } : { result: 'transient', error };
  }
  if (waiting) return WAIT_FOR_DELETION;
  // Nothing to look after: the next event of the source (or of a zone) brings it back.
  return obj === undefined && touched === 0 ? GONE : OK;
}
