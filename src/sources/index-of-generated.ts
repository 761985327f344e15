/**
 * Which generated records each source has, kept from the record informers' events (so a
 * source's reconcile does not scan every record of the cluster). Filled by the initial list
 * like the caches are: after a restart it holds every generated record, whether or not its
 * source still exists, and that is how the controller finds those whose source went while
 * it was down.
 */
import type { KubeObject } from '../kube/client.ts';
import type { ChangeType } from '../kube/informer.ts';
import { type GeneratedKind, generatedFrom, type SourceRef, sourceId } from './generated.ts';

export interface RecordRef {
  readonly kind: GeneratedKind;
  readonly namespace: string;
  readonly name: string;
}

const keyOf = (r: RecordRef) => `${r.kind}/${r.namespace}/${r.name}`;

export class GeneratedIndex {
  /** Source id → record key → record. */
  readonly #bySource = new Map<string, Map<string, RecordRef>>();
  /** Record key → the source id it was last filed under. */
  readonly #sourceOf = new Map<string, string>();
  readonly #refs = new Map<string, SourceRef>();

  /** Files (or unfiles) a record after a watch event of it. */
  note(type: ChangeType, record: KubeObject): void {
    const ref: RecordRef = {
      kind: record.kind as GeneratedKind,
      namespace: record.metadata.namespace,
      name: record.metadata.name,
    };
    const key = keyOf(ref);
    const before = this.#sourceOf.get(key);
    const source = type === 'delete' ? undefined : generatedFrom(record);
    const id = source === undefined ? undefined : sourceId(source);
    if (before !== undefined && before !== id) this.#unfile(before, key);
    if (source === undefined || id === undefined) return;
    const records = this.#bySource.get(id) ?? new Map<string, RecordRef>();
    records.set(key, ref);
    this.#bySource.set(id, records);
    this.#sourceOf.set(key, id);
    this.#refs.set(id, source);
  }

  #unfile(id: string, key: string): void {
    this.#sourceOf.delete(key);
    const records = this.#bySource.get(id);
    records?.delete(key);
    if (records?.size === 0) {
      this.#bySource.delete(id);
      this.#refs.delete(id);
    }
  }

  /** The records generated from one source. */
  of(source: SourceRef): RecordRef[] {
    return [...(this.#bySource.get(sourceId(source))?.values() ?? [])];
  }

  /** The source a record is filed under, if it is a generated one. */
  sourceOf(record: RecordRef): SourceRef | undefined {
    const id = this.#sourceOf.get(keyOf(record));
    return id === undefined ? undefined : this.#refs.get(id);
  }

  /** Every source that has generated records. */
  sources(): SourceRef[] {
    return [...this.#refs.values()];
  }
}
