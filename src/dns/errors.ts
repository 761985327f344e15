/**
 * Errors typed by what the caller does with them (STYLE.md habit 8):
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
  constructor(message: string, options: ControllerErrorOptions = {}) {
    super('DECODE', message, options);
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
