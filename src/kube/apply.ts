/**
 * Objects the controller owns outright (a Bind9Cluster's StatefulSets, Services,
 * ConfigMaps, ...), written by server-side apply under a field manager of ours: each apply
 * sends the whole object as we want it, the API server merges it field by field, and a
 * field we stop sending is removed (it was ours). `force`: we are the controller of these
 * objects, so a conflicting manager (someone's `kubectl edit`) loses its fields to us.
 *
 * Plus the few other calls their reconcile makes: get, create (a generated key Secret,
 * which must never be re-applied with a new value) and delete (scale-down).
 */
import { isNotFound, type KubeRest, readBody, resourcePath } from './rest.ts';
import type { RestKube } from './rest-kube.ts';

/** The field manager of everything the controller applies. */
export const FIELD_MANAGER = 'bind9-controller';

/** A kind, and where its objects live: `apps/v1` `StatefulSet` `statefulsets`. */
export interface ApiResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
}

export const API_RESOURCES = {
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  Secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  Service: { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  StatefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  PodDisruptionBudget: {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
  },
  NetworkPolicy: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
  },
} as const satisfies Record<string, ApiResource>;

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller: boolean;
  readonly blockOwnerDeletion: boolean;
}

export interface ManifestMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
}

/** An object as we want it to be: what server-side apply sends. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ManifestMetadata;
  readonly [field: string]: unknown;
}

/** An object as the API server returned it; the caller reads the fields it needs. */
export type LiveObject = Readonly<Record<string, unknown>> & {
  readonly metadata: ManifestMetadata & { readonly uid: string; readonly resourceVersion?: string };
};

export interface Applied {
  readonly object: LiveObject;
  /** The apply created the object (HTTP 201), rather than changed or kept it. */
  readonly created: boolean;
}

function pathOf(
  type: Pick<ApiResource, 'apiVersion' | 'plural'>,
  namespace: string,
  name?: string,
) {
  const slash = type.apiVersion.indexOf('/');
  const group = slash === -1 ? '' : type.apiVersion.slice(0, slash);
  const version = type.apiVersion.slice(slash + 1);
  return resourcePath({
    ...(group === '' ? {} : { group }),
    version,
    plural: type.plural,
    namespace,
    ...(name === undefined ? {} : { name }),
  });
}

export class ObjectApplier {
  readonly #kube: RestKube;
  readonly #rest: KubeRest;
  readonly #fieldManager: string;

  constructor(kube: RestKube, fieldManager = FIELD_MANAGER) {
    this.#kube = kube;
    this.#rest = kube.rest;
    this.#fieldManager = fieldManager;
  }

  /** A Secret's data, decoded; undefined when it does not exist (`get`, never `list`). */
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    return this.#kube.readSecret(namespace, name);
  }

  /** Server-side apply of the whole object; `plural` says where it lives. */
  async apply(plural: string, manifest: Manifest): Promise<Applied> {
    const { namespace, name } = manifest.metadata;
    const path = pathOf({ apiVersion: manifest.apiVersion, plural }, namespace, name);
    const action = `apply ${manifest.kind} ${namespace}/${name}`;
    const res = await this.#rest.open('PATCH', path, {
      body: manifest,
      contentType: 'apply-patch+yaml',
      query: { fieldManager: this.#fieldManager, force: true },
    });
    const object = JSON.parse(await readBody(res, 16 * 1024 * 1024, action)) as LiveObject;
    return { object, created: res.statusCode === 201 };
  }

  async get(type: ApiResource, namespace: string, name: string): Promise<LiveObject | undefined> {
    try {
      return await this.#rest.request<LiveObject>('GET', pathOf(type, namespace, name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Creates the object; an existing one is a 409 (KubeTransientError): read it then. */
  create(type: ApiResource, manifest: Manifest): Promise<LiveObject> {
    const path = pathOf(type, manifest.metadata.namespace);
    return this.#rest.request<LiveObject>('POST', path, {
      body: manifest,
      query: { fieldManager: this.#fieldManager },
    });
  }

  /**
   * Deletes the object if it is still the one we mean (`uid`, when given, as a
   * precondition: a namesake created meanwhile is left alone); gone already is success.
   * Dependents go in the background (the garbage collector's default).
   */
  async delete(type: ApiResource, namespace: string, name: string, uid?: string): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
      ...(uid === undefined ? {} : { preconditions: { uid } }),
    };
    try {
      await this.#rest.request('DELETE', pathOf(type, namespace, name), { body });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
