/**
 * One health state per instance (issue #18: one dead server must not hold up the others).
 *
 * The controller's health poll probes every instance on its own schedule, outside the work
 * queue; the zone reconcile reads the result here instead of finding out for itself:
 *
 * - `unknown` (the first probe has not answered yet): the zone waits in the queue, without
 *   writing anything, instead of dialling a server that may never answer while it holds a
 *   worker; the probe's answer wakes it;
 * - `down` (the server did not answer: timeout, refused, reset): the zone fails at once with
 *   the probe's own error, so its status says what the probe saw, and no worker waits for a
 *   timeout; the probe that finds it back wakes its zones through the fast lane;
 * - `up`: the zone talks to it. One that then fails to answer is marked down at once, so
 *   every other zone of that server fails fast from then on.
 *
 * A server that answers with an error (a bad key, a refusal) is reachable: it is dialled as
 * usual, and its zones show that error.
 */
import { objectId } from '../api/ids.ts';
import type { Bind9Instance } from '../api/kinds.ts';
import { isControllerError } from '../errors.ts';

export type HealthState =
  | { readonly state: 'up' }
  | { readonly state: 'unknown' }
  | { readonly state: 'down'; readonly error: unknown };

/** The seam the controller fills in (src/controller: the health poll). */
export interface InstanceHealth {
  state(instanceId: string): HealthState;
  /** A reconcile could not reach the instance: everyone fails fast until a probe answers. */
  markDown(instanceId: string, error: unknown): void;
}

/** Transport failures: the server did not answer at all (not an answer that was an error). */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'TIMEOUT',
  'RNDC_UNREACHABLE',
  'RNDC_CLOSED',
  'CONNECTION_CLOSED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'EPIPE',
]);

export function isUnreachable(error: unknown): boolean {
  return (
    isControllerError(error) &&
    error.disposition === 'transient' &&
    UNREACHABLE_CODES.has(error.code)
  );
}

/** What a caller with the health seam knows of an instance; `up` without one. */
export function healthOf(health: InstanceHealth | undefined, instance: Bind9Instance): HealthState {
  return health?.state(objectId(instance.metadata)) ?? { state: 'up' };
}

/** The error to fail with at once, when the instance is known not to answer. */
export function failFast(health: InstanceHealth | undefined, instance: Bind9Instance): unknown {
  const h = healthOf(health, instance);
  return h.state === 'down' ? h.error : undefined;
}

/** Notes an instance that did not answer a reconcile, so the others fail fast. */
export function noteFailure(
  health: InstanceHealth | undefined,
  instance: Bind9Instance,
  error: unknown,
): void {
  if (isUnreachable(error)) health?.markDown(objectId(instance.metadata), error);
}

/** The instances whose first health probe has not answered yet. */
export function awaitingProbe(
  health: InstanceHealth | undefined,
  instances: readonly Bind9Instance[],
): Bind9Instance[] {
  return instances.filter((i) => healthOf(health, i).state === 'unknown');
}
