import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from './clock.ts';
import { LeaderElector, type LeaseStore } from './lease.ts';
import { KubePermanentError, KubeTransientError } from './rest.ts';
import type { JsonObject } from './rest-kube.ts';
import type { WatchEvent } from './watch.ts';

type Lease = JsonObject & {
  metadata: { name: string; resourceVersion: string };
  spec: { holderIdentity?: string; leaseTransitions?: number; acquireTime?: string };
};

/**
 * One Lease with the API server's optimistic concurrency: a write whose resourceVersion is
 * not the stored one is refused with 409, as is a create of an existing Lease.
 */
class LeaseTable {
  lease: Lease | undefined;
  #version = 0;
  writes = 0;
  /** Watchers: each gets every stored version (what a watch of the Lease would see). */
  readonly watchers = new Set<(lease: Lease) => void>();

  store(body: JsonObject): JsonObject {
    this.writes++;
    const stored = structuredClone(body) as Lease;
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.#version) };
    this.lease = stored;
    for (const w of this.watchers) w(structuredClone(stored));
    return structuredClone(stored);
  }

  get holder(): string | undefined {
    return this.lease?.spec.holderIdentity;
  }

  get transitions(): number {
    return this.lease?.spec.leaseTransitions ?? 0;
  }

  /** One candidate's connection to the table: it can fail or hang on its own. */
  view(watchable = false): LeaseView {
    const view = new LeaseView(this);
    if (watchable) view.watchLease = (_ns, _name, signal) => watchTable(this, signal);
    return view;
  }
}

/** The Lease's versions as MODIFIED events, until `signal` aborts. */
async function* watchTable(table: LeaseTable, signal: AbortSignal): AsyncGenerator<WatchEvent> {
  const queue: Lease[] = [];
  let wake: (() => void) | undefined;
  const push = (lease: Lease) => {
    queue.push(lease);
    wake?.();
  };
  table.watchers.add(push);
  try {
    while (!signal.aborted) {
      const next = queue.shift();
      if (next !== undefined) {
        yield { type: 'MODIFIED', object: next };
        continue;
      }
      await new Promise<void>((r) => {
        wake = r;
        signal.addEventListener('abort', () => r(), { once: true });
      });
    }
  } finally {
    table.watchers.delete(push);
  }
}

class LeaseView implements LeaseStore {
  readonly #table: LeaseTable;
  watchLease?: LeaseStore['watchLease'];
  /** Every call fails as an unreachable server does. */
  down = false;
  /** Every call hangs (a frozen process, a dead connection). */
  hang = false;

  constructor(table: LeaseTable) {
    this.#table = table;
  }

  async #gate(): Promise<void> {
    if (this.hang) await new Promise(() => {});
    if (this.down) throw new KubeTransientError('KUBE_UNREACHABLE', 'no response (ECONNREFUSED)');
  }

  async readLease(): Promise<JsonObject | undefined> {
    await this.#gate();
    const lease = this.#table.lease;
    return lease === undefined ? undefined : structuredClone(lease);
  }

  async createLease(_ns: string, body: JsonObject): Promise<JsonObject> {
    await this.#gate();
    if (this.#table.lease !== undefined) {
      throw new KubePermanentError('HTTP_409', 'AlreadyExists', { status: 409 });
    }
    return this.#table.store(body);
  }

  async replaceLease(_ns: string, _name: string, body: JsonObject): Promise<JsonObject> {
    await this.#gate();
    const given = (body as Lease).metadata?.resourceVersion;
    if (given !== this.#table.lease?.metadata.resourceVersion) {
      throw new KubeTransientError('HTTP_409', 'Conflict', { status: 409 });
    }
    return this.#table.store(body);
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/** Moves the clock in small steps, letting the electors' requests complete between them. */
async function run(clock: ManualClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await settle();
  }
}

function elector(table: LeaseTable, clock: ManualClock, identity: string, watchable = false) {
  const view = table.view(watchable);
  const e = new LeaderElector({
    kube: view,
    namespace: 'sys',
    name: 'ctl',
    identity,
    clock,
    log: pino({ level: 'silent' }),
    random: () => 0,
  });
  let lostAt: number | undefined;
  e.onLost(() => {
    lostAt = clock.now();
  });
  let leadingSince: number | undefined;
  void e.acquire().then(() => {
    if (e.leading) leadingSince = clock.now();
  });
  return { e, view, lostAt: () => lostAt, leadingSince: () => leadingSince };
}

describe('leader election on a Lease', () => {
  it('lets exactly one of two candidates lead, the other taking over only once the lease ran out by its own clock', async () => {
    const clock = new ManualClock(1_000_000);
    const table = new LeaseTable();
    const a = elector(table, clock, 'a');
    await run(clock, 100);
    const b = elector(table, clock, 'b');
    await run(clock, 20_000);
    assert.equal(table.holder, 'a');
    assert.ok(a.e.leading && !b.e.leading);
    // a freezes: its renewals never arrive. b must wait out the lease duration.
    a.view.hang = true;
    const lastRenewal = clock.now();
    await run(clock, 25_000);
    assert.equal(table.holder, 'b');
    const tookOver = b.leadingSince();
    assert.ok(tookOver !== undefined);
    assert.ok(
      tookOver - lastRenewal >= 15_000 - 5_000,
      `b took over ${tookOver - lastRenewal} ms after a's last renewal`,
    );
    const lost = a.lostAt();
    assert.ok(lost !== undefined && lost <= tookOver, 'a had stopped leading before b began');
    assert.equal(table.transitions, 1);
  });

  it('hands over at once on release: the successor does not wait out the duration', async () => {
    const clock = new ManualClock(1_000_000);
    const table = new LeaseTable();
    const a = elector(table, clock, 'a');
    await run(clock, 100);
    const b = elector(table, clock, 'b');
    await run(clock, 5_000);
    assert.equal(table.holder, 'a');
    const releasedAt = clock.now();
    await a.e.release();
    await run(clock, 5_000);
    assert.equal(table.holder, 'b');
    const took = (b.leadingSince() ?? Number.POSITIVE_INFINITY) - releasedAt;
    assert.ok(took <= 2_500, `b took over ${took} ms after the release`);
    assert.equal(a.lostAt(), undefined, 'a release is not a loss');
  });

  it('stops leading when it cannot renew, before any other candidate may take over', async () => {
    const clock = new ManualClock(1_000_000);
    const table = new LeaseTable();
    const a = elector(table, clock, 'a');
    await run(clock, 100);
    assert.ok(a.e.leading);
    const renewedAt = clock.now();
    a.view.down = true;
    await run(clock, 16_000);
    const lost = a.lostAt();
    assert.ok(lost !== undefined, 'onLost was called');
    assert.ok(!a.e.leading);
    // Another candidate may take over only 15 s after it last saw the lease change.
    assert.ok(lost - renewedAt <= 10_100, `lost after ${lost - renewedAt} ms`);
  });

  it('stops leading at the deadline even while a renewal hangs', async () => {
    const clock = new ManualClock(1_000_000);
    const table = new LeaseTable();
    const a = elector(table, clock, 'a');
    await run(clock, 100);
    const renewedAt = clock.now();
    a.view.hang = true;
    await run(clock, 12_000);
    const lost = a.lostAt();
    assert.ok(
      lost !== undefined && lost - renewedAt <= 10_100,
      `lost at +${(lost ?? 0) - renewedAt} ms`,
    );
  });

  it('keeps leading through a short outage, renewing every retry period until it succeeds', async () => {
    const clock = new ManualClock(1_000_000);
    const table = new LeaseTable();
    const a = elector(table, clock, 'a');
    await run(clock, 100);
    a.view.down = true;
    await run(clock, 7_000);
    a.view.down = false;
    const writes = table.writes;
    await run(clock, 2_500);
    assert.ok(table.writes > writes, 'renewed within a retry period of the store answering');
    await run(clock, 20_000);
    assert.ok(a.e.leading);
    assert.equal(a.lostAt(), undefined);
  });

  it('lets the candidate that watches the Lease take it the moment the holder releases it', async () => {
    const clock = new ManualClock(1_000_000);
    const table = new LeaseTable();
    const a = elector(table, clock, 'a');
    await run(clock, 100);
    const b = elector(table, clock, 'b', true);
    await run(clock, 5_000);
    assert.equal(table.holder, 'a');
    const releasedAt = clock.now();
    await a.e.release();
    await run(clock, 200, 10);
    assert.equal(table.holder, 'b');
    const took = (b.leadingSince() ?? Number.POSITIVE_INFINITY) - releasedAt;
    assert.ok(took <= 50, `b took over ${took} ms after the release (its retry period is 2 s)`);
  });
});
