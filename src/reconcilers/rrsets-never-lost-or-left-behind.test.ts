/**
 * The zone reconcile's state machine (zone.ts, ownership.ts, finalizer.ts) against an
 * in-memory world (test/fixtures/memory-world.ts): whatever happens to a record resource
 * (deleted, renamed, moved, refused, taken over, adopted, its server gone), an RRset that
 * a live resource declares is never lost, and one that no resource declares any more is
 * never left behind, except after the deletion deadline, which says so.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { type MemoryServer, MemoryWorld } from '../../test/fixtures/memory-world.ts';
import { FINALIZER } from './finalizer.ts';

const a = (server: MemoryServer, zone: string, name: string) => {
  const rrset = server.rrset(zone, name, 'A');
  return rrset?.type === 'A' ? rrset.rdata.map((r) => r.address) : undefined;
};

describe('record resources and the RRsets they own', () => {
  let world: MemoryWorld;
  let server: MemoryServer;

  beforeEach(async () => {
    world = new MemoryWorld();
    server = world.addInstance('prim');
    world.addZone('z', 'z.test');
    world.clock.advance(1000);
  });

  it('writes a record only once its finalizer is on, and Ready says where it is served', async () => {
    world.addA('www', 'z', 'www', ['192.0.2.1']);
    await world.settle('z');
    assert.ok(world.record('www')?.metadata.finalizers?.includes(FINALIZER));
    assert.deepEqual(a(server, 'z.test', 'www.z.test'), ['192.0.2.1']);
    assert.equal(world.ready('www'), 'True Synced');
    assert.equal(world.record('www')?.status?.fqdn, 'www.z.test.');
  });

  it('removes the RRset of a deleted record, then lets the record go', async () => {
    world.addA('www', 'z', 'www', ['192.0.2.1']);
    await world.settle('z');
    world.remove('arecords', 'www');
    await world.settle('z');
    assert.equal(a(server, 'z.test', 'www.z.test'), undefined);
    assert.equal(world.record('www'), undefined);
  });

  it('replaces the old name by the new one when a record is renamed', async () => {
    world.addA('mv', 'z', 'old', ['192.0.2.1']);
    await world.settle('z');
    world.patchSpec('arecords', 'mv', { name: 'new' });
    await world.settle('z');
    assert.equal(a(server, 'z.test', 'old.z.test'), undefined);
    assert.deepEqual(a(server, 'z.test', 'new.z.test'), ['192.0.2.1']);
    assert.equal(world.record('mv')?.status?.fqdn, 'new.z.test.');
  });

  it('renamed twice before any status was written, still leaves no old name behind', async () => {
    world.addA('mv', 'z', 'one', ['192.0.2.1']);
    world.refused.add('arecords/mv/status');
    await world.settle('z').catch(() => undefined);
    world.patchSpec('arecords', 'mv', { name: 'two' });
    await world.settle('z').catch(() => undefined);
    world.refused.delete('arecords/mv/status');
    world.patchSpec('arecords', 'mv', { name: 'three' });
    await world.settle('z');
    assert.deepEqual(
      [...(server.zones.get('z.test')?.keys() ?? [])].filter((k) => k.endsWith(' A')),
      ['ns1.z.test A', 'three.z.test A'],
    );
  });

  it('moves the RRset to the other zone when spec.zone changes, and the pointer with it', async () => {
    world.addZone('y', 'y.test');
    world.addA('hop', 'z', 'h', ['192.0.2.1']);
    await world.settle('z', 'y');
    world.patchSpec('arecords', 'hop', { zone: 'y' });
    await world.settle('z', 'y');
    assert.equal(a(server, 'z.test', 'h.z.test'), undefined);
    assert.deepEqual(a(server, 'y.test', 'h.y.test'), ['192.0.2.1']);
    assert.equal(world.record('hop')?.status?.zone, 'y');
  });

  it('moved into an invalid zone, leaves the old one, and arrives once the new one is fixed', async () => {
    world.addZone('bad', 'bad.test', { nameServers: [{ hostname: 'ns1' }] });
    world.addA('hop', 'z', 'h', ['192.0.2.1']);
    await world.settle('z', 'bad');
    world.patchSpec('arecords', 'hop', { zone: 'bad' });
    await world.settle('z', 'bad');
    assert.equal(a(server, 'z.test', 'h.z.test'), undefined);
    assert.equal(world.ready('hop'), 'False ZoneNotReady');
    world.patchSpec('dnszones', 'bad', { nameServers: [{ hostname: 'ns.example.net.' }] });
    await world.settle('z', 'bad');
    assert.deepEqual(a(server, 'bad.test', 'h.bad.test'), ['192.0.2.1']);
    assert.equal(world.ready('hop'), 'True Synced');
  });

  it('gives Conflict to the younger of two records for one RRset, and the RRset to it once the older goes', async () => {
    world.addA('first', 'z', 'dup', ['192.0.2.1']);
    world.clock.advance(1000);
    world.addA('second', 'z', 'dup', ['192.0.2.2']);
    await world.settle('z');
    assert.equal(world.ready('second'), 'False Conflict');
    assert.deepEqual(a(server, 'z.test', 'dup.z.test'), ['192.0.2.1']);
    world.remove('arecords', 'first');
    await world.settle('z');
    assert.deepEqual(a(server, 'z.test', 'dup.z.test'), ['192.0.2.2']);
    assert.equal(world.ready('second'), 'True Synced');
  });

  it('with prune on, keeps a served RRset a record declares while its finalizer cannot be added, then adopts it', async () => {
    world.patchSpec('dnszones', 'z', { prune: true });
    await world.settle('z');
    server.put('z.test', {
      name: 'held.z.test',
      type: 'A',
      ttl: 300,
      rdata: [{ address: '192.0.2.7' }],
    });
    server.put('z.test', {
      name: 'stray.z.test',
      type: 'A',
      ttl: 300,
      rdata: [{ address: '192.0.2.8' }],
    });
    world.addA('held', 'z', 'held', ['192.0.2.9']);
    world.refused.add('arecords/held');
    await world.settle('z');
    assert.deepEqual(a(server, 'z.test', 'held.z.test'), ['192.0.2.7'], 'kept exactly as served');
    assert.equal(a(server, 'z.test', 'stray.z.test'), undefined, 'what nobody declares is pruned');
    assert.equal(world.ready('held'), undefined, 'no status before the finalizer');
    world.refused.delete('arecords/held');
    await world.settle('z');
    assert.deepEqual(a(server, 'z.test', 'held.z.test'), ['192.0.2.9']);
    assert.equal(world.ready('held'), 'True Synced');
  });

  it('after a restart between its UPDATE and its status write, a renamed record still loses its old name', async () => {
    world.addA('r', 'z', 'old', ['192.0.2.1']);
    world.refused.add('arecords/r/status');
    await world.settle('z').catch(() => undefined);
    assert.deepEqual(a(server, 'z.test', 'old.z.test'), ['192.0.2.1']);
    assert.deepEqual(world.zones.get('ns', 'z')?.status?.unconfirmedWrites, [
      { owner: 'ARecord/ns/r', fqdn: 'old.z.test.', type: 'A' },
    ]);
    world.restart();
    world.refused.delete('arecords/r/status');
    world.patchSpec('arecords', 'r', { name: 'new' });
    await world.settle('z');
    assert.equal(a(server, 'z.test', 'old.z.test'), undefined);
    assert.deepEqual(a(server, 'z.test', 'new.z.test'), ['192.0.2.1']);
    assert.deepEqual(world.zones.get('ns', 'z')?.status?.unconfirmedWrites, []);
  });

  it('waits for a server that is down, and past the deletion deadline lets the record go with a Warning', async () => {
    world.addA('www', 'z', 'www', ['192.0.2.1']);
    await world.settle('z');
    server.down = true;
    world.remove('arecords', 'www');
    await world.settle('z');
    assert.ok(world.record('www') !== undefined, 'still waiting for the server');
    assert.deepEqual(
      world.events.events.filter((e) => e.reason === 'DeletionIncomplete'),
      [],
    );
    world.clock.advance(121_000);
    await world.settle('z');
    assert.equal(world.record('www'), undefined);
    const warning = world.events.events.find((e) => e.reason === 'DeletionIncomplete');
    assert.equal(warning?.type, 'Warning');
    assert.match(warning?.message ?? '', /gave up after 121 s: the RRset may still be on prim/);
  });

  it('deletes the zone from its servers with everything in it, then lets zone and records go', async () => {
    world.addA('www', 'z', 'www', ['192.0.2.1']);
    await world.settle('z');
    world.remove('arecords', 'www');
    world.remove('dnszones', 'z');
    await world.settle('z');
    assert.equal(server.zones.has('z.test'), false);
    assert.equal(world.zones.get('ns', 'z'), undefined);
    assert.equal(world.record('www'), undefined);
  });
});
