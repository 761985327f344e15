import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeKey } from '../dns/keyfile.ts';
import { TransientError } from '../errors.ts';
import type { EnsureResult, Fingerprint, ZoneBackend } from './backend.ts';
import { EnsuredCache } from './ensured.ts';
import { directoryStore } from './files.ts';
import type { Plan } from './plan.ts';
import type { InstanceTarget } from './target.ts';
import type { ZoneConfig } from './zone-file.ts';

const zone: ZoneConfig = {
  name: 'example.test',
  ttl: 300,
  soa: {
    primaryNs: 'ns1.example.test',
    adminEmail: 'h@example.test',
    serial: 1,
    refresh: 1,
    retry: 1,
    expire: 1,
    negativeTtl: 1,
  },
  nameServers: [{ hostname: 'ns1.example.test', ipv4Address: '192.0.2.53' }],
};

const key = makeKey('k', 'hmac-sha256', Buffer.alloc(32, 1).toString('base64'));
const target: InstanceTarget = {
  id: 'ns/alpha',
  role: 'primary',
  dns: { address: '127.0.0.1', port: 5300 },
  tsigKey: key,
  rndc: { endpoint: { address: '127.0.0.1', port: 9530 }, key },
  files: directoryStore('/tmp/zones'),
};

/** The inner backend: counts ensures; reads fail while `failReads` is set. */
function recording() {
  const calls = { ensure: 0, remove: 0 };
  const state = { failReads: false };
  const fail = () => Promise.reject(new TransientError('NOTAUTH', 'zone not served'));
  const inner: ZoneBackend = {
    ensureZone: async () => {
      calls.ensure++;
      return 'unchanged';
    },
    removeZone: async () => {
      calls.remove++;
    },
    fingerprint: async () => ({ bootTime: 't0', zoneCount: 1 }),
    probeDns: async () => {},
    readZone: () => (state.failReads ? fail() : Promise.resolve([])),
    apply: () =>
      state.failReads ? fail() : Promise.resolve({ applied: [], rejected: [], messages: 0 }),
    zoneSerial: async () => 1,
    retransfer: async () => {},
  };
  return { inner, calls, state };
}

function setUp(maxAgeMs = 60_000) {
  const { inner, calls, state } = recording();
  const now = { t: 0 };
  const fp: { current: Fingerprint | undefined } = {
    current: { bootTime: 'boot-1', zoneCount: 3 },
  };
  const cache = new EnsuredCache({
    inner,
    fingerprint: (id) => (id === target.id ? fp.current : undefined),
    now: () => now.t,
    maxAgeMs,
  });
  return { cache, calls, state, now, fp };
}

describe('EnsuredCache', () => {
  it('asks named once for a zone ensured on an unchanged instance with the same config', async () => {
    const { cache, calls } = setUp();
    assert.equal(await cache.ensureZone(target, zone), 'unchanged');
    assert.equal(await cache.ensureZone(target, zone), 'unchanged');
    assert.equal(calls.ensure, 1);
  });

  it('asks again once the instance restarted or lost a zone (its fingerprint changed)', async () => {
    const { cache, calls, fp } = setUp();
    await cache.ensureZone(target, zone);
    fp.current = { bootTime: 'boot-2', zoneCount: 3 };
    await cache.ensureZone(target, zone);
    fp.current = { bootTime: 'boot-2', zoneCount: 2 };
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 3);
  });

  it('never skips while the fingerprint is unknown (not polled yet, or the instance down)', async () => {
    const { cache, calls, fp } = setUp();
    fp.current = undefined;
    await cache.ensureZone(target, zone);
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 2);
  });

  it('asks again for a changed ZoneConfig or a changed instance endpoint or role', async () => {
    const { cache, calls } = setUp();
    await cache.ensureZone(target, zone);
    await cache.ensureZone(target, { ...zone, ttl: 600 });
    await cache.ensureZone(target, { ...zone, ttl: 600 });
    await cache.ensureZone(
      { ...target, rndc: { endpoint: { address: '127.0.0.2', port: 953 }, key } },
      zone,
    );
    await cache.ensureZone({ ...target, role: 'secondary' }, zone);
    assert.equal(calls.ensure, 4);
  });

  it('asks again after the zone was removed, after a failed read or update, and after forgetInstance', async () => {
    const { cache, calls, state } = setUp();
    await cache.ensureZone(target, zone);
    await cache.removeZone(target, zone.name);
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 2, 'after removeZone');
    state.failReads = true;
    await assert.rejects(cache.readZone(target, zone.name), TransientError);
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 3, 'after a failed read');
    const plan = { zone: zone.name, changes: [], skipped: [] } as unknown as Plan;
    await assert.rejects(cache.apply(target, plan), TransientError);
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 4, 'after a failed update');
    state.failReads = false;
    cache.forgetInstance(target.id);
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 5, 'after forgetInstance');
  });

  it('remembers nothing when ensure fails', async () => {
    const { inner, calls } = recording();
    let fail = true;
    const cache = new EnsuredCache({
      inner: {
        ...inner,
        ensureZone: async (t, z) => {
          if (fail) throw new TransientError('ECONNREFUSED', 'rndc refused');
          return inner.ensureZone(t, z);
        },
      },
      fingerprint: () => ({ bootTime: 'b', zoneCount: 1 }),
      now: () => 0,
    });
    await assert.rejects(cache.ensureZone(target, zone), TransientError);
    fail = false;
    await cache.ensureZone(target, zone);
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 1, 'the failed ensure was not remembered; the next one was');
  });

  it('asks again once an entry is older than maxAgeMs', async () => {
    const { cache, calls, now } = setUp(1_000);
    await cache.ensureZone(target, zone);
    now.t = 999;
    await cache.ensureZone(target, zone);
    now.t = 1_000;
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 2);
  });
});

/** A cache over an inner backend whose ensure answers what `answers` holds per zone. */
function lossSetUp(options: { wasPresent?: (zone: string) => boolean; requeued?: string[] } = {}) {
  const { inner, calls, state } = recording();
  const answers = new Map<string, EnsureResult>();
  const losses: string[] = [];
  const ensured: string[] = [];
  const cache = new EnsuredCache({
    inner: {
      ...inner,
      ensureZone: async (t, z) => {
        await inner.ensureZone(t, z);
        ensured.push(z.name);
        return answers.get(z.name) ?? 'unchanged';
      },
    },
    fingerprint: () => ({ bootTime: 'b', zoneCount: 3 }),
    now: () => 0,
    wasPresent: (_id, z) => options.wasPresent?.(z) ?? false,
    onDataLoss: (id, z) => {
      assert.equal(id, target.id);
      losses.push(z);
      return options.requeued ?? [];
    },
  });
  return { cache, calls, state, answers, losses, ensured };
}

const other = (name: string): ZoneConfig => ({ ...zone, name });

describe('EnsuredCache data-loss paths', () => {
  it('tells onDataLoss once when a zone it ensured before has to be created again', async () => {
    const { cache, answers, losses } = lossSetUp();
    answers.set(zone.name, 'created');
    await cache.ensureZone(target, zone);
    assert.deepEqual(losses, [], 'a first creation is no loss');
    cache.forget(target.id, zone.name);
    await cache.ensureZone(target, zone);
    assert.deepEqual(losses, [zone.name]);
  });

  it('tells onDataLoss when the zone status says the zone was present, though this process never ensured it', async () => {
    const { cache, answers, losses } = lossSetUp({ wasPresent: (z) => z === 'b.test' });
    answers.set('a.test', 'created');
    answers.set('b.test', 'created');
    await cache.ensureZone(target, other('a.test'));
    await cache.ensureZone(target, other('b.test'));
    assert.deepEqual(losses, ['b.test']);
  });

  it('does not tell onDataLoss again for the zones it requeued, until each has been ensured once', async () => {
    // The zone status still says every zone is present: only the requeue explains the creations.
    const { cache, answers, losses } = lossSetUp({
      requeued: ['a.test', 'b.test', 'c.test'],
      wasPresent: () => true,
    });
    for (const z of ['a.test', 'b.test', 'c.test']) await cache.ensureZone(target, other(z));
    for (const z of ['a.test', 'b.test', 'c.test']) answers.set(z, 'created');
    cache.forgetInstance(target.id);
    await cache.ensureZone(target, other('a.test'));
    assert.deepEqual(losses, ['a.test'], 'the loss found on a.test');
    // The requeued zones come back 'created' as expected: one loss, told once.
    await cache.ensureZone(target, other('b.test'));
    await cache.ensureZone(target, other('c.test'));
    assert.deepEqual(losses, ['a.test']);
    // Ensured once since: a second loss is a new one.
    cache.forgetInstance(target.id);
    await cache.ensureZone(target, other('c.test'));
    assert.deepEqual(losses, ['a.test', 'c.test']);
  });

  it('forgets every cached ensure of the instance on a loss, so its other zones are asked about again', async () => {
    const { cache, answers, ensured } = lossSetUp();
    await cache.ensureZone(target, other('a.test'));
    await cache.ensureZone(target, other('b.test'));
    answers.set('a.test', 'created');
    cache.forget(target.id, 'a.test');
    await cache.ensureZone(target, other('a.test'));
    await cache.ensureZone(target, other('b.test'));
    assert.deepEqual(ensured, ['a.test', 'b.test', 'a.test', 'b.test']);
  });

  it('removeZone clears its memory: the next ensure asks named, and a creation then is no loss', async () => {
    const { cache, calls, answers, losses } = lossSetUp({ requeued: ['b.test'] });
    await cache.ensureZone(target, zone);
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 1, 'cached before the removal');
    await cache.removeZone(target, zone.name);
    assert.equal(calls.remove, 1);
    answers.set(zone.name, 'created');
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 2, 'asked named after the removal');
    assert.deepEqual(losses, [], 'removed on purpose: its creation is no loss');
  });

  it('removeZone of a zone awaited after a loss makes its later creation a first one again', async () => {
    const { cache, answers, losses } = lossSetUp({ requeued: ['a.test', 'b.test'] });
    await cache.ensureZone(target, other('a.test'));
    await cache.ensureZone(target, other('b.test'));
    answers.set('a.test', 'created');
    answers.set('b.test', 'created');
    cache.forgetInstance(target.id);
    await cache.ensureZone(target, other('a.test'));
    await cache.removeZone(target, 'b.test');
    await cache.ensureZone(target, other('b.test'));
    await cache.ensureZone(target, other('b.test'));
    assert.deepEqual(losses, ['a.test'], 'b.test was removed on purpose, then created anew');
  });

  it('dropInstance forgets the instance: a creation after it is no loss', async () => {
    const { cache, answers, losses } = lossSetUp();
    await cache.ensureZone(target, zone);
    cache.dropInstance(target.id);
    answers.set(zone.name, 'created');
    await cache.ensureZone(target, zone);
    assert.deepEqual(losses, []);
  });

  it('runs the real ensure when a read fails after a cache hit, and reads again when it had to create the zone', async () => {
    // A model of named: the zone is served once created; losing it makes reads fail (NOTAUTH).
    const server = { present: false, ensures: 0, reads: 0 };
    const losses: string[] = [];
    const { inner } = recording();
    const cache = new EnsuredCache({
      inner: {
        ...inner,
        ensureZone: async () => {
          server.ensures++;
          if (server.present) return 'unchanged';
          server.present = true;
          return 'created';
        },
        readZone: async () => {
          server.reads++;
          if (!server.present) throw new TransientError('NOTAUTH', 'zone not served');
          return [];
        },
      },
      fingerprint: () => ({ bootTime: 'b', zoneCount: 3 }),
      now: () => 0,
      onDataLoss: (_id, z) => {
        losses.push(z);
        return [];
      },
    });
    await cache.ensureZone(target, zone);
    assert.equal(await cache.ensureZone(target, zone), 'unchanged');
    assert.equal(server.ensures, 1, 'the second ensure was a cache hit');
    server.present = false;
    assert.deepEqual(await cache.readZone(target, zone.name), []);
    assert.equal(server.ensures, 2, 'the real ensure ran after the failed read');
    assert.equal(server.reads, 2, 'and the read was made again');
    assert.deepEqual(losses, [zone.name], 'the creation counted as a loss');
  });

  it('rethrows the read error when the real ensure behind a cache hit finds the zone present', async () => {
    const { cache, calls, state } = lossSetUp();
    await cache.ensureZone(target, zone);
    await cache.ensureZone(target, zone);
    state.failReads = true;
    await assert.rejects(cache.readZone(target, zone.name), /zone not served/);
    assert.equal(calls.ensure, 2, 'the real ensure ran once');
    // And the failure forgot the cached ensure: the next one asks named.
    state.failReads = false;
    await cache.ensureZone(target, zone);
    assert.equal(calls.ensure, 3);
  });

  it('does not run a real ensure when a read fails without a cache hit before it', async () => {
    const { cache, calls, state } = lossSetUp();
    state.failReads = true;
    await assert.rejects(cache.readZone(target, zone.name), /zone not served/);
    await cache.ensureZone(target, zone);
    await assert.rejects(cache.readZone(target, zone.name), /zone not served/);
    assert.equal(calls.ensure, 1, 'only the ensure the caller asked for');
  });
});
