/**
 * Kubernetes access on @kubernetes/client-node 2.x. The client's `any`-typed custom-object
 * calls stop here: callers get our `KubeObject` shape and our typed errors.
 */
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { PermanentError, TransientError } from '../dns/errors.ts';

export const GROUP = 'dns.bind9-controller.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly finalizers?: readonly string[];
}

/** A namespaced object as the API server returns it, spec and status left to the caller. */
export interface KubeObject<Spec = unknown, Status = unknown> {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly spec: Spec;
  readonly status?: Status;
}

export interface ObjectRef {
  readonly plural: string;
  readonly namespace: string;
  readonly name: string;
}

/** Loads a kubeconfig from a file, from the in-cluster service account, or the default chain. */
export function loadKubeConfig(options: { kubeconfig?: string; inCluster?: boolean }): KubeConfig {
  const kc = new KubeConfig();
  if (options.kubeconfig !== undefined) kc.loadFromFile(options.kubeconfig);
  else if (options.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** The HTTP status of a client error, or undefined for network-level failures. */
export function httpStatus(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const e = error as { statusCode?: unknown; code?: unknown } | null;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return typeof e?.code === 'number' ? e.code : undefined;
}

export const isNotFound = (error: unknown) => httpStatus(error) === 404;
export const isConflict = (error: unknown) => httpStatus(error) === 409;

/**
 * Sorts a client error by what the caller does with it: 4xx other than 408/409/429 will
 * fail again the same way (RBAC, validation); everything else is worth a retry.
 */
export function kubeError(action: string, error: unknown): TransientError | PermanentError {
  const status = httpStatus(error);
  const code = status === undefined ? 'KUBE_UNREACHABLE' : `HTTP_${status}`;
  const reason = reasonOf(error);
  const message = `${action}: ${status ?? 'no response'}${reason ? ` ${reason}` : ''}`;
  const permanent =
    status !== undefined && status >= 400 && status < 500 && ![408, 409, 429].includes(status);
  return permanent
    ? new PermanentError(code, message, { cause: error })
    : new TransientError(code, message, { cause: error });
}

function reasonOf(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = error.body;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string') return parsed.message;
      } catch {
        return body.slice(0, 200);
      }
    }
    const message = (body as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : '';
  }
  return error instanceof Error ? error.message : '';
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Typed access to what the controller reads and writes. */
export class Kube {
  readonly config: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;

  constructor(config: KubeConfig) {
    this.config = config;
    this.custom = config.makeApiClient(CustomObjectsApi);
    this.core = config.makeApiClient(CoreV1Api);
    this.coordination = config.makeApiClient(CoordinationV1Api);
  }

  /** One list call; the list's resourceVersion comes back for watches. */
  async list<T extends KubeObject>(
    plural: string,
    namespace?: string,
  ): Promise<{ items: T[]; metadata?: { resourceVersion?: string } }> {
    const base = { group: GROUP, version: VERSION, plural };
    const result: unknown =
      namespace === undefined
        ? await this.custom.listClusterCustomObject(base)
        : await this.custom.listNamespacedCustomObject({ ...base, namespace });
    return result as { items: T[]; metadata?: { resourceVersion?: string } };
  }

  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      const obj: unknown = await this.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        ...ref,
      });
      return obj as T;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw kubeError(`get ${ref.plural} ${ref.namespace}/${ref.name}`, error);
    }
  }

  /** Merge-patches `status` through the status subresource (KUBERNETES.md). */
  async patchStatus(ref: ObjectRef, status: unknown): Promise<void> {
    try {
      await this.custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, ...ref, body: { status } },
        mergePatch,
      );
    } catch (error) {
      if (isNotFound(error)) return;
      throw kubeError(`patch status of ${ref.plural} ${ref.namespace}/${ref.name}`, error);
    }
  }

  /**
   * Replaces `metadata.finalizers` with a merge patch guarded by resourceVersion, so a
   * concurrent change makes this fail with 409 instead of losing someone's finalizer.
   */
  async setFinalizers(ref: ObjectRef, finalizers: readonly string[], resourceVersion?: string) {
    const metadata =
      resourceVersion === undefined ? { finalizers } : { finalizers, resourceVersion };
    try {
      await this.custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, ...ref, body: { metadata } },
        mergePatch,
      );
    } catch (error) {
      if (isNotFound(error)) return;
      throw kubeError(`set finalizers of ${ref.plural} ${ref.namespace}/${ref.name}`, error);
    }
  }

  /** A Secret's data, base64-decoded, or undefined when it does not exist. */
  async readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const secret = await this.core.readNamespacedSecret({ namespace, name });
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(secret.data ?? {})) {
        data[k] = Buffer.from(v, 'base64').toString('utf8');
      }
      for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = v;
      return data;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw kubeError(`get secret ${namespace}/${name}`, error);
    }
  }
}
