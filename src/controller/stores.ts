/**
 * Informers for every kind, over all namespaces or a list of them, behind one `Store` per
 * kind; plus those of other API groups asked for (`extra`: the sources of generated records).
 */
import type { Logger } from 'pino';
import type { Bind9Cluster } from '../api/kinds.ts';
import { RESOURCE_KINDS } from '../api/kinds.ts';
import { RECORD_KINDS_LIST, type RecordKind } from '../api/records.ts';
import type { Kube, KubeObject } from '../kube/client.ts';
import type { Clock } from '../kube/clock.ts';
import { type ChangeType, ResilientInformer, type Store } from '../kube/informer.ts';
import type { Collection } from '../kube/rest-kube.ts';
import type { Caches } from '../reconcilers/context.ts';

export type KindChange = (kind: string, type: ChangeType, obj: KubeObject) => void;

class MultiStore<T extends KubeObject> implements Store<T> {
  readonly informers: ResilientInformer<T>[];
  constructor(informers: ResilientInformer<T>[]) {
    this.informers = informers;
  }
  get(namespace: string, name: string): T | undefined {
    for (const i of this.informers) {
      const found = i.get(namespace, name);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  list(namespace?: string): readonly T[] {
    return this.informers.flatMap((i) => [...i.list(namespace)]);
  }
}

export interface Informers {
  readonly caches: Caches;
  readonly clusters: Store<Bind9Cluster>;
  /** The stores of `extra`, by kind. */
  readonly extra: ReadonlyMap<string, Store<KubeObject>>;
  readonly all: readonly ResilientInformer<KubeObject>[];
}

/** A kind of another API group to watch in the same namespaces, e.g. Services. */
export interface ExtraKind {
  readonly kind: string;
  readonly collection: Collection;
}

export function makeInformers(o: {
  kube: Kube;
  namespaces: readonly string[];
  clock: Clock;
  log: Logger;
  onChange: KindChange;
  /** The API server answers an informer again after it failed (an outage ended). */
  onRecovered?: () => void;
  extra?: readonly ExtraKind[];
}): Informers {
  const all: ResilientInformer<KubeObject>[] = [];
  const plurals = RESOURCE_KINDS as Readonly<Record<string, { plural: string }>>;
  const storeOf = <T extends KubeObject>(
    kind: string,
    plural: Collection = plurals[kind]!.plural,
  ): MultiStore<T> => {
    const namespaces = o.namespaces.length === 0 ? [undefined] : o.namespaces;
    const informers = namespaces.map(
      (namespace) =>
        new ResilientInformer<T>({
          kube: o.kube,
          plural,
          ...(namespace === undefined ? {} : { namespace }),
          clock: o.clock,
          log: o.log,
          onChange: (type, obj) => o.onChange(kind, type, obj),
          ...(o.onRecovered === undefined ? {} : { onRecovered: o.onRecovered }),
        }),
    );
    all.push(...(informers as unknown as ResilientInformer<KubeObject>[]));
    return new MultiStore<T>(informers);
  };
  const records = new Map<RecordKind, Store<never>>();
  for (const kind of RECORD_KINDS_LIST) records.set(kind, storeOf(kind));
  const clusters = storeOf<Bind9Cluster>('Bind9Cluster');
  // Cluster-wide whatever namespaces are watched: a zone's publish.namespaceSelector reads
  // the labels of namespaces the controller may not watch for records.
  const namespaces = new ResilientInformer<KubeObject>({
    kube: o.kube,
    plural: NAMESPACES,
    clock: o.clock,
    log: o.log,
    onChange: (type, obj) => o.onChange('Namespace', type, obj),
    ...(o.onRecovered === undefined ? {} : { onRecovered: o.onRecovered }),
  });
  all.push(namespaces);
  const caches = {
    instances: storeOf('Bind9Instance'),
    zones: storeOf('DNSZone'),
    records,
    namespaces,
  } as unknown as Caches;
  const extra = new Map<string, Store<KubeObject>>();
  for (const e of o.extra ?? []) extra.set(e.kind, storeOf(e.kind, e.collection));
  return { caches, clusters, extra, all };
}

const NAMESPACES = { group: '', version: 'v1', plural: 'namespaces' } as const;
