import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordResource } from '../api/kinds.ts';
import type { KubeObject, ObjectRef } from '../kube/client.ts';
import { ManualClock } from '../kube/clock.ts';
import { MemoryEventRecorder } from '../kube/events.ts';
import { type Caches, writeReady } from './context.ts';
import { mergePatch, StatusMemory } from './status-memory.ts';

/** A record as the cache holds it, at `resourceVersion`. */
function record(resourceVersion: string, status?: object): KubeObject<unknown, object> {
  return {
    apiVersion: 'dns.bind9-controller.io/v1alpha1',
    kind: 'ARecord',
    metadata: { name: 'www', namespace: 'ns', uid: 'u1', generation: 1, resourceVersion },
    spec: {},
    ...(status === undefined ? {} : { status }),
  };
}

describe('mergePatch (RFC 7386)', () => {
  it('merges objects, replaces arrays and scalars, and removes what the patch sets to null', () => {
    const target = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], gone: 'x' };
    const patch = { b: { d: 4, e: 5 }, list: [3], gone: null, added: 'y' };
    assert.deepEqual(mergePatch(target, patch), {
      a: 1,
      b: { c: 2, d: 4, e: 5 },
      list: [3],
      added: 'y',
    });
    assert.deepEqual(target.b, { c: 2, d: 3 }, 'the target is not modified');
  });
});

describe('StatusMemory', () => {
  const clock = new ManualClock(0);

  it('stands for the status until the cache shows the version the write made', () => {
    const memory = new StatusMemory(() => clock.now());
    const written = { ready: true };
    memory.wrote(record('10'), written, '12');
    assert.deepEqual(memory.statusOf(record('10')), written, 'the cache is older');
    // An event older than the write (our finalizer patch, say) does not end it.
    memory.observed(record('11', { other: true }));
    assert.deepEqual(memory.statusOf(record('11', { other: true })), written);
    memory.observed(record('12', written));
    assert.equal(memory.size, 0);
    assert.deepEqual(memory.statusOf(record('13', { changed: 'by someone' })), {
      changed: 'by someone',
    });
  });

  it('lets go once the cached object is at that version, is deleted, or the memory is too old', () => {
    const memory = new StatusMemory(() => clock.now(), 1000);
    memory.wrote(record('1'), { n: 1 }, '2');
    assert.deepEqual(memory.statusOf(record('2', { n: 1 })), { n: 1 });
    assert.equal(memory.size, 0);
    memory.wrote(record('2'), { n: 2 }, '3');
    memory.observed(record('2'), true);
    assert.equal(memory.size, 0);
    memory.wrote(record('3'), { n: 3 }, '4');
    clock.advance(1001);
    assert.deepEqual(memory.statusOf(record('3', { n: 0 })), { n: 0 });
  });
});

describe('writeReady', () => {
  /** A writer that counts status patches; each gives the object the next resourceVersion. */
  function counting() {
    const patches: { ref: ObjectRef; status: unknown }[] = [];
    let version = 100;
    return {
      patches,
      writer: {
        async patchStatus(ref: ObjectRef, status: unknown) {
          patches.push({ ref, status });
          return String(++version);
        },
        async setFinalizers() {},
      },
    };
  }

  /** A status-writing context with a memory, a counting writer, and the Ready to write. */
  function round() {
    const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
    const { patches, writer } = counting();
    const statuses = new StatusMemory(() => clock.now());
    const ctx = { writer, events: new MemoryEventRecorder(), clock, statuses };
    const ready = { status: 'True', reason: 'Synced', message: 'served by p1' } as const;
    return { patches, ctx, ready };
  }

  it('writes a status once when the next round starts before the cache shows the first write', async () => {
    const { patches, ctx, ready } = round();
    const cached = record('7');
    await writeReady(ctx, cached, ready, { fqdn: 'www.example.com.' });
    // The second round reads the same cached object: the watch event is not there yet.
    await writeReady(ctx, cached, ready, { fqdn: 'www.example.com.' });
    assert.equal(patches.length, 1);
    // What actually changes is still written.
    await writeReady(ctx, cached, { ...ready, message: 'served by p1, p2' });
    assert.equal(patches.length, 2);
  });

  it('writes a status once when the cache caught up after the round read its copy of the record', async () => {
    const { patches, ctx: base, ready } = round();
    let cached: KubeObject<unknown, object> = record('7');
    const store = {
      get: (_ns: string, name: string) => (name === 'www' ? (cached as RecordResource) : undefined),
      list: () => [cached as RecordResource],
    };
    const empty = { get: () => undefined, list: () => [] };
    const caches = { instances: empty, zones: empty, records: new Map([['ARecord', store]]) };
    const ctx = { ...base, caches: caches as unknown as Caches };
    const copy = record('7');
    await writeReady(ctx, copy, ready);
    // The watch event of that write arrives: the cache holds it, the memory lets go.
    cached = record('101', patches[0]?.status as object);
    ctx.statuses.observed(cached);
    // The next round still holds the copy it read before.
    await writeReady(ctx, copy, ready);
    assert.equal(patches.length, 1);
  });

  it('writes again when someone else changed the status after the cache caught up', async () => {
    const { patches, ctx, ready } = round();
    await writeReady(ctx, record('7'), ready);
    ctx.statuses.observed(record('101', patches[0]?.status as object));
    // Someone cleared the status by hand; the cache shows it.
    ctx.statuses.observed(record('102', {}));
    await writeReady(ctx, record('102', {}), ready);
    assert.equal(patches.length, 2);
  });
});
