/**
 * What a reconcile tells the loop to do next (STYLE.md habit 7: retries, backoff and
 * timers live in src/controller; a reconciler only says which of these it is).
 */
export type Outcome =
  /** In sync. The key is looked at again on the next periodic resync. */
  | { readonly result: 'ok' }
  /** The object no longer exists: forget the key (no resync). */
  | { readonly result: 'gone' }
  /** Not done yet for a known reason (waiting for something); look again after `afterMs`. */
  | { readonly result: 'requeue'; readonly afterMs: number; readonly reason: string }
  /** Failed in a way that may pass: retry with exponential backoff. */
  | { readonly result: 'transient'; readonly error: unknown }
  /** Failed in a way that will not pass by itself: status says why; resync only. */
  | { readonly result: 'permanent'; readonly error: unknown };

export const OK: Outcome = { result: 'ok' };
export const GONE: Outcome = { result: 'gone' };

/** The worst of several outcomes: transient beats requeue beats permanent beats ok. */
export function worstOutcome(outcomes: readonly Outcome[]): Outcome {
  const rank = { gone: 0, ok: 1, permanent: 2, requeue: 3, transient: 4 } as const;
  let worst: Outcome = OK;
  for (const o of outcomes) {
    if (rank[o.result] > rank[worst.result]) worst = o;
    else if (o.result === 'requeue' && worst.result === 'requeue' && o.afterMs < worst.afterMs) {
      worst = o;
    }
  }
  return worst;
}
