/**
 * The one control plane without deploy/admission-policy.yaml (an older cluster, or one
 * where the policy is not installed; issue #16): nothing depends on the policy. A record
 * comes back from its create without the finalizer, the controller adds it with a write of
 * its own, serves the record, and on deletion removes the RRset before the finalizer goes.
 * This file starts a control plane of its own, even when the suite shares one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import { requestCounts } from '../harness/apiserver-metrics.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';
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

describe('without the admission policy', { timeout: 400_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let ctl: RunningController | undefined;

  before(async () => {
    // First: every later useCluster() of this process (clusterWithRbac's) gets this one.
    await useCluster({ admissionPolicy: false });
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('no-admission'));
    named = await startNamed();
    await admin.instance('prim', named, { role: 'primary' });
    ctl = await startController(user, admin.namespace);
    await admin.create('DNSZone', 'np', zoneSpec('np.test', { matchLabels: { role: 'primary' } }));
    await waitReady(admin, 'DNSZone', 'np');
  });

  after(async () => {
    if (process.env.CTRL_LOGS) console.error(ctl?.logs.join(''));
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  it('the controller adds the finalizer a record was created without, serves it, and removes its RRset before the finalizer goes', async () => {
    const before = await requestCounts(cluster.kubeConfig);
    const created = await admin.create('ARecord', 'www', {
      zone: 'np',
      name: 'www',
      ipv4Addresses: ['192.0.2.40'],
    });
    assert.equal(created.metadata.finalizers, undefined, 'no policy: created without it');
    await waitReady(admin, 'ARecord', 'www');
    assert.deepEqual((await admin.get('ARecord', 'www'))?.metadata.finalizers, [FINALIZER]);
    assert.deepEqual(await dig(named, 'www.np.test', 'A'), ['192.0.2.40']);
    const after = await requestCounts(cluster.kubeConfig);
    const patches = (after.get('PATCH arecords') ?? 0) - (before.get('PATCH arecords') ?? 0);
    assert.equal(patches, 1, 'the controller wrote the finalizer itself');

    await admin.remove('ARecord', 'www');
    await waitFor('the record gone', async () =>
      (await admin.get('ARecord', 'www')) === undefined ? true : undefined,
    );
    assert.deepEqual(await dig(named, 'www.np.test', 'A'), []);
  });
});
