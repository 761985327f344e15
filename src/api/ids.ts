/**
 * The ids of our objects, in one place: every map, log field, plan comment and queue key
 * that names an object builds its text here, so two spellings of one object cannot meet.
 *
 * - `objectId`: `namespace/name`, an object among those of its kind (an instance in metrics
 *   and logs, a zone in the caches, a Secret).
 * - `resourceKey`: `Kind/namespace/name`, an object among all kinds: the owner of an RRset
 *   in plans, nsupdate scripts and the ownership registry.
 */
import type { ObjectMeta } from './meta.ts';

type Named = Pick<ObjectMeta, 'namespace' | 'name'>;

/** `namespace/name`. */
export function objectId(metadata: Named): string {
  return `${metadata.namespace}/${metadata.name}`;
}

/** The parts of an `objectId`; undefined for text that is not one. */
export function parseObjectId(id: string): Named | undefined {
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1 || id.indexOf('/', slash + 1) !== -1) return undefined;
  return { namespace: id.slice(0, slash), name: id.slice(slash + 1) };
}

/** `Kind/namespace/name`: the owner written in plans, scripts and the ownership registry. */
export function resourceKey(object: { readonly kind: string; readonly metadata: Named }): string {
  return `${object.kind}/${objectId(object.metadata)}`;
}
