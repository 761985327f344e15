/**
 * Which source keys a watch event wakes (STYLE.md habit 6: events only say which key), and
 * why each event matters. Like controller/relevance.ts, it keeps per object a small text of
 * what counts and wakes only when that text changes:
 *
 * - a source (Service, Ingress, route): what it asks to publish (its endpoints and input
 *   problems, endpoints.ts), so the status writes of other controllers wake nothing;
 * - a Gateway: its listeners and addresses → every route attached to it;
 * - a generated record: its spec, deletion and Ready (status, reason, message) → its source,
 *   whose Events say whether the name is published; any other record does not matter here;
 * - a DNSZone (spec, deletion) or a Namespace (labels): where names may go changes →
 *   every source that publishes or has generated records.
 *
 * Keys are `source/<namespace>/<Kind>:<name>` (a colon is in no object name).
 */
import type { KubeObject } from '../kube/client.ts';
import type { ChangeType } from '../kube/informer.ts';
import type { GatewayView } from './endpoints.ts';
import { GENERATED_KINDS, generatedFrom, type SourceRef, sourceId } from './generated.ts';
import type { GeneratedIndex } from './index-of-generated.ts';
import { GATEWAY_KIND, isSourceKind, ROUTE_KINDS, type SourceKind } from './kinds.ts';
import { gatewayFields, routeFields } from './objects.ts';
import { computeSource, type SourceContext } from './reconcile.ts';

export const SOURCE_KEY_KIND = 'source';

export const sourceKey = (ref: SourceRef) =>
  `${SOURCE_KEY_KIND}/${ref.namespace}/${ref.kind}:${ref.name}`;

/** The source of a key's namespace and name parts (`Service:web`). */
export function parseSourceKey(namespace: string, name: string): SourceRef | undefined {
  const colon = name.indexOf(':');
  const kind = name.slice(0, colon);
  if (colon <= 0 || !isSourceKind(kind) || colon === name.length - 1) return undefined;
  return { kind, namespace, name: name.slice(colon + 1) };
}

const GENERATED: ReadonlySet<string> = new Set(GENERATED_KINDS);

type WakeContext = Pick<SourceContext, 'externalDns' | 'gateways' | 'generated' | 'sources'> & {
  readonly gateways: GatewayView;
  readonly generated: GeneratedIndex;
};

export class SourceWakes {
  readonly #ctx: WakeContext;
  readonly #kinds: ReadonlySet<SourceKind>;
  /** By uid: the watched text of the object's last event. */
  readonly #seen = new Map<string, string>();
  /** Ids of sources that ask for something (endpoints or problems). */
  readonly #publishing = new Map<string, SourceRef>();

  constructor(ctx: WakeContext, kinds: readonly SourceKind[]) {
    this.#ctx = ctx;
    this.#kinds = new Set(kinds);
  }

  /** Whether events of `kind` are only this module's business (a source or a Gateway). */
  handles(kind: string): boolean {
    return (isSourceKind(kind) && this.#kinds.has(kind)) || kind === GATEWAY_KIND;
  }

  /**
   * Notes the event and returns the keys it wakes; with `started` false (caches still
   * filling) it only notes, and returns nothing.
   */
  keysFor(kind: string, type: ChangeType, obj: KubeObject, started: boolean): string[] {
    if (GENERATED.has(kind)) this.#ctx.generated.note(type, obj);
    if (this.#kinds.size === 0) return [];
    const changed = this.#changed(kind, type, obj);
    if (!changed || !started) return [];
    if (isSourceKind(kind)) return [sourceKey(refOf(kind, obj))];
    if (kind === GATEWAY_KIND) return this.#routesOf(obj).map(sourceKey);
    if (GENERATED.has(kind)) {
      const source = generatedFrom(obj);
      return source !== undefined && this.#kinds.has(source.kind) ? [sourceKey(source)] : [];
    }
    return this.all();
  }

  /** Every source worth a reconcile: those that ask for something, those with records. */
  all(): string[] {
    const refs = new Map(this.#publishing);
    for (const ref of this.#ctx.generated.sources()) refs.set(sourceId(ref), ref);
    return [...refs.values()].filter((r) => this.#kinds.has(r.kind)).map(sourceKey);
  }

  /** Generated records whose source kind is not enabled: left as they are. */
  orphanedKinds(): SourceKind[] {
    return [...new Set(this.#ctx.generated.sources().map((r) => r.kind))].filter(
      (k) => !this.#kinds.has(k),
    );
  }

  #changed(kind: string, type: ChangeType, obj: KubeObject): boolean {
    const state = this.#watched(kind, type, obj);
    if (state === undefined) return false;
    const uid = obj.metadata.uid ?? `${kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
    const before = this.#seen.get(uid);
    if (type === 'delete') this.#seen.delete(uid);
    else this.#seen.set(uid, state);
    // '' is a source that asks for nothing and has nothing: waking it would do nothing.
    if (state === '' && (before ?? '') === '') return false;
    return type === 'delete' ? before !== undefined : before !== state;
  }

  /** The text of what matters in the object, or undefined for one that never matters here. */
  #watched(kind: string, type: ChangeType, obj: KubeObject): string | undefined {
    const m = obj.metadata;
    if (isSourceKind(kind)) return this.#sourceState(kind, obj, type);
    if (kind === GATEWAY_KIND) return JSON.stringify(gatewayFields(obj));
    if (GENERATED.has(kind)) {
      if (generatedFrom(obj) === undefined) return undefined;
      // What the source's Events say: not observedGeneration, which every round moves.
      type Ready = { type: string; status?: string; reason?: string; message?: string };
      const status = obj.status as { conditions?: Ready[] } | undefined;
      const r = status?.conditions?.find((c) => c.type === 'Ready');
      const ready = r === undefined ? null : [r.status, r.reason, r.message];
      return JSON.stringify([m.generation, m.deletionTimestamp ?? null, ready]);
    }
    if (kind === 'DNSZone') return JSON.stringify([m.generation, m.deletionTimestamp ?? null]);
    if (kind === 'Namespace') return JSON.stringify(Object.entries(m.labels ?? {}).sort());
    return undefined;
  }

  /** A source's text; one that asks for nothing and has no records is not kept at all. */
  #sourceState(kind: SourceKind, obj: KubeObject, type: ChangeType): string | undefined {
    const ref = refOf(kind, obj);
    const computed = type === 'delete' ? undefined : computeSource(this.#ctx, kind, obj);
    const asks = computed !== undefined && computed.endpoints.length + computed.problems.length > 0;
    // A source that asked for something and is deleted may have records not listed yet.
    const asked = this.#publishing.delete(sourceId(ref));
    if (asks) this.#publishing.set(sourceId(ref), ref);
    const hasRecords = asked || this.#ctx.generated.of(ref).length > 0;
    if (!asks && !hasRecords) return type === 'delete' ? undefined : '';
    return JSON.stringify([computed ?? null, obj.metadata.uid]);
  }

  /** The routes of enabled kinds that name this Gateway among their parents. */
  #routesOf(gateway: KubeObject): SourceRef[] {
    const { namespace, name } = gateway.metadata;
    const out: SourceRef[] = [];
    for (const kind of this.#kinds) {
      if (!ROUTE_KINDS.has(kind)) continue;
      for (const route of this.#ctx.sources.get(kind)?.list() ?? []) {
        const parents = routeFields(route).gateways;
        if (parents.some((p) => p.namespace === namespace && p.name === name))
          out.push(refOf(kind, route));
      }
    }
    return out;
  }
}

function refOf(kind: SourceKind, obj: KubeObject): SourceRef {
  return { kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
}
