import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/client.ts';
import { wakesReconcile, watchedState } from './relevance.ts';

function object(
  kind: string,
  meta: Partial<KubeObject['metadata']> = {},
  status: unknown = undefined,
): KubeObject {
  return {
    apiVersion: 'dns.bind9-controller.io/v1alpha1',
    kind,
    metadata: {
      name: 'x',
      namespace: 'ns',
      uid: 'u1',
      generation: 1,
      resourceVersion: '10',
      finalizers: ['dns.bind9-controller.io/finalizer'],
      labels: { site: 'a', tier: 'gold' },
      ...meta,
    },
    spec: {},
    ...(status === undefined ? {} : { status }),
  };
}

/** Whether an update from `a` to `b` of `kind` queues the key. */
const wakes = (kind: string, a: KubeObject, b: KubeObject) =>
  wakesReconcile('update', watchedState(kind, a), watchedState(kind, b));

const ready = (observedGeneration: number, status = 'True') => ({
  observedGeneration,
  conditions: [{ type: 'Ready', status, reason: 'Synced', message: 'ok' }],
});

describe('watch event relevance', () => {
  it('skips an update that only changed status, resourceVersion or annotations', () => {
    for (const kind of ['Bind9Instance', 'DNSZone', 'ARecord']) {
      const a = object(kind, {}, ready(0, 'False'));
      const b = object(kind, { resourceVersion: '11', annotations: { note: 'y' } }, ready(1));
      assert.equal(wakes(kind, a, b), false, kind);
    }
  });

  it('queues an update that changed the spec (a new generation)', () => {
    assert.equal(wakes('ARecord', object('ARecord'), object('ARecord', { generation: 2 })), true);
  });

  it('queues an update that started the deletion', () => {
    const deleting = object('DNSZone', { deletionTimestamp: '2026-11-27T12:00:00Z' });
    assert.equal(wakes('DNSZone', object('DNSZone'), deleting), true);
  });

  it('queues an update that added or removed a finalizer, whatever the order', () => {
    const none = object('ARecord', { finalizers: [] });
    assert.equal(wakes('ARecord', none, object('ARecord')), true);
    assert.equal(wakes('ARecord', object('ARecord'), none), true);
    const ab = object('ARecord', { finalizers: ['a', 'b'] });
    const ba = object('ARecord', { finalizers: ['b', 'a'] });
    assert.equal(wakes('ARecord', ab, ba), false);
  });

  it('queues a Bind9Instance whose labels changed (zones select by them), not a reordering', () => {
    const moved = object('Bind9Instance', { labels: { site: 'b', tier: 'gold' } });
    assert.equal(wakes('Bind9Instance', object('Bind9Instance'), moved), true);
    const reordered = object('Bind9Instance', { labels: { tier: 'gold', site: 'a' } });
    assert.equal(wakes('Bind9Instance', object('Bind9Instance'), reordered), false);
  });

  it('queues a record whose status pointer to the RRset it wrote changed or was cleared', () => {
    const written = { ...ready(1), fqdn: 'www.example.test.', recordType: 'A', zone: 'example' };
    const none = object('ARecord', {}, ready(1));
    const at = object('ARecord', {}, written);
    const renamed = object('ARecord', {}, { ...written, fqdn: 'web.example.test.' });
    const cleared = object(
      'ARecord',
      {},
      { ...ready(1), fqdn: null, recordType: null, zone: null },
    );
    assert.equal(wakes('ARecord', none, at), true, 'first written');
    assert.equal(wakes('ARecord', at, renamed), true, 'renamed');
    assert.equal(wakes('ARecord', at, cleared), true, 'cleared by the old zone after a move');
    const sameAgain = object('ARecord', { resourceVersion: '12' }, { ...written, ...ready(2) });
    assert.equal(wakes('ARecord', at, sameAgain), false, 'only Ready changed');
  });

  it('does not treat a DNSZone status field named like a record pointer as one', () => {
    const a = object('DNSZone', {}, { zone: 'a' });
    const b = object('DNSZone', {}, { zone: 'b' });
    assert.equal(wakes('DNSZone', a, b), false);
  });

  it('counts every change when an object has no generation', () => {
    const a = object('ARecord', { generation: undefined });
    const b = object('ARecord', { generation: undefined, resourceVersion: '11' });
    assert.equal(wakes('ARecord', a, b), true);
  });

  it('always queues adds and deletes, and an update of an object never seen', () => {
    const state = watchedState('ARecord', object('ARecord'));
    assert.equal(wakesReconcile('add', state, state), true);
    assert.equal(wakesReconcile('delete', state, state), true);
    assert.equal(wakesReconcile('update', undefined, state), true);
  });
});
