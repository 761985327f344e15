/**
 * Key refusals remembered per instance, zone and key: once a server said the key may not
 * update a zone (KeyRefusedError), every reconcile of that zone would send its two UPDATEs
 * again — and a new zone's first minutes bring many reconciles (finalizers, status writes,
 * records arriving). A remembered refusal answers for the server until the key changes
 * (another secret is another key) or `maxAgeMs` has passed (the resync period: a server
 * whose policy was fixed is found by the next resync, as any permanent error is).
 */
import { createHash } from 'node:crypto';
import type { SecretKey } from '../dns/keyfile.ts';
import { KeyRefusedError } from '../errors.ts';
import type { InstanceTarget } from './target.ts';

export interface KeyRefusalsOptions {
  readonly now: () => number;
  readonly maxAgeMs: number;
}

export class KeyRefusals {
  readonly #o: KeyRefusalsOptions;
  readonly #refused = new Map<string, { readonly error: KeyRefusedError; readonly at: number }>();

  constructor(options: KeyRefusalsOptions) {
    this.#o = options;
  }

  /** Throws the remembered refusal, if there is a fresh one for this key and zone. */
  check(target: InstanceTarget, zone: string): void {
    const key = memoKey(target, zone);
    const refused = this.#refused.get(key);
    if (refused === undefined) return;
    if (this.#o.now() - refused.at < this.#o.maxAgeMs) throw refused.error;
    this.#refused.delete(key);
  }

  /** Remembers a refusal of updates; anything else (and success: `error` undefined) forgets. */
  note(target: InstanceTarget, zone: string, error: unknown): void {
    const key = memoKey(target, zone);
    if (error instanceof KeyRefusedError && error.operation === 'update') {
      this.#refused.set(key, { error, at: this.#o.now() });
    } else {
      this.#refused.delete(key);
    }
  }
}

/** The key's identity without its secret in the clear: a digest that never leaves memory. */
function keyIdentity(key: SecretKey): string {
  return createHash('sha256')
    .update(`${key.name}\u0000${key.algorithm}\u0000`)
    .update(key.secret)
    .digest('hex');
}

function memoKey(target: InstanceTarget, zone: string): string {
  return `${target.id} ${zone.toLowerCase()} ${keyIdentity(target.tsigKey)}`;
}
