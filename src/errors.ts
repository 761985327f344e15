/**
 * The shared error vocabulary of every layer (src/dns, src/bind, src/kube, src/controller,
 * src/cli), typed by what the caller does with them (STYLE.md habit 8):
 *
 * - `transient`: back off and retry (timeouts, refused connections, SERVFAIL).
 * - `permanent`: surface as a condition and an Event; do not retry until the spec or the
 *   key changes (REFUSED, NOTAUTH/BADKEY, FORMERR, NOTZONE, invalid input).
 * - `prerequisite`: the server's data is not what we believed (RFC 2136 §2.4 failures):
 *   re-read the observed state and plan again.
 *
 * Every error carries a stable `code` (an rcode name such as `REFUSED`, a TSIG error such
 * as `BADSIG`, or one of ours such as `TIMEOUT`) and keeps its `cause`.
 */
export type ErrorDisposition = 'transient' | 'permanent' | 'prerequisite';

export interface ControllerErrorOptions {
  readonly cause?: unknown;
  /** Extra, non-secret context for logs and conditions. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export abstract class ControllerError extends Error {
  abstract readonly disposition: ErrorDisposition;
  readonly code: string;
  readonly detail: Readonly<Record<string, string | number | boolean>>;

  constructor(code: string, message: string, options: ControllerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail ?? {};
  }
}

/** Retry later with backoff: the same request may well succeed. */
export class TransientError extends ControllerError {
  override readonly name: string = 'TransientError';
  readonly disposition = 'transient' as const;
}

/** Retrying the same request will fail the same way. */
export class PermanentError extends ControllerError {
  override readonly name: string = 'PermanentError';
  readonly disposition = 'permanent' as const;
}

/** An RFC 2136 prerequisite failed: someone else changed the data; re-read and re-plan. */
export class PrerequisiteError extends ControllerError {
  override readonly name: string = 'PrerequisiteError';
  readonly disposition = 'prerequisite' as const;
}

/** Bytes from the network (or a file) that do not parse. Never anything else is thrown by decoders. */
export class DecodeError extends PermanentError {
  override readonly name: string = 'DecodeError';
  /** `code` defaults to `DECODE`; a subclass names what the bytes turned out to be. */
  constructor(message: string, options: ControllerErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'DECODE', message, options);
  }
}

/** A value that must not be sent (bad name, injection attempt, out-of-range number). */
export class ValidationError extends PermanentError {
  override readonly name: string = 'ValidationError';
  /** The offending field, in the caller's vocabulary (e.g. `spec.zoneName`). */
  readonly field: string;
  constructor(field: string, message: string, options: ControllerErrorOptions = {}) {
    super('INVALID', message, options);
    this.field = field;
  }
}

export function isControllerError(error: unknown): error is ControllerError {
  return error instanceof ControllerError;
}

/** What a caller should do with any thrown value: unknown errors count as transient. */
export function dispositionOf(error: unknown): ErrorDisposition {
  return isControllerError(error) ? error.disposition : 'transient';
}

/**
 * TSIG (RFC 8945) failures. `origin` says who found the fault: `server` when named
 * answered NOTAUTH with a TSIG error (§5.2), `client` when we rejected its reply (§5.3).
 * Each failure has its own class and `code`, because each asks for a different fix:
 * BADKEY a key name/algorithm the server does not know, BADSIG a wrong secret, BADTIME
 * a clock skewed past the fudge, BADMAC/UNSIGNED a reply we must not trust.
 */
export type TsigOrigin = 'server' | 'client';

export class TsigError extends PermanentError {
  override readonly name: string = 'TsigError';
  readonly origin: TsigOrigin;
  constructor(
    code: string,
    message: string,
    origin: TsigOrigin,
    options: ControllerErrorOptions = {},
  ) {
    super(code, message, options);
    this.origin = origin;
  }
}

/** The MAC did not verify with the key (server: our secret is wrong). */
export class TsigBadSigError extends TsigError {
  override readonly name: string = 'TsigBadSigError';
  constructor(message: string, origin: TsigOrigin, options: ControllerErrorOptions = {}) {
    super('BADSIG', message, origin, options);
  }
}

/** The key name or algorithm is unknown to the server. */
export class TsigBadKeyError extends TsigError {
  override readonly name: string = 'TsigBadKeyError';
  constructor(message: string, origin: TsigOrigin, options: ControllerErrorOptions = {}) {
    super('BADKEY', message, origin, options);
  }
}

/** Time signed is outside now ± fudge; `serverTime` (seconds) is the other side's clock when known. */
export class TsigBadTimeError extends TsigError {
  override readonly name: string = 'TsigBadTimeError';
  readonly serverTime: number | undefined;
  constructor(
    message: string,
    origin: TsigOrigin,
    serverTime: number | undefined,
    options: ControllerErrorOptions = {},
  ) {
    super('BADTIME', message, origin, options);
    this.serverTime = serverTime;
  }
}

/** A truncated MAC shorter than RFC 8945 §5.2.2.1 allows. */
export class TsigBadTruncError extends TsigError {
  override readonly name: string = 'TsigBadTruncError';
  constructor(message: string, origin: TsigOrigin, options: ControllerErrorOptions = {}) {
    super('BADTRUNC', message, origin, options);
  }
}

/** We signed the request but the reply carries no TSIG (RFC 8945 §5.3.1: discard it). */
export class TsigUnsignedReplyError extends TsigError {
  override readonly name: string = 'TsigUnsignedReplyError';
  constructor(message: string, options: ControllerErrorOptions = {}) {
    super('UNSIGNED', message, 'client', options);
  }
}

/** The reply's MAC is not the one our key gives (tampered, or signed by another key). */
export class TsigBadMacError extends TsigError {
  override readonly name: string = 'TsigBadMacError';
  constructor(message: string, options: ControllerErrorOptions = {}) {
    super('BADMAC', message, 'client', options);
  }
}

/** What a request asked the server to let our key do. */
export type KeyOperation = 'update' | 'transfer' | 'query';

/**
 * The server would not do this request with our key, and its answer proves no more than
 * that: it does not know the key, the secret differs, or its policy does not let the key do
 * this (RFC 2136 §3.3 leaves that policy to the server). Seen as an unsigned REFUSED to a
 * signed UPDATE or an unsigned NOTAUTH to a signed query (a server signs every answer to a
 * request whose key it accepted, RFC 8945 §5.3; PowerDNS answers unknown keys and wrong
 * secrets so), as a BADKEY for a key the same server accepted before (Knot DNS answers an
 * ACL denial so), and as a refused UPDATE that changes nothing (the executor's probe: BIND9
 * and PowerDNS sign their policy refusals). Never about one RRset: nothing is bisected.
 */
export class KeyRefusedError extends PermanentError {
  override readonly name: string = 'KeyRefusedError';
  readonly operation: KeyOperation;
  constructor(operation: KeyOperation, message: string, options: ControllerErrorOptions = {}) {
    super('KEY_REFUSED', message, options);
    this.operation = operation;
  }
}

/**
 * One RRset that the server cannot take, whatever else the message holds: too big for any
 * DNS message (RFC 1035 §4.2.2: 65,535 bytes over TCP), or failed by the server alone while
 * it accepts everything else (BIND9 answers SERVFAIL for more records than its
 * max-records-per-type, 100 by default). The executor reports it for that RRset only and
 * applies the rest of the plan; retrying the same data fails the same way.
 */
export class RRsetRejectedError extends PermanentError {
  override readonly name: string = 'RRsetRejectedError';
}
