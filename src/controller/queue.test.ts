import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../kube/clock.ts';
import type { Outcome } from '../reconcilers/outcome.ts';
import { WorkQueue } from './queue.ts';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function recorder(outcome: (key: string, n: number) => Outcome = () => ({ result: 'ok' })) {
  const runs: string[] = [];
  const handler = async (key: string) => {
    runs.push(key);
    return outcome(key, runs.filter((k) => k === key).length);
  };
  return { runs, handler };
}

describe('WorkQueue', () => {
  it('runs a key added many times while waiting only once', async () => {
    const clock = new ManualClock();
    const { runs, handler } = recorder();
    const gate = deferred<void>();
    const q = new WorkQueue({
      clock,
      concurrency: 1,
      resyncMs: 60_000,
      handler: async (key) => {
        if (key === 'busy') await gate.promise;
        return handler(key);
      },
    });
    q.add('busy');
    for (let i = 0; i < 5; i++) q.add('zone/a');
    q.add('zone/b');
    assert.equal(q.depth, 2);
    gate.resolve();
    await q.onIdle();
    assert.deepEqual(runs, ['busy', 'zone/a', 'zone/b']);
    await q.shutdown();
  });

  it('never runs one key twice at once and runs it again when added during a run', async () => {
    const clock = new ManualClock();
    let active = 0;
    let maxActive = 0;
    const gates: ReturnType<typeof deferred<Outcome>>[] = [];
    const q = new WorkQueue({
      clock,
      concurrency: 4,
      resyncMs: 60_000,
      handler: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        const g = deferred<Outcome>();
        gates.push(g);
        const out = await g.promise;
        active--;
        return out;
      },
    });
    q.add('k');
    await tick();
    q.add('k');
    q.add('k');
    await tick();
    assert.equal(gates.length, 1);
    gates[0]!.resolve({ result: 'ok' });
    await tick();
    await tick();
    assert.equal(gates.length, 2);
    gates[1]!.resolve({ result: 'ok' });
    await q.onIdle();
    assert.equal(maxActive, 1);
    assert.equal(gates.length, 2);
    await q.shutdown();
  });

  it('bounds the number of keys running at once', async () => {
    const clock = new ManualClock();
    let active = 0;
    let maxActive = 0;
    const q = new WorkQueue({
      clock,
      concurrency: 3,
      resyncMs: 60_000,
      handler: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await tick();
        active--;
        return { result: 'ok' };
      },
    });
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await q.onIdle();
    assert.equal(maxActive, 3);
    await q.shutdown();
  });

  it('retries transient failures with growing delays and resets after a success', async () => {
    const clock = new ManualClock();
    const { runs, handler } = recorder((_k, n) =>
      n <= 3 ? { result: 'transient', error: new Error('x') } : { result: 'ok' },
    );
    const q = new WorkQueue({ handler, clock, concurrency: 1, resyncMs: 600_000, random: () => 0 });
    q.add('k');
    await q.onIdle();
    assert.equal(runs.length, 1);
    clock.advance(999);
    await q.onIdle();
    assert.equal(runs.length, 1, 'first retry waits a full second');
    clock.advance(1);
    await q.onIdle();
    assert.equal(runs.length, 2);
    clock.advance(1999);
    await q.onIdle();
    assert.equal(runs.length, 2, 'second retry waits two seconds');
    clock.advance(1);
    await q.onIdle();
    assert.equal(runs.length, 3);
    clock.advance(4000);
    await q.onIdle();
    assert.equal(runs.length, 4);
    // Success: next run only at the resync period (random 0 → 0.9 of it).
    clock.advance(539_999);
    await q.onIdle();
    assert.equal(runs.length, 4);
    clock.advance(1);
    await q.onIdle();
    assert.equal(runs.length, 5);
    await q.shutdown();
  });

  it('caps the backoff at five minutes', async () => {
    const clock = new ManualClock();
    const { runs, handler } = recorder(() => ({ result: 'transient', error: new Error('x') }));
    const q = new WorkQueue({ handler, clock, concurrency: 1, resyncMs: 1e9, random: () => 0 });
    q.add('k');
    await q.onIdle();
    for (let i = 0; i < 12; i++) {
      clock.advance(300_000);
      await q.onIdle();
    }
    assert.equal(runs.length, 13);
    await q.shutdown();
  });

  it('forgets a key whose object is gone and does not resync it', async () => {
    const clock = new ManualClock();
    const { runs, handler } = recorder(() => ({ result: 'gone' }));
    const q = new WorkQueue({ handler, clock, concurrency: 1, resyncMs: 1000 });
    q.add('k');
    await q.onIdle();
    assert.equal(clock.pending, 0);
    clock.advance(10_000);
    await q.onIdle();
    assert.equal(runs.length, 1);
    await q.shutdown();
  });

  it('runs a fast-lane key before keys already waiting', async () => {
    const clock = new ManualClock();
    const { runs, handler } = recorder();
    const gate = deferred<void>();
    const q = new WorkQueue({
      clock,
      concurrency: 1,
      resyncMs: 60_000,
      handler: async (key) => {
        if (key === 'first') await gate.promise;
        return handler(key);
      },
    });
    q.add('first');
    q.add('slow1');
    q.add('slow2');
    q.add('urgent', { fast: true });
    gate.resolve();
    await q.onIdle();
    assert.deepEqual(runs, ['first', 'urgent', 'slow1', 'slow2']);
    await q.shutdown();
  });

  it('requeues after the delay a reconciler asks for', async () => {
    const clock = new ManualClock();
    const { runs, handler } = recorder((_k, n) =>
      n === 1 ? { result: 'requeue', afterMs: 5000, reason: 'waiting' } : { result: 'gone' },
    );
    const q = new WorkQueue({ handler, clock, concurrency: 1, resyncMs: 1e9 });
    q.add('k');
    await q.onIdle();
    clock.advance(4999);
    await q.onIdle();
    assert.equal(runs.length, 1);
    clock.advance(1);
    await q.onIdle();
    assert.equal(runs.length, 2);
    await q.shutdown();
  });

  it('after shutdown takes no more work', async () => {
    const clock = new ManualClock();
    const { runs, handler } = recorder();
    const q = new WorkQueue({ handler, clock, concurrency: 1, resyncMs: 1000 });
    await q.shutdown();
    q.add('k');
    clock.advance(5000);
    await q.onIdle();
    assert.equal(runs.length, 0);
  });
  it('says why each run started: event, resync, or event when an event merges with a waiting resync', async () => {
    const clock = new ManualClock();
    const causes: string[] = [];
    let fail = false;
    const q = new WorkQueue({
      clock,
      concurrency: 1,
      resyncMs: 1_000,
      random: () => 0.5,
      handler: async () => (fail ? { result: 'transient', error: 'down' } : { result: 'ok' }),
      onDone: (_key, _outcome, _ms, cause) => void causes.push(cause),
    });
    q.add('zone/a');
    await q.onIdle();
    clock.advance(1_100);
    await tick();
    await q.onIdle();
    fail = true;
    clock.advance(1_100);
    await tick();
    await q.onIdle();
    fail = false;
    clock.advance(5 * 60_000);
    await tick();
    await q.onIdle();
    assert.deepEqual(causes, ['event', 'resync', 'resync', 'retry']);
    q.add('zone/a');
    await q.onIdle();
    assert.equal(causes.at(-1), 'event');
    await q.shutdown();
  });

  it('runs every key waiting out a backoff at once on retryFailedNow, and leaves resyncs alone', async () => {
    const clock = new ManualClock();
    let apiDown = true;
    const { runs, handler } = recorder((key) =>
      key.startsWith('fail') && apiDown
        ? { result: 'transient', error: new Error('API server unreachable') }
        : { result: 'ok' },
    );
    const q = new WorkQueue({ clock, concurrency: 2, resyncMs: 300_000, handler });
    for (const key of ['fail/a', 'fail/b', 'fine']) q.add(key);
    await q.onIdle();
    // Fail a few more times so the backoff grows past a few seconds.
    for (let i = 0; i < 4; i++) {
      clock.advance(60_000);
      await tick();
      await q.onIdle();
    }
    const before = runs.length;
    apiDown = false;
    assert.equal(q.retryFailedNow(), 2, 'both failed keys, not the one waiting for its resync');
    await q.onIdle();
    assert.deepEqual(runs.slice(before).sort(), ['fail/a', 'fail/b']);
    assert.equal(q.retryFailedNow(), 0, 'nothing is left waiting on a backoff');
    await q.shutdown();
  });
});
