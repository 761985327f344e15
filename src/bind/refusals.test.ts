import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretKey } from '../dns/keyfile.ts';
import { KeyRefusedError, PermanentError } from '../errors.ts';
import { KeyRefusals } from './refusals.ts';
import type { InstanceTarget } from './target.ts';

const key = (byte: number) => new SecretKey('k', 'hmac-sha256', Buffer.alloc(32, byte));
const target = (tsigKey: SecretKey): InstanceTarget => ({
  id: 'ns/knot',
  role: 'primary',
  dns: { address: '127.0.0.1', port: 53 },
  tsigKey,
  recordsOnly: true,
});
const refused = new KeyRefusedError('update', 'may not update');

describe('KeyRefusals', () => {
  it('answers a fresh refusal from memory, for that key and zone only', () => {
    let now = 0;
    const refusals = new KeyRefusals({ now: () => now, maxAgeMs: 1000 });
    refusals.note(target(key(1)), 'example.test', refused);
    assert.throws(
      () => refusals.check(target(key(1)), 'Example.Test'),
      (e) => e === refused,
    );
    // Another secret is another key; another zone is another policy.
    refusals.check(target(key(2)), 'example.test');
    refusals.check(target(key(1)), 'other.test');
    now = 1000;
    refusals.check(target(key(1)), 'example.test');
  });

  it('forgets a refusal once the zone took an UPDATE or failed otherwise', () => {
    const refusals = new KeyRefusals({ now: () => 0, maxAgeMs: 1000 });
    for (const outcome of [undefined, new PermanentError('REFUSED', 'one RRset')]) {
      refusals.note(target(key(1)), 'example.test', refused);
      refusals.note(target(key(1)), 'example.test', outcome);
      refusals.check(target(key(1)), 'example.test');
    }
  });

  it('remembers only refusals of updates, not of transfers or queries', () => {
    const refusals = new KeyRefusals({ now: () => 0, maxAgeMs: 1000 });
    refusals.note(target(key(1)), 'example.test', new KeyRefusedError('transfer', 'no'));
    refusals.check(target(key(1)), 'example.test');
  });
});
