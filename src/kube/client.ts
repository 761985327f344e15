/**
 * Kubernetes access for the controller: the object shapes it reads, the error helpers, and
 * `Kube`, which is `RestKube` on our own REST client (rest.ts). @kubernetes/client-node is
 * not loaded on this path: importing it costs ~80 MB RSS and ~1 s of start-up (issue #9).
 */
import type { ObjectMeta } from '../api/meta.ts';
import { PermanentError, TransientError } from '../errors.ts';
import { isKubeApiError, statusOf } from './rest.ts';
import { GROUP, RestKube, VERSION } from './rest-kube.ts';

export { GROUP, VERSION };
export const API_VERSION = `${GROUP}/${VERSION}`;

/**
 * The controller's client: list/watch, get, patchStatus, setFinalizers, readSecret, and the
 * Event, Lease and ConfigMap calls. `Kube.connect({ kubeconfig })` makes one.
 */
export const Kube = RestKube;
export type Kube = RestKube;

/**
 * A namespaced object as the API server returns it, spec and status left to the caller;
 * its metadata is src/api's `ObjectMeta`, so every resource type of src/api is one.
 */
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

/**
 * The HTTP status of a client error, or undefined for network-level failures. Besides our
 * own errors it reads `statusCode`/`code` numbers, so errors of other clients (tests use
 * @kubernetes/client-node's ApiException) sort the same way.
 */
export function httpStatus(error: unknown): number | undefined {
  if (isKubeApiError(error)) return statusOf(error);
  const e = error as { statusCode?: unknown; code?: unknown } | null;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return typeof e?.code === 'number' ? e.code : undefined;
}

export const isNotFound = (error: unknown) => httpStatus(error) === 404;
export const isConflict = (error: unknown) => httpStatus(error) === 409;

/**
 * Sorts a client error by what the caller does with it: 4xx other than 408/409/429 will
 * fail again the same way (RBAC, validation); everything else is worth a retry. Our REST
 * client's errors are sorted already (rest.ts) and name the request: they pass through.
 */
export function kubeError(action: string, error: unknown): TransientError | PermanentError {
  if (isKubeApiError(error)) return error;
  const status = httpStatus(error);
  const code = status === undefined ? 'KUBE_UNREACHABLE' : `HTTP_${status}`;
  const reason = error instanceof Error ? error.message : '';
  const message = `${action}: ${status ?? 'no response'}${reason ? ` ${reason}` : ''}`;
  const permanent =
    status !== undefined && status >= 400 && status < 500 && ![408, 409, 429].includes(status);
  return permanent
    ? new PermanentError(code, message, { cause: error })
    : new TransientError(code, message, { cause: error });
}
