import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Plan } from '../bind/plan.ts';
import type { ZoneConfig } from '../bind/zone-file.ts';
import { TransientError } from '../dns/errors.ts';
import { makeKey } from '../dns/keyfile.ts';
import type { Fingerprint, InstanceTarget, ZoneBackend } from './backend.ts';
import { EnsuredCache } from './ensured.ts';

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
  namespace: 'ns',
  role: 'primary',
  dns: { address: '127.0.0.1', port: 5300 },
  rndc: { address: '127.0.0.1', port: 9530 },
  tsigKey: key,
  rndcKey: key,
  zoneFiles: { directory: { path: '/tmp/zones' } },
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
    await cache.ensureZone({ ...target, rndc: { address: '127.0.0.2', port: 953 } }, zone);
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
