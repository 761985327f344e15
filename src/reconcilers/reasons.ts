/**
 * From an error to the stable CamelCase reason a condition carries (DESIGN.md: reasons
 * name the cause). Messages come from our own errors, which never carry key material.
 */
import { isControllerError } from '../errors.ts';
import { isKubeApiError } from '../kube/rest.ts';

export interface Reason {
  readonly reason: string;
  readonly message: string;
}

const BY_CODE: Readonly<Record<string, string>> = {
  BADSIG: 'TsigBadSig',
  BADKEY: 'TsigBadKey',
  BADTIME: 'TsigBadTime',
  BADMAC: 'TsigBadSig',
  UNSIGNED: 'TsigBadSig',
  // A bare NOTAUTH (no TSIG error: those arrive as BADKEY/BADSIG above) means named is not
  // authoritative for the zone: it lost it (empty disk) or has not loaded it yet.
  NOTAUTH: 'ZoneNotServed',
  RNDC_AUTH: 'RndcBadKey',
  RNDC_REPLY_AUTH: 'RndcBadKey',
  // The rndc endpoint answers, but is not named's control channel (a wrong port).
  RNDC_SPEAKS_TLS: 'NotRndcServer',
  RNDC_SPEAKS_HTTP: 'NotRndcServer',
  RNDC_NOT_RNDC: 'NotRndcServer',
  // A secondary that does not serve its primaries' serial yet (zone.ts): retried with backoff.
  TransferPending: 'TransferPending',
  // The base file is delivered but named cannot open it yet (a ConfigMap not yet refreshed).
  BASE_FILE_NOT_DELIVERED: 'BaseFileNotDelivered',
  // Base files may not go there (directory roots, a file or ConfigMap not ours).
  DELIVERY_REFUSED: 'DeliveryRefused',
  SecretNotFound: 'SecretNotFound',
  InvalidKey: 'InvalidKey',
  INVALID: 'InvalidSpec',
  REFUSED: 'Refused',
  // One RRset the server cannot take (executor.ts): nothing else of the zone waits for it.
  TOO_LARGE: 'TooLarge',
  RRSET_SERVFAIL: 'ServerFailure',
  // The server would not let the key do this at all (a policy, or a key it did not accept):
  // never one RRset's fault (errors.ts KeyRefusedError).
  KEY_REFUSED: 'KeyRefused',
  NOTZONE: 'InvalidSpec',
  FORMERR: 'Refused',
};

/**
 * The reason for an error. The API server's own failures (it is down, overloaded, or
 * refuses our request: RBAC, validation) say so, so an operator looks at the control plane
 * and not at BIND9; any other transient failure is InstanceUnreachable.
 */
export function reasonFor(error: unknown): Reason {
  const message = error instanceof Error ? error.message : String(error);
  if (isKubeApiError(error)) {
    const reason = error.disposition === 'transient' ? 'ApiServerUnavailable' : 'ApiServerRefused';
    return { reason, message };
  }
  if (!isControllerError(error)) return { reason: 'InstanceUnreachable', message };
  const mapped = BY_CODE[error.code];
  if (mapped !== undefined) return { reason: mapped, message };
  if (error.disposition === 'transient') return { reason: 'InstanceUnreachable', message };
  return { reason: 'Error', message };
}

/**
 * Errors that a later reconcile can repair by itself although the server's answer was
 * final for that one request: a zone named does not serve (NOTAUTH) is re-added by the
 * next ensureZone, so it is retried with backoff instead of waiting for a spec change.
 */
export function isRepairable(error: unknown): boolean {
  return isControllerError(error) && error.code === 'NOTAUTH';
}

/** Whether the error says a key was rejected, so the cached Secret should be re-read. */
export function isKeyRejection(error: unknown): boolean {
  const reason = reasonFor(error).reason;
  return (
    reason.startsWith('Tsig') ||
    reason === 'KeyRefused' ||
    reason === 'RndcBadKey' ||
    reason === 'InvalidKey'
  );
}
