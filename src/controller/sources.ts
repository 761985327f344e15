/**
 * The sources part of the controller (issue #15, src/sources): which kinds to watch for
 * `--sources`, the context their reconcile runs with, which keys an event wakes and the
 * `source/...` keys' reconcile. Kept apart so controller.ts only asks "which source keys
 * does this event wake" and "reconcile it".
 */
import type { Logger } from 'pino';
import { ObjectApplier } from '../kube/apply.ts';
import type { Kube, KubeObject } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { ChangeType, Store } from '../kube/informer.ts';
import type { Caches } from '../reconcilers/context.ts';
import type { Outcome } from '../reconcilers/outcome.ts';
import { Feedback } from '../sources/feedback.ts';
import { GeneratedIndex } from '../sources/index-of-generated.ts';
import {
  GATEWAY_KIND,
  GATEWAYS,
  ROUTE_KINDS,
  SOURCE_KINDS,
  type SourceKind,
} from '../sources/kinds.ts';
import { reconcileSource, type SourceContext } from '../sources/reconcile.ts';
import { parseSourceKey, SourceWakes } from '../sources/wakes.ts';
import { AppliedRecords } from '../sources/writer.ts';
import type { ExtraKind } from './stores.ts';

/** The informers `--sources` needs beside ours: each kind, and Gateways for routes. */
export function sourceInformers(kinds: readonly SourceKind[]): ExtraKind[] {
  const out: ExtraKind[] = kinds.map((k) => ({ kind: k, collection: SOURCE_KINDS[k].collection }));
  if (kinds.some((k) => ROUTE_KINDS.has(k))) out.push({ kind: GATEWAY_KIND, collection: GATEWAYS });
  return out;
}

export interface SourceWiringOptions {
  readonly kube: Kube;
  readonly kinds: readonly SourceKind[];
  readonly externalDns: boolean;
  readonly caches: Caches;
  /** The stores of `sourceInformers(kinds)`, by kind. */
  readonly stores: ReadonlyMap<string, Store<KubeObject>>;
  readonly events: EventRecorder;
  readonly log: Logger;
}

const NO_GATEWAYS: Store<KubeObject> = { get: () => undefined, list: () => [] };

export class SourceWiring {
  readonly #ctx: SourceContext;
  readonly #wakes: SourceWakes;
  readonly #log: Logger;

  constructor(o: SourceWiringOptions) {
    const sources = new Map<SourceKind, Store<KubeObject>>();
    for (const kind of o.kinds) {
      const store = o.stores.get(kind);
      if (store !== undefined) sources.set(kind, store);
    }
    const gateways = o.stores.get(GATEWAY_KIND) ?? NO_GATEWAYS;
    this.#ctx = {
      caches: o.caches,
      sources,
      gateways: { gateway: (namespace, name) => gateways.get(namespace, name) },
      generated: new GeneratedIndex(),
      writer: new AppliedRecords(new ObjectApplier(o.kube)),
      events: o.events,
      feedback: new Feedback(),
      log: o.log,
      externalDns: o.externalDns,
    };
    this.#wakes = new SourceWakes(this.#ctx, o.kinds);
    this.#log = o.log;
  }

  /** Events of this kind concern only the sources (a source kind, a Gateway). */
  handles(kind: string): boolean {
    return this.#wakes.handles(kind);
  }

  /** Notes the event (always: the caches are filling before start) and says what it wakes. */
  keysFor(kind: string, type: ChangeType, obj: KubeObject, started: boolean): string[] {
    return this.#wakes.keysFor(kind, type, obj, started);
  }

  /** Every source key worth a reconcile, at start (sources deleted while down included). */
  keys(): string[] {
    const orphaned = this.#wakes.orphanedKinds();
    if (orphaned.length > 0) {
      this.#log.warn(
        { kinds: orphaned },
        'generated records of sources not enabled (--sources) are left as they are',
      );
    }
    return this.#wakes.all();
  }

  reconcile(namespace: string, name: string): Promise<Outcome> {
    const ref = parseSourceKey(namespace, name);
    if (ref === undefined) return Promise.resolve({ result: 'gone' });
    return reconcileSource(this.#ctx, ref);
  }
}
