/**
 * Zones between tenants (issue #18, items 4 and 5), against a real kube-apiserver and real
 * named servers, the controller watching two namespaces with deploy/'s RBAC:
 * - two namespaces, each with a server of its own, may both serve the same zone name;
 * - a DNSZone of namespace A inside namespace B's zone on B's server is a Conflict and
 *   serves nothing, until B's zone lets A publish (spec.publish.namespaceSelector): then it
 *   is served, and B's record it shadows says which zone serves that name now.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  dig,
  type RunningController,
  startController,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

describe('zones between tenants', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let a: Admin;
  let b: Admin;
  let serverA: NamedServer;
  let serverB: NamedServer;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    a = new Admin(cluster, await cluster.createNamespace('tenant-a'));
    b = new Admin(cluster, await cluster.createNamespace('tenant-b'));
    serverA = await startNamed();
    serverB = await startNamed();
    await a.instance('own', serverA, { server: 'own' });
    await b.instance('own', serverB, { server: 'own' });
    // Namespace A's instance of B's server: what a tenant would write to intrude.
    await a.instance('b-server', serverB, { server: 'b' });
    ctl = await startController(user, a.namespace, ['--namespace', b.namespace]);
  });

  after(async () => {
    await ctl?.stop();
    await Promise.all([serverA?.stop(), serverB?.stop()]);
    await cluster?.stop();
  });

  async function answers(named: NamedServer, name: string, want: string[]) {
    await waitFor(`${name} A = ${want.join(',')}`, async () =>
      (await dig(named, name, 'A')).join() === want.join() ? true : undefined,
    );
  }

  it('serves one zone name from two namespaces on two servers, both Ready', async () => {
    await a.create(
      'DNSZone',
      'victim',
      zoneSpec('victim.example', { matchLabels: { server: 'own' } }),
    );
    await b.create(
      'DNSZone',
      'victim',
      zoneSpec('victim.example', { matchLabels: { server: 'own' } }),
    );
    await a.create('ARecord', 'www', { zone: 'victim', name: 'www', ipv4Addresses: ['192.0.2.1'] });
    await b.create('ARecord', 'www', { zone: 'victim', name: 'www', ipv4Addresses: ['192.0.2.2'] });
    await waitReady(a, 'DNSZone', 'victim');
    await waitReady(b, 'DNSZone', 'victim');
    await answers(serverA, 'www.victim.example', ['192.0.2.1']);
    await answers(serverB, 'www.victim.example', ['192.0.2.2']);
    await waitReady(a, 'ARecord', 'www');
    await waitReady(b, 'ARecord', 'www');
  });

  it("refuses a child zone inside another tenant's zone, then serves it once the parent allows, shadowing the parent's record", async () => {
    await b.create(
      'DNSZone',
      'b-example',
      zoneSpec('b.example', { matchLabels: { server: 'own' } }),
    );
    await b.create('ARecord', 'x-sub', {
      zone: 'b-example',
      name: 'x.sub',
      ipv4Addresses: ['192.0.2.20'],
    });
    await waitReady(b, 'ARecord', 'x-sub');
    await answers(serverB, 'x.sub.b.example', ['192.0.2.20']);

    await a.create('DNSZone', 'sub', zoneSpec('sub.b.example', { matchLabels: { server: 'b' } }));
    await a.create('ARecord', 'x', { zone: 'sub', name: 'x', ipv4Addresses: ['198.51.100.1'] });
    const refused = await waitReady(a, 'DNSZone', 'sub', 'False', 'Conflict');
    assert.match(refused.message, /inside zone b\.example/);
    await waitReady(a, 'ARecord', 'x', 'False', 'ZoneNotReady');
    assert.deepEqual(await dig(serverB, 'x.sub.b.example', 'A'), ['192.0.2.20']);
    assert.deepEqual(await dig(serverB, 'sub.b.example', 'SOA'), [], 'no zone sub.b.example on B');
    assert.equal((await b.ready('ARecord', 'x-sub'))?.status, 'True');

    const allowA = { matchLabels: { 'kubernetes.io/metadata.name': a.namespace } };
    await b.patchSpec('DNSZone', 'b-example', { publish: { namespaceSelector: allowA } });
    await waitReady(a, 'DNSZone', 'sub');
    await answers(serverB, 'x.sub.b.example', ['198.51.100.1']);
    await waitReady(a, 'ARecord', 'x');
    const shadowed = await waitReady(b, 'ARecord', 'x-sub', 'False', 'ShadowedByChildZone');
    assert.match(shadowed.message, new RegExp(`${a.namespace}/sub`));
  });
});
