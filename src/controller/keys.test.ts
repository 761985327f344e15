import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DNSZone } from '../api/kinds.ts';
import type { KubeObject } from '../kube/client.ts';
import { keysFor, parseKey, type ZoneView, zoneKey } from './keys.ts';

const zone = (namespace: string, name: string, zoneName: string) =>
  ({ kind: 'DNSZone', metadata: { namespace, name }, spec: { zoneName } }) as unknown as DNSZone;
const zones = [
  zone('a', 'example', 'example.test'),
  zone('a', 'other', 'other.test'),
  zone('b', 'copy', 'Example.Test.'),
];
const view: ZoneView = {
  zones: (ns) => zones.filter((z) => ns === undefined || z.metadata.namespace === ns),
};
const record = (specZone: string, pointer?: string) =>
  ({
    kind: 'ARecord',
    metadata: { namespace: 'a', name: 'www' },
    spec: { zone: specZone, name: 'www' },
    ...(pointer === undefined ? {} : { status: { zone: pointer } }),
  }) as unknown as KubeObject;

describe('keysFor', () => {
  it('wakes an instance and every zone of its namespace (its labels are what zones select)', () => {
    const instance = { kind: 'Bind9Instance', metadata: { namespace: 'a', name: 'p' } };
    assert.deepEqual(keysFor('Bind9Instance', instance as KubeObject, undefined, view), [
      'instance/a/p',
      'zone/a/example',
      'zone/a/other',
    ]);
  });

  it('wakes a Bind9Cluster', () => {
    const cluster = { kind: 'Bind9Cluster', metadata: { namespace: 'a', name: 'c' } };
    assert.deepEqual(keysFor('Bind9Cluster', cluster as KubeObject, undefined, view), [
      'cluster/a/c',
    ]);
  });

  it('wakes a DNSZone and every DNSZone for the same zone name, in any namespace', () => {
    assert.deepEqual(keysFor('DNSZone', zones[0] as KubeObject, undefined, view), [
      'zone/a/example',
      'zone/b/copy',
    ]);
  });

  it('wakes the zone of a record', () => {
    assert.deepEqual(keysFor('ARecord', record('example'), undefined, view), ['zone/a/example']);
  });

  it('wakes the zone a record left, and the zone its status still names', () => {
    const previous = { state: 's', zone: 'old' };
    assert.deepEqual(keysFor('ARecord', record('example'), previous, view), [
      'zone/a/old',
      'zone/a/example',
    ]);
    assert.deepEqual(keysFor('ARecord', record('example', 'elsewhere'), undefined, view), [
      'zone/a/elsewhere',
      'zone/a/example',
    ]);
    assert.deepEqual(keysFor('ARecord', record('example', 'old'), previous, view), [
      'zone/a/old',
      'zone/a/example',
    ]);
  });

  it('makes keys parseKey reads back', () => {
    assert.deepEqual(parseKey(zoneKey('a', 'example')), {
      kind: 'zone',
      namespace: 'a',
      name: 'example',
    });
    assert.equal(parseKey('zone/a'), undefined);
  });
});
