/**
 * The statuses this process wrote that the informer cache does not show yet, so that a
 * status is written once per change and never twice (issue #16).
 *
 * A reconcile compares the status it computes with the one the object has, and writes only
 * when they differ. The object comes from the informer cache, which learns of a write of
 * ours only when its watch event arrives, some milliseconds later. In a burst the next
 * round of a zone starts before that (the creates that woke it arrived meanwhile): it saw
 * the record as before the write, and wrote the same status again. That was 2–3% of the
 * status writes of a 1,000-record burst (27 of 1,027), and up to 20% with many zones.
 *
 * So every status write of ours is remembered with the resourceVersion the API server gave
 * the object, and stands for the object's status until the cache shows that version: the
 * watch delivers every version in order, so until then the cache holds an older one (the
 * create, or our finalizer write just before). The memory is dropped when the event
 * arrives, or when the cached object already is at that version. A watch that expired
 * (410) and relisted may skip our version: a memory older than `maxAgeMs` is no longer
 * trusted, and the cache is read again.
 *
 * It is asked with the object as the cache holds it *now* (context.ts `currentStatus`),
 * not with the copy a reconcile read at its start: the memory of a write is gone once the
 * cache shows it, and that copy may predate both.
 */
import type { KubeObject } from '../kube/client.ts';

interface Entry {
  /** The object's status right after our write (the merge of what it was and our patch). */
  readonly status: unknown;
  readonly resourceVersion: string;
  readonly at: number;
}

/** JSON merge patch (RFC 7386) of `patch` onto `target`, as the API server applies it. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const base =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? (target as Record<string, unknown>)
      : {};
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (value !== undefined) out[key] = mergePatch(base[key], value);
  }
  return out;
}

export class StatusMemory {
  /** By uid, oldest write first (re-inserted on every write, so expiry can stop early). */
  readonly #byUid = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #maxAgeMs: number;

  constructor(now: () => number, maxAgeMs = 30_000) {
    this.#now = now;
    this.#maxAgeMs = maxAgeMs;
  }

  /** The status `obj` has on the API server as far as this process knows. */
  statusOf(obj: KubeObject): unknown {
    const uid = obj.metadata.uid;
    const entry = uid === undefined ? undefined : this.#byUid.get(uid);
    if (entry === undefined) return obj.status;
    const caughtUp = entry.resourceVersion === obj.metadata.resourceVersion;
    if (caughtUp || this.#now() - entry.at > this.#maxAgeMs) {
      this.#byUid.delete(uid as string);
      return obj.status;
    }
    return entry.status;
  }

  /** A status patch of ours succeeded: `obj` now holds `status`, at `resourceVersion`. */
  wrote(obj: KubeObject, status: unknown, resourceVersion: string): void {
    const uid = obj.metadata.uid;
    if (uid === undefined) return;
    this.#expire();
    this.#byUid.delete(uid);
    this.#byUid.set(uid, { status, resourceVersion, at: this.#now() });
  }

  /** The cache now holds `obj` (a watch event): a memory its version confirms is dropped. */
  observed(obj: KubeObject, deleted = false): void {
    const uid = obj.metadata.uid;
    if (uid === undefined) return;
    const entry = this.#byUid.get(uid);
    if (entry !== undefined && (deleted || entry.resourceVersion === obj.metadata.resourceVersion))
      this.#byUid.delete(uid);
  }

  /** Objects whose last write the cache does not show yet (tests, metrics). */
  get size(): number {
    return this.#byUid.size;
  }

  #expire(): void {
    const now = this.#now();
    for (const [uid, entry] of this.#byUid) {
      if (now - entry.at <= this.#maxAgeMs) return;
      this.#byUid.delete(uid);
    }
  }
}
