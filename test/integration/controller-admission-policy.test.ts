/**
 * The controller's finalizer added at admission by deploy/admission-policy.yaml (issue #16),
 * against a real kube-apiserver that runs the policy (as the harness's control plane always
 * does) and a real named: the finalizer comes back in the create response, the controller
 * spends no write on it (the API server's own request counts say so), and a record created
 * that way still has its RRset removed before the finalizer goes, also when it is deleted
 * while no controller runs. controller-no-admission-policy.test.ts is the same without it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import { requestCounts } from '../harness/apiserver-metrics.ts';
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

const FINALIZER = 'dns.bind9-controller.io/finalizer';

/** How many more `key` requests (`VERB resource[/subresource]`) the API server counted. */
function grew(before: Map<string, number>, after: Map<string, number>, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

describe('records created through the admission policy', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let ctl: RunningController | undefined;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('admission'));
    named = await startNamed();
    await admin.instance('prim', named, { role: 'primary' });
    ctl = await startController(user, admin.namespace);
    await admin.create('DNSZone', 'ap', zoneSpec('ap.test', { matchLabels: { role: 'primary' } }));
    await waitReady(admin, 'DNSZone', 'ap');
  });

  after(async () => {
    if (process.env.CTRL_LOGS) console.error(ctl?.logs.join(''));
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  it('carry the finalizer in the create response, and the controller makes no finalizer write for them', async () => {
    const before = await requestCounts(cluster.kubeConfig);
    const created = await admin.create('ARecord', 'www', {
      zone: 'ap',
      name: 'www',
      ipv4Addresses: ['192.0.2.10'],
    });
    assert.deepEqual(created.metadata.finalizers, [FINALIZER]);
    await waitReady(admin, 'ARecord', 'www');
    assert.deepEqual(await dig(named, 'www.ap.test', 'A'), ['192.0.2.10']);
    await ctl?.controller.queue.onIdle();
    const after = await requestCounts(cluster.kubeConfig);
    assert.equal(grew(before, after, 'PATCH arecords'), 0, 'no finalizer patch');
    assert.equal(grew(before, after, 'PUT arecords'), 0, 'no update of the record');
    // The counts are read right: the controller's one status write is in them.
    assert.equal(grew(before, after, 'PATCH arecords/status'), 1);
  });

  it('keep the finalizer when the manifest, which does not list it, is applied again', async () => {
    const manifest = (address: string) => ({
      apiVersion: 'dns.bind9-controller.io/v1alpha1',
      kind: 'ARecord',
      metadata: { name: 'applied', namespace: admin.namespace },
      spec: { zone: 'ap', name: 'applied', ipv4Addresses: [address] },
    });
    await cluster.applyManifests(manifest('192.0.2.20'));
    await waitReady(admin, 'ARecord', 'applied');
    await cluster.applyManifests(manifest('192.0.2.21'));
    await waitFor('the new address served', async () =>
      (await dig(named, 'applied.ap.test', 'A')).join() === '192.0.2.21' ? true : undefined,
    );
    assert.deepEqual((await admin.get('ARecord', 'applied'))?.metadata.finalizers, [FINALIZER]);
  });

  it('lose their RRset before the finalizer goes, also when deleted while no controller runs', async () => {
    await admin.create('ARecord', 'gone', {
      zone: 'ap',
      name: 'gone',
      ipv4Addresses: ['192.0.2.30'],
    });
    await waitReady(admin, 'ARecord', 'gone');
    assert.deepEqual(await dig(named, 'gone.ap.test', 'A'), ['192.0.2.30']);
    await ctl?.stop();
    ctl = undefined;
    const before = await requestCounts(cluster.kubeConfig);
    await admin.remove('ARecord', 'gone');
    // The finalizer the API server put on at creation holds the record: nothing removed yet.
    const held = (await admin.get('ARecord', 'gone')) as
      | { metadata: { deletionTimestamp?: string; finalizers?: string[] } }
      | undefined;
    assert.ok(held?.metadata.deletionTimestamp, 'the record waits, marked for deletion');
    assert.deepEqual(held?.metadata.finalizers, [FINALIZER]);
    assert.deepEqual(await dig(named, 'gone.ap.test', 'A'), ['192.0.2.30']);

    ctl = await startController(user, admin.namespace);
    await waitFor('the record gone', async () =>
      (await admin.get('ARecord', 'gone')) === undefined ? true : undefined,
    );
    // Once the record is gone its RRset is gone too: it went first.
    assert.deepEqual(await dig(named, 'gone.ap.test', 'A'), []);
    const after = await requestCounts(cluster.kubeConfig);
    assert.equal(grew(before, after, 'PATCH arecords'), 1, 'one finalizer write: the release');
  });
});
