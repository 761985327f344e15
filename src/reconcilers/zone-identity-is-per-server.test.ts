/**
 * Zone identity is per server, and a zone inside another tenant's zone needs its leave
 * (issue #18, zone-peers.ts), on the in-memory world: decisions only, in milliseconds. The
 * integration test test/integration/zone-tenants.test.ts proves the same on real named.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryWorld } from '../../test/fixtures/memory-world.ts';

function world() {
  const w = new MemoryWorld();
  w.addNamespace('a', { team: 'a' });
  w.addNamespace('b', { team: 'b' });
  return w;
}

describe('two DNSZones for one zone name', () => {
  it('are both served when their instances are different servers', async () => {
    const w = world();
    const serverA = w.addInstance('pa', 'a', 'primary', 5301);
    const serverB = w.addInstance('pb', 'b', 'primary', 5302);
    w.addZone('victim', 'victim.example', {}, 'a');
    w.addZone('victim', 'victim.example', {}, 'b');
    await w.settle('a/victim', 'b/victim');
    assert.equal(w.zoneReady('victim', 'a'), 'True Synced');
    assert.equal(w.zoneReady('victim', 'b'), 'True Synced');
    assert.ok(serverA.zones.has('victim.example') && serverB.zones.has('victim.example'));
  });

  it('conflict when one server would serve both: the younger stands aside', async () => {
    const w = world();
    w.addInstance('pa', 'a', 'primary', 5301);
    const serverB = w.addInstance('pb', 'b', 'primary', 5301);
    w.addZone('victim', 'victim.example', {}, 'a');
    w.clock.advance(1000);
    w.addZone('victim', 'victim.example', {}, 'b');
    await w.settle('a/victim', 'b/victim');
    assert.equal(w.zoneReady('victim', 'a'), 'True Synced');
    assert.equal(w.zoneReady('victim', 'b'), 'False Conflict');
    assert.equal(serverB.zones.has('victim.example'), false);
  });
});

describe('a DNSZone inside another DNSZone on the same server', () => {
  function nested(publish?: Record<string, unknown>) {
    const w = world();
    const parentServer = w.addInstance('pb', 'b', 'primary', 5301);
    const childServer = w.addInstance('pa', 'a', 'primary', 5301);
    w.addZone('b-example', 'b.example', publish === undefined ? {} : { publish }, 'b');
    w.addA('x-sub', 'b-example', 'x.sub', ['192.0.2.1'], 'b');
    w.addA('www', 'b-example', 'www', ['192.0.2.2'], 'b');
    w.clock.advance(1000);
    w.addZone('sub', 'sub.b.example', {}, 'a');
    w.addA('x', 'sub', 'x', ['198.51.100.1'], 'a');
    return { w, parentServer, childServer };
  }

  it("is a Conflict from another namespace without the parent's leave, and is not served", async () => {
    const { w, childServer } = nested();
    await w.settle('b/b-example', 'a/sub');
    assert.equal(w.zoneReady('sub', 'a'), 'False Conflict');
    assert.match(
      w.zones.get('a', 'sub')?.status?.conditions?.[0]?.message ?? '',
      /inside zone b.example.*does not let namespace a publish/,
    );
    assert.equal(childServer.zones.has('sub.b.example'), false);
    assert.equal(w.ready('x', 'a'), 'False ZoneNotReady');
    assert.equal(w.ready('x-sub', 'b'), 'True Synced', "the parent's record stays served");
  });

  it("is served with the parent's leave, and the parent's records below it say which zone serves them", async () => {
    const { w, childServer } = nested({ namespaceSelector: { matchLabels: { team: 'a' } } });
    await w.settle('b/b-example', 'a/sub');
    assert.equal(w.zoneReady('sub', 'a'), 'True Synced');
    assert.ok(childServer.zones.has('sub.b.example'));
    assert.equal(w.ready('x', 'a'), 'True Synced');
    assert.equal(w.ready('x-sub', 'b'), 'False ShadowedByChildZone');
    const message = w.record('x-sub', 'b')?.status?.conditions?.[0]?.message ?? '';
    assert.match(message, /inside zone sub\.b\.example, which DNSZone a\/sub serves/);
    assert.equal(w.ready('www', 'b'), 'True Synced', 'records outside the child are unaffected');
    assert.equal(w.zoneReady('b-example', 'b'), 'True Synced');
  });

  it('is taken off the server once the parent withdraws its leave', async () => {
    const { w, childServer } = nested({ namespaceSelector: { matchLabels: { team: 'a' } } });
    await w.settle('b/b-example', 'a/sub');
    assert.ok(childServer.zones.has('sub.b.example'));
    w.patchSpec(
      'dnszones',
      'b-example',
      { publish: { namespaceSelector: { matchLabels: { team: 'c' } } } },
      'b',
    );
    await w.settle('b/b-example', 'a/sub');
    assert.equal(w.zoneReady('sub', 'a'), 'False Conflict');
    assert.equal(childServer.zones.has('sub.b.example'), false);
    assert.equal(w.ready('x-sub', 'b'), 'True Synced');
  });

  it('needs no leave within one namespace', async () => {
    const w = world();
    w.addInstance('pb', 'b', 'primary', 5301);
    w.addZone('b-example', 'b.example', {}, 'b');
    w.addZone('sub', 'sub.b.example', {}, 'b');
    await w.settle('b/b-example', 'b/sub');
    assert.equal(w.zoneReady('sub', 'b'), 'True Synced');
  });
});
