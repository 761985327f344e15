/**
 * Generated records written by server-side apply under the controller's field manager
 * (kube/apply.ts): each apply sends the whole record as wanted, so a field someone edited
 * by hand is put back, and the record is created the first time (RBAC: create and patch).
 * Deleting is guarded by the uid the cache showed, so a namesake made meanwhile stays.
 */
import { API_GROUP_VERSION } from '../api/meta.ts';
import type { ObjectApplier } from '../kube/apply.ts';
import { pluralOf } from '../reconcilers/context.ts';
import type { Wanted } from './generated.ts';
import type { RecordRef } from './index-of-generated.ts';
import type { RecordWriter } from './reconcile.ts';

export class AppliedRecords implements RecordWriter {
  readonly #applier: ObjectApplier;

  constructor(applier: ObjectApplier) {
    this.#applier = applier;
  }

  async apply(wanted: Wanted): Promise<void> {
    await this.#applier.apply(pluralOf(wanted.kind), wanted.manifest);
  }

  remove(record: RecordRef, uid: string | undefined): Promise<void> {
    const type = {
      apiVersion: API_GROUP_VERSION,
      kind: record.kind,
      plural: pluralOf(record.kind),
    };
    return this.#applier.delete(type, record.namespace, record.name, uid);
  }
}
