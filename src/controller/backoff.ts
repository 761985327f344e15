/**
 * Exponential backoff with jitter for transient errors (DESIGN.md: 1 s up to 5 min), and
 * the jittered resync period. Randomness is injected so tests see exact values.
 */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Fraction of the delay that is randomised, 0..1. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 300_000, jitter: 0.2 };

/**
 * Delay before retry number `failures` (1 = first failure): base·2^(failures-1), capped,
 * then scaled by a factor in [1 - jitter, 1]. Jitter only shortens, so the cap holds.
 */
export function backoffDelay(
  failures: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  const raw = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  return Math.round(raw * (1 - options.jitter * random()));
}

/** A period spread over [period·(1 - spread), period·(1 + spread)) so zones do not resync in step. */
export function jittered(periodMs: number, spread = 0.1, random: () => number = Math.random) {
  return Math.round(periodMs * (1 - spread + 2 * spread * random()));
}
