/**
 * The controller's Kubernetes calls on KubeRest; client.ts exports this class as `Kube`.
 * `list` (paged), `watch`, `get`, `patchStatus`, `setFinalizers`, `readSecret` (404 on a
 * read gives undefined, on a write is ignored), plus the few core/coordination calls that
 * events.ts, lease.ts and configmap-store.ts make.
 *
 * Errors are KubeRest's: `KubeTransientError`/`KubePermanentError` with `code: HTTP_<n>`
 * (as client.ts's kubeError gives) and `status`/`statusCode` for isNotFound/isConflict.
 */
// Types only: client.ts re-exports this class as `Kube`.
import type { KubeObject, ObjectRef } from './client.ts';
import { isNotFound, KubeRest, type KubeRestOptions, resourcePath } from './rest.ts';
import { listAll, type WatchEvent, type WatchOptions, watch } from './watch.ts';

/** The API group and version of our custom resources (client.ts re-exports them). */
export const GROUP = 'dns.bind9-controller.io';
export const VERSION = 'v1alpha1';

export interface ConnectOptions {
  /** A kubeconfig file; else in-cluster when `inCluster`, else the default chain. */
  readonly kubeconfig?: string;
  readonly inCluster?: boolean;
  readonly context?: string;
}

/** A Lease, ConfigMap or Event body as JSON: the API server validates it. */
export type JsonObject = Record<string, unknown>;

const custom = (plural: string, namespace?: string, name?: string, subresource?: string) =>
  resourcePath({
    group: GROUP,
    version: VERSION,
    plural,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  });

/** A resource of any API group, e.g. `{ group: '', version: 'v1', plural: 'namespaces' }`. */
export interface ApiResource {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** What list and watch take: one of our kinds by its plural, or any resource. */
export type Collection = string | ApiResource;

/** The collection path; cluster-scoped resources are listed without a namespace. */
function collection(kind: Collection, namespace?: string): string {
  if (typeof kind === 'string') return custom(kind, namespace);
  return resourcePath({ ...kind, ...(namespace !== undefined ? { namespace } : {}) });
}

/** A collection's name for logs: `arecords`, `namespaces`, `services.v1`. */
export function collectionName(kind: Collection): string {
  if (typeof kind === 'string') return kind;
  return kind.group === '' ? kind.plural : `${kind.plural}.${kind.group}`;
}

const core = (plural: string, namespace: string, name?: string) =>
  resourcePath({ version: 'v1', plural, namespace, ...(name !== undefined ? { name } : {}) });

const lease = (namespace: string, name?: string) =>
  resourcePath({
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    namespace,
    ...(name !== undefined ? { name } : {}),
  });

/**
 * MicroTime as the API server writes it (RFC 3339 with six fractional digits):
 * `acquireTime`/`renewTime` of a Lease, `eventTime` of an events.k8s.io Event.
 */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export class RestKube {
  readonly rest: KubeRest;

  constructor(rest: KubeRest) {
    this.rest = rest;
  }

  static async connect(options: ConnectOptions = {}, rest: KubeRestOptions = {}) {
    const load = {
      ...(options.kubeconfig !== undefined ? { path: options.kubeconfig } : {}),
      ...(options.inCluster !== undefined ? { inCluster: options.inCluster } : {}),
      ...(options.context !== undefined ? { context: options.context } : {}),
    };
    return new RestKube(await KubeRest.connect(load, rest));
  }

  /** Every object of a kind (paged), and the list's resourceVersion for a watch. */
  async list<T extends KubeObject>(
    kind: Collection,
    namespace?: string,
  ): Promise<{ items: T[]; metadata: { resourceVersion: string } }> {
    const { items, resourceVersion } = await listAll<T>(this.rest, collection(kind, namespace));
    return { items, metadata: { resourceVersion } };
  }

  /** Watches a kind; see watch.ts for the events and the 410 contract. */
  watch<T extends KubeObject>(
    kind: Collection,
    namespace: string | undefined,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    return watch<T>(this.rest, collection(kind, namespace), options);
  }

  get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    return orUndefined(this.rest.request<T>('GET', custom(ref.plural, ref.namespace, ref.name)));
  }

  /**
   * Merge-patches `status` through the status subresource (the main endpoint ignores it).
   * Resolves with the object's resourceVersion after the write; undefined when it is gone.
   */
  async patchStatus(ref: ObjectRef, status: unknown): Promise<string | undefined> {
    const path = custom(ref.plural, ref.namespace, ref.name, 'status');
    const written = await orUndefined(
      this.rest.request<KubeObject>('PATCH', path, {
        body: { status },
        contentType: 'merge-patch',
      }),
    );
    return written?.metadata.resourceVersion;
  }

  /** Replaces the finalizers; with a resourceVersion a concurrent change gives 409. */
  async setFinalizers(ref: ObjectRef, finalizers: readonly string[], resourceVersion?: string) {
    const metadata =
      resourceVersion === undefined ? { finalizers } : { finalizers, resourceVersion };
    const path = custom(ref.plural, ref.namespace, ref.name);
    await orUndefined(
      this.rest.request('PATCH', path, { body: { metadata }, contentType: 'merge-patch' }),
    );
  }

  /** A Secret's data, base64-decoded, or undefined when it does not exist. */
  async readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    type Secret = { data?: Record<string, string>; stringData?: Record<string, string> };
    const secret = await orUndefined(
      this.rest.request<Secret>('GET', core('secrets', namespace, name)),
    );
    if (secret === undefined) return undefined;
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) {
      data[k] = Buffer.from(v, 'base64').toString('utf8');
    }
    return { ...data, ...secret.stringData };
  }

  createEvent(namespace: string, body: JsonObject): Promise<JsonObject> {
    return this.rest.request('POST', core('events', namespace), { body });
  }

  patchEvent(namespace: string, name: string, patch: JsonObject): Promise<JsonObject> {
    const path = core('events', namespace, name);
    return this.rest.request('PATCH', path, { body: patch, contentType: 'merge-patch' });
  }

  readLease(namespace: string, name: string): Promise<JsonObject | undefined> {
    return orUndefined(this.rest.request<JsonObject>('GET', lease(namespace, name)));
  }

  createLease(namespace: string, body: JsonObject): Promise<JsonObject> {
    return this.rest.request('POST', lease(namespace), { body });
  }

  /** Watches one Lease (a candidate learns at once that the holder released it). */
  watchLease(namespace: string, name: string, signal: AbortSignal): AsyncIterable<WatchEvent> {
    return watch(this.rest, lease(namespace), { fieldSelector: `metadata.name=${name}`, signal });
  }

  /** PUT: the body's metadata.resourceVersion guards it (409 when someone wrote first). */
  replaceLease(namespace: string, name: string, body: JsonObject): Promise<JsonObject> {
    return this.rest.request('PUT', lease(namespace, name), { body });
  }

  readConfigMap(namespace: string, name: string): Promise<JsonObject | undefined> {
    return orUndefined(this.rest.request<JsonObject>('GET', core('configmaps', namespace, name)));
  }

  createConfigMap(namespace: string, body: JsonObject): Promise<JsonObject> {
    return this.rest.request('POST', core('configmaps', namespace), { body });
  }

  patchConfigMap(namespace: string, name: string, patch: JsonObject): Promise<JsonObject> {
    const path = core('configmaps', namespace, name);
    return this.rest.request('PATCH', path, { body: patch, contentType: 'merge-patch' });
  }

  close(): void {
    this.rest.close();
  }
}
