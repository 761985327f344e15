/**
 * Keys from Secrets, read with `get` only (the RBAC we ship grants no list/watch on
 * Secrets) and cached; a key that a server rejected is dropped so the next use re-reads it.
 *
 * A key Secret holds either `keyfile` (the text `tsig-keygen` prints; with several keys in
 * it, `keyName` — in the Secret or in the reference — says which) or the three fields
 * `name`, `algorithm`, `secret`.
 */

import { makeKey, parseKey, type SecretKey } from '../dns/keyfile.ts';
import { PermanentError, ValidationError } from '../errors.ts';
import type { Kube } from './client.ts';
import type { Clock } from './clock.ts';

/** Which key: a Secret in the namespace, and the key's name when its keyfile holds several. */
export interface KeyRef {
  readonly name: string;
  readonly keyName?: string;
}

export interface KeySource {
  key(namespace: string, ref: KeyRef): Promise<SecretKey>;
  /** Forget the cached keys of a Secret (one was rejected, or the Secret changed). */
  invalidate(namespace: string, name: string): void;
}

/**
 * Reads one key out of a Secret's decoded data. Messages name the Secret and the field,
 * never a value (keyfile.ts says why); the parser's error is not kept as the cause, so a
 * logger that prints causes has nothing of the Secret to print either.
 */
export function keyFromSecretData(
  data: Readonly<Record<string, string>>,
  where: string,
  keyName?: string,
): SecretKey {
  try {
    // The reference's keyName wins over one the Secret carries itself.
    if (data.keyfile !== undefined) return parseKey(data.keyfile, keyName ?? data.keyName);
    if (data.name !== undefined && data.algorithm !== undefined && data.secret !== undefined) {
      return makeKey(data.name, data.algorithm, data.secret);
    }
  } catch (error) {
    throw new PermanentError('InvalidKey', `Secret ${where}: ${fieldProblem(data, error)}`);
  }
  throw new PermanentError(
    'InvalidKey',
    `Secret ${where} has neither "keyfile" nor "name", "algorithm" and "secret"`,
  );
}

/** `field "algorithm": not a known algorithm (...)`, from the parser's ValidationError. */
function fieldProblem(data: Readonly<Record<string, string>>, error: unknown): string {
  if (!(error instanceof ValidationError)) return 'the key could not be read';
  const inFile = data.keyfile !== undefined && !['keyfile', 'keyName'].includes(error.field);
  const field = inFile ? `keyfile (its ${error.field})` : error.field;
  return `field ${field}: ${error.message}`;
}

export class SecretKeyCache implements KeySource {
  readonly #kube: Kube;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  readonly #cache = new Map<string, { key: SecretKey; at: number }>();

  /** `maxAgeMs`: a rotated Secret is picked up at the latest after this long. */
  constructor(kube: Kube, clock: Clock, maxAgeMs = 60_000) {
    this.#kube = kube;
    this.#clock = clock;
    this.#maxAgeMs = maxAgeMs;
  }

  async key(namespace: string, ref: KeyRef): Promise<SecretKey> {
    const secret = `${namespace}/${ref.name}`;
    const id = `${secret}\u0000${ref.keyName ?? ''}`;
    const cached = this.#cache.get(id);
    if (cached !== undefined && this.#clock.now() - cached.at < this.#maxAgeMs) return cached.key;
    const data = await this.#kube.readSecret(namespace, ref.name);
    if (data === undefined)
      throw new PermanentError('SecretNotFound', `Secret ${secret} not found`);
    const key = keyFromSecretData(data, secret, ref.keyName);
    this.#cache.set(id, { key, at: this.#clock.now() });
    return key;
  }

  invalidate(namespace: string, name: string): void {
    const prefix = `${namespace}/${name}\u0000`;
    for (const id of this.#cache.keys()) if (id.startsWith(prefix)) this.#cache.delete(id);
  }
}
