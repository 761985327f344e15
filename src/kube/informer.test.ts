import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { KubeObject } from './client.ts';
import { ManualClock } from './clock.ts';
import {
  type ChangeType,
  ResilientInformer,
  UNREACHABLE_BACKOFF_MS,
  watchBackoff,
} from './informer.ts';
import { KubePermanentError, KubeTransientError } from './rest.ts';
import type { WatchEvent, WatchOptions } from './watch.ts';

type Obj = KubeObject<{ v: number }>;

const unreachable = () => new KubeTransientError('KUBE_UNREACHABLE', 'no response (ECONNREFUSED)');
const unavailable = () => new KubeTransientError('HTTP_503', 'HTTP 503', { status: 503 });
const gone = () => new KubePermanentError('HTTP_410', 'HTTP 410 Expired', { status: 410 });

function obj(name: string, rv: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Thing',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: rv },
    spec: { v: 1 },
  };
}

/** One scripted watch: it opens (or fails before opening), yields, then fails or stays open. */
interface WatchStep {
  readonly fail?: () => Error;
  readonly opens?: boolean;
  readonly events?: readonly WatchEvent<Obj>[];
}

/**
 * A list/watch source played from a script, recording the clock time of every call. When
 * the watch script runs out, the watch stays open (no events) until the informer stops.
 */
class Script {
  readonly calls: { what: 'list' | 'watch'; at: number }[] = [];
  readonly lists: Obj[][];
  readonly watches: WatchStep[];
  readonly #clock: ManualClock;

  constructor(clock: ManualClock, lists: Obj[][], watches: WatchStep[]) {
    this.#clock = clock;
    this.lists = lists;
    this.watches = watches;
  }

  async list<T>(): Promise<{ items: T[]; metadata: { resourceVersion: string } }> {
    this.calls.push({ what: 'list', at: this.#clock.now() });
    const items = this.lists.shift() ?? [];
    return { items: items as T[], metadata: { resourceVersion: String(this.calls.length) } };
  }

  watch<T>(_plural: string, _ns: string | undefined, options: WatchOptions = {}) {
    this.calls.push({ what: 'watch', at: this.#clock.now() });
    const step = this.watches.shift();
    return (async function* () {
      if (step !== undefined && step.opens !== true && step.fail !== undefined) throw step.fail();
      options.onOpen?.();
      for (const e of step?.events ?? []) yield e as WatchEvent<T>;
      if (step?.fail !== undefined) throw step.fail();
      if (step !== undefined && step.events !== undefined) return;
      // Open with nothing to say: until the informer stops.
      await new Promise<void>((resolve) => {
        if (options.signal?.aborted) resolve();
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    })();
  }

  /** Times between consecutive watch calls. */
  watchGaps(): number[] {
    const at = this.calls.filter((c) => c.what === 'watch').map((c) => c.at);
    return at.slice(1).map((t, i) => t - (at[i] as number));
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** Runs the informer over the script, moving the clock `stepMs` at a time for `totalMs`. */
async function play(
  script: Script,
  clock: ManualClock,
  totalMs: number,
  options: { random?: () => number; maxBackoffMs?: number; stepMs?: number } = {},
) {
  const changes: string[] = [];
  const informer = new ResilientInformer<Obj>({
    kube: script,
    plural: 'things',
    clock,
    log: pino({ level: 'silent' }),
    onChange: (type: ChangeType, o: Obj) =>
      changes.push(`${type} ${o.metadata.name}@${o.metadata.resourceVersion}`),
    random: options.random ?? (() => 0.999),
    ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
  });
  await informer.start();
  await settle();
  for (let t = 0; t < totalMs; t += options.stepMs ?? 50) {
    clock.advance(options.stepMs ?? 50);
    await settle();
  }
  await informer.stop();
  return { informer, changes };
}

describe('the informer after failures', () => {
  it('asks a server that does not answer at least every 2 s, however long it stays down', async () => {
    const clock = new ManualClock(1_000_000);
    const script = new Script(
      clock,
      [[obj('a', '1')]],
      Array.from({ length: 12 }, () => ({ fail: unreachable })),
    );
    await play(script, clock, 40_000);
    const gaps = script.watchGaps();
    assert.ok(gaps.length >= 11, `${gaps.length} retries`);
    assert.ok(Math.max(...gaps) <= UNREACHABLE_BACKOFF_MS + 50, `gaps ${gaps.join(', ')}`);
    assert.ok((gaps[0] as number) < 600, 'the first retry comes after about half a second');
  });

  it('backs off up to 30 s from a server that answers with errors', async () => {
    const clock = new ManualClock(1_000_000);
    const script = new Script(
      clock,
      [[]],
      Array.from({ length: 9 }, () => ({ fail: unavailable })),
    );
    await play(script, clock, 200_000, { stepMs: 250 });
    const gaps = script.watchGaps();
    assert.ok(Math.max(...gaps) >= 25_000, `gaps ${gaps.join(', ')}`);
    assert.ok(Math.max(...gaps) <= 30_300, `gaps ${gaps.join(', ')}`);
  });

  it('starts the backoff over once the server accepts a watch again', async () => {
    const clock = new ManualClock(1_000_000);
    const steps: WatchStep[] = [
      ...Array.from({ length: 6 }, () => ({ fail: unavailable })),
      // The server is back: it accepts the watch (no event yet), which then breaks.
      { opens: true, fail: unavailable },
    ];
    const script = new Script(clock, [[obj('a', '1')]], steps);
    await play(script, clock, 120_000, { stepMs: 100 });
    const gaps = script.watchGaps();
    assert.ok((gaps[5] as number) >= 10_000, `the sixth gap had grown: ${gaps.join(', ')}`);
    assert.ok(
      (gaps[6] as number) <= 600,
      `after the open the first retry is quick: ${gaps.join(', ')}`,
    );
  });

  it('says once that the server answers again after failures, not on an ordinary watch restart', async () => {
    const clock = new ManualClock(1_000_000);
    const steps: WatchStep[] = [
      { opens: true, events: [] },
      { fail: unreachable },
      { fail: unreachable },
      { opens: true, fail: unavailable },
      { opens: true },
    ];
    const script = new Script(clock, [[obj('a', '1')]], steps);
    let recovered = 0;
    const informer = new ResilientInformer<Obj>({
      kube: script,
      plural: 'things',
      clock,
      log: pino({ level: 'silent' }),
      onChange: () => undefined,
      random: () => 0.999,
      onRecovered: () => {
        recovered++;
      },
    });
    await informer.start();
    for (let t = 0; t < 20_000; t += 100) {
      clock.advance(100);
      await settle();
    }
    await informer.stop();
    assert.equal(recovered, 2, 'after the two failures, and after the 503');
  });

  it('starts over when a server that did not answer answers with errors: a restarted API server is not 30 s away', async () => {
    const clock = new ManualClock(1_000_000);
    const starting = () =>
      new KubeTransientError('HTTP_429', 'storage is (re)initializing', {
        status: 429,
        retryAfterSeconds: 1,
      });
    const steps: WatchStep[] = [
      ...Array.from({ length: 15 }, () => ({ fail: unreachable })),
      { fail: starting },
      { fail: unavailable },
      { opens: true },
    ];
    const script = new Script(clock, [[]], steps);
    await play(script, clock, 60_000, { stepMs: 100 });
    const gaps = script.watchGaps();
    assert.ok((gaps[15] as number) <= 1_200, `after the 429: ${gaps[15]} ms (${gaps.join(', ')})`);
    assert.ok(
      (gaps[16] as number) <= 1_000,
      `the second answered failure, not the 16th: ${gaps[16]} ms`,
    );
  });

  it('waits at least the Retry-After of a 429 before asking again', async () => {
    const clock = new ManualClock(1_000_000);
    const tooMany = () =>
      new KubeTransientError('HTTP_429', 'HTTP 429', { status: 429, retryAfterSeconds: 7 });
    const script = new Script(clock, [[]], [{ fail: tooMany }]);
    await play(script, clock, 10_000, { random: () => 0 });
    const gaps = script.watchGaps();
    assert.equal(gaps.length, 1);
    assert.ok((gaps[0] as number) >= 7_000, `asked again after ${gaps[0]} ms`);
  });

  it('relists at once after 410 Gone and reports what changed or vanished meanwhile', async () => {
    const clock = new ManualClock(1_000_000);
    const script = new Script(
      clock,
      [
        [obj('a', '1'), obj('b', '1')],
        [obj('a', '2'), obj('c', '1')],
      ],
      [{ opens: true, fail: gone }],
    );
    const { changes, informer } = await play(script, clock, 100);
    assert.deepEqual(changes, ['add a@1', 'add b@1', 'update a@2', 'add c@1', 'delete b@1']);
    assert.deepEqual(
      informer
        .list()
        .map((o) => o.metadata.name)
        .sort(),
      ['a', 'c'],
    );
    const lists = script.calls.filter((c) => c.what === 'list');
    assert.equal(lists.length, 2);
    assert.equal(lists[1]?.at, lists[0]?.at, 'no wait before the relist');
  });
});

describe('watchBackoff', () => {
  it('doubles from half a second, with jitter between half and all of the delay', () => {
    const down = unreachable();
    assert.equal(
      watchBackoff(1, down, 30_000, () => 0),
      250,
    );
    assert.equal(
      watchBackoff(1, down, 30_000, () => 0.999_999),
      500,
    );
    assert.equal(
      watchBackoff(2, down, 30_000, () => 0.999_999),
      1_000,
    );
    assert.equal(
      watchBackoff(40, down, 30_000, () => 0.999_999),
      UNREACHABLE_BACKOFF_MS,
    );
    assert.equal(
      watchBackoff(40, unavailable(), 30_000, () => 0.999_999),
      30_000,
    );
    assert.equal(
      watchBackoff(40, unavailable(), 30_000, () => 0),
      15_000,
    );
  });

  it('waits what a Retry-After says, with a tenth of jitter at most', () => {
    const starting = new KubeTransientError('HTTP_429', 'storage is (re)initializing', {
      status: 429,
      retryAfterSeconds: 1,
    });
    assert.equal(
      watchBackoff(25, starting, 30_000, () => 0),
      1_000,
    );
    assert.equal(
      watchBackoff(25, starting, 30_000, () => 0.999_999),
      1_100,
    );
  });

  it('never goes below a Retry-After, nor above the cap for a server that is not there', () => {
    const limited = new KubeTransientError('HTTP_429', 'HTTP 429', {
      status: 429,
      retryAfterSeconds: 45,
    });
    assert.equal(
      watchBackoff(1, limited, 30_000, () => 0),
      45_000,
    );
    assert.equal(
      watchBackoff(3, new Error('socket hang up'), 30_000, () => 0.999_999),
      2_000,
    );
  });
});
