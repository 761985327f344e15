/**
 * Which watch events can change what a reconcile would do (issue #9: the controller's own
 * status writes came back as MODIFIED events and woke their zone again, 1.3–1.9 reconciles
 * per change).
 *
 * The informer hands over only the new object, so the controller keeps, per object, the
 * small text `watchedState` returns and compares it with the next one. The cache itself is
 * always updated: only the enqueue is skipped.
 *
 * What counts, and why:
 * - `metadata.generation`: the API server bumps it on every spec change (it ignores status
 *   and metadata); where it is missing, the resourceVersion stands in, so every change counts;
 * - `deletionTimestamp`: deletion starts (it also bumps the generation, but say it plainly);
 * - finalizers: ours removed by hand must be put back, and a release ends a deletion;
 * - labels: a Bind9Instance's labels are what zones select;
 * - a record's `status.fqdn` / `status.recordType` / `status.zone`: the RRset it wrote, read
 *   by later reconciles for renames, moves and deletion. A reconcile that started before the
 *   controller's own pointer write reached the cache planned without it, and the old zone
 *   clearing the pointer after a move is what lets the new zone write its own: both need
 *   the zone to look again. Ready conditions and `observedGeneration` do not count.
 */
import type { KubeObject } from '../kube/client.ts';
import type { ChangeType } from '../kube/informer.ts';

const NOT_RECORDS = new Set(['Bind9Cluster', 'Bind9Instance', 'DNSZone']);

interface RecordPointer {
  readonly fqdn?: string | null;
  readonly recordType?: string | null;
  readonly zone?: string | null;
}

function sortedLabels(labels: Readonly<Record<string, string>> | undefined): string[] {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort();
}

/** The part of an object that can change desired state, as one comparable string. */
export function watchedState(kind: string, obj: KubeObject): string {
  const m = obj.metadata;
  // A Namespace matters only for its labels (publish.namespaceSelector); it has no
  // generation, and its status changes mean nothing here.
  if (kind === 'Namespace')
    return JSON.stringify([m.deletionTimestamp ?? null, sortedLabels(m.labels)]);
  const pointer = NOT_RECORDS.has(kind) ? undefined : (obj.status as RecordPointer | undefined);
  return JSON.stringify([
    m.generation ?? `rv:${m.resourceVersion ?? ''}`,
    m.deletionTimestamp ?? null,
    [...(m.finalizers ?? [])].sort(),
    sortedLabels(m.labels),
    pointer === undefined ? null : [pointer.fqdn, pointer.recordType, pointer.zone],
  ]);
}

/**
 * True when an event must queue its key: every add and delete, and an update whose watched
 * state differs from the one last seen (or none was seen).
 */
export function wakesReconcile(
  type: ChangeType,
  before: string | undefined,
  after: string,
): boolean {
  return type !== 'update' || before !== after;
}
