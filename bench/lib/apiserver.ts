/**
 * What the controller asked of the API server during a scenario, from what the API server
 * counted (test/harness/apiserver-metrics.ts): the change of the counts, and the part of
 * it that was the controller's.
 */
/** after − before: the total, and `VERB resource: n` text for the keys that changed. */
export function countsDelta(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): { total: number; text: string; counts: Map<string, number> } {
  const deltas = [...after]
    .map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    total: deltas.reduce((sum, [, d]) => sum + d, 0),
    text: deltas.map(([k, d]) => `${k}: ${d}`).join(', '),
    counts: new Map(deltas),
  };
}

/** Verbs that are no per-change cost: one watch carries every event, a list fills a cache. */
const STREAMING = new Set(['WATCH', 'LIST']);

/**
 * The requests the controller made, from what the API server counted during a scenario:
 * `counted` (countsDelta's) less the scenario's own requests (`own`, e.g. its creates) and
 * less watches and lists (the scenario watches too; neither grows with the records).
 */
export function controllerRequests(
  counted: ReadonlyMap<string, number>,
  own: ReadonlyMap<string, number>,
): { total: number; text: string } {
  const left = new Map<string, number>();
  for (const [key, n] of counted) {
    if (STREAMING.has(key.split(' ')[0] ?? '')) continue;
    const rest = n - (own.get(key) ?? 0);
    if (rest > 0) left.set(key, rest);
  }
  return countsDelta(new Map(), left);
}
