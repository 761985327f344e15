import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceWorld } from '../../test/fixtures/source-world.ts';
import type { KubeObject } from '../kube/client.ts';
import { parseSourceKey, sourceKey } from './wakes.ts';

const HOST = 'dns.bind9-controller.io/hostname';

function service(status: unknown, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'web',
      namespace: 'ns',
      uid: 'u1',
      annotations: { [HOST]: 'www.example.com' },
    },
    spec: { type: 'LoadBalancer' },
    status,
    ...extra,
  };
}

const lb = (ip: string) => ({ loadBalancer: { ingress: [{ ip }] } });

describe('which source keys an event wakes', () => {
  it('round-trips a key, colons and dots in names included', () => {
    const ref = { kind: 'Ingress' as const, namespace: 'ns', name: 'shop.v2' };
    const [, ns, name] = sourceKey(ref).split('/') as [string, string, string];
    assert.deepEqual(parseSourceKey(ns, name), ref);
    assert.equal(parseSourceKey('ns', 'Pod:x'), undefined);
  });

  it('wakes a Service when what it publishes changes, not for the rest of its status', () => {
    const w = new SourceWorld(['Service']);
    const wakes = w.wakes;
    assert.deepEqual(wakes.keysFor('Service', 'add', service(lb('192.0.2.1')), true), [
      'source/ns/Service:web',
    ]);
    const conditions = { ...lb('192.0.2.1'), conditions: [{ type: 'X', status: 'True' }] };
    assert.deepEqual(wakes.keysFor('Service', 'update', service(conditions), true), []);
    assert.equal(wakes.keysFor('Service', 'update', service(lb('192.0.2.2')), true).length, 1);
    assert.equal(wakes.keysFor('Service', 'delete', service(lb('192.0.2.2')), true).length, 1);
  });

  it('wakes nothing for a Service that asks for nothing and has no records', () => {
    const w = new SourceWorld(['Service']);
    const plain: KubeObject = {
      ...service(lb('192.0.2.1')),
      metadata: { name: 'p', namespace: 'ns', uid: 'u2' },
    };
    assert.deepEqual(w.wakes.keysFor('Service', 'add', plain, true), []);
    assert.deepEqual(w.wakes.keysFor('Service', 'delete', plain, true), []);
  });

  it('only notes events while the caches fill, and then knows every source worth a look', () => {
    const w = new SourceWorld(['Service']);
    assert.deepEqual(w.wakes.keysFor('Service', 'add', service(lb('192.0.2.1')), false), []);
    assert.deepEqual(w.wakes.all(), ['source/ns/Service:web']);
  });

  it('wakes every publishing source when a zone or a namespace label changes', () => {
    const w = new SourceWorld(['Service']);
    w.wakes.keysFor('Service', 'add', service(lb('192.0.2.1')), true);
    const zone: KubeObject = {
      apiVersion: 'x',
      kind: 'DNSZone',
      metadata: { name: 'z', namespace: 'ns', uid: 'z', generation: 1 },
      spec: {},
    };
    assert.deepEqual(w.wakes.keysFor('DNSZone', 'add', zone, true), ['source/ns/Service:web']);
    assert.deepEqual(
      w.wakes.keysFor('DNSZone', 'update', zone, true),
      [],
      'a status write of the zone',
    );
    const namespace: KubeObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team', namespace: '', uid: 'n', labels: { a: '1' } },
      spec: {},
    };
    w.wakes.keysFor('Namespace', 'add', namespace, true);
    const relabelled = { ...namespace, metadata: { ...namespace.metadata, labels: { a: '2' } } };
    assert.deepEqual(w.wakes.keysFor('Namespace', 'update', relabelled, true), [
      'source/ns/Service:web',
    ]);
  });

  it("wakes a generated record's source when its Ready changes, and ignores records someone wrote", () => {
    const w = new SourceWorld(['Service']);
    const record = (ready: string): KubeObject => ({
      apiVersion: 'dns.bind9-controller.io/v1alpha1',
      kind: 'ARecord',
      metadata: {
        name: 'svc-web-www-0',
        namespace: 'ns',
        uid: 'r',
        generation: 1,
        labels: { 'app.kubernetes.io/managed-by': 'bind9-controller' },
        annotations: { 'dns.bind9-controller.io/source': 'Service/ns/web' },
      },
      spec: {},
      status: { conditions: [{ type: 'Ready', status: ready, reason: 'R', message: '' }] },
    });
    assert.deepEqual(w.wakes.keysFor('ARecord', 'add', record('False'), true), [
      'source/ns/Service:web',
    ]);
    assert.deepEqual(w.wakes.keysFor('ARecord', 'update', record('False'), true), []);
    assert.deepEqual(w.wakes.keysFor('ARecord', 'update', record('True'), true), [
      'source/ns/Service:web',
    ]);
    const handWritten = { ...record('True'), metadata: { name: 'www', namespace: 'ns', uid: 'h' } };
    assert.deepEqual(w.wakes.keysFor('ARecord', 'add', handWritten, true), []);
  });
});
