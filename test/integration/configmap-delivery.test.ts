/**
 * configMap delivery as an upgrade and a real cluster meet it (found on the one-node
 * cluster, issue #13): a ConfigMap an older controller made (no label, only its base files)
 * is adopted, not refused; and until the kubelet has put a new base file into the pod (it
 * refreshes a ConfigMap volume about once a minute) the zone says BaseFileNotDelivered and
 * is looked at again every few seconds, then is served. The kubelet's part is played by the
 * test: it copies the ConfigMap's keys into the directory named reads. Real kube-apiserver,
 * real named.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  dig,
  instanceSpec,
  type RunningController,
  startController,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

describe('configMap delivery through an upgrade and a slow kubelet', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let mount: string;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('cm-delivery'));
    named = await startNamed();
    mount = join(named.dir, 'zones-volume');
    await mkdir(mount, { recursive: true });
    // What an older controller left: its ConfigMap, unlabelled, holding only its base files.
    await admin.core.createNamespacedConfigMap({
      namespace: admin.namespace,
      body: {
        metadata: { name: 'legacy-zones' },
        data: {
          'old.test.db':
            '; Base zone file for old.test, rendered by bind9-controller.\n; Every other record is managed with RFC 2136 UPDATE.\n$ORIGIN old.test.\n',
        },
      },
    });
    await admin.keySecret('cm-tsig', named.tsigKey);
    await admin.keySecret('cm-rndc', named.rndcKey);
    const zoneFiles = { configMap: { name: 'legacy-zones', mountPath: mount } };
    await admin.create('Bind9Instance', 'cm', instanceSpec(named, 'cm', { zoneFiles }), {
      delivery: 'cm',
    });
    ctl = await startController(user, admin.namespace);
  });

  after(async () => {
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  it('adopts the older ConfigMap, says BaseFileNotDelivered until the file arrives, then serves the zone', async (t) => {
    await admin.create(
      'DNSZone',
      'fresh',
      zoneSpec('fresh.test', { matchLabels: { delivery: 'cm' } }),
    );
    await admin.create('ARecord', 'www', {
      zone: 'fresh',
      name: 'www',
      ipv4Addresses: ['192.0.2.30'],
    });
    const waiting = await waitReady(admin, 'DNSZone', 'fresh', 'False', 'BaseFileNotDelivered');
    assert.match(waiting.message, /kubelet refreshes a ConfigMap volume/);

    const cm = await admin.core.readNamespacedConfigMap({
      namespace: admin.namespace,
      name: 'legacy-zones',
    });
    assert.equal(
      cm.metadata?.labels?.['app.kubernetes.io/managed-by'],
      'bind9-controller',
      'adopted',
    );
    assert.ok(cm.data?.['old.test.db'], "the older controller's file is kept");
    const file = cm.data?.['fresh.test.db'];
    assert.ok(file?.includes('fresh.test'), 'the new base file is in the ConfigMap');

    // The kubelet's refresh, late: the file appears in the volume.
    const deliveredAt = Date.now();
    await writeFile(join(mount, 'fresh.test.db'), file ?? '');
    await waitReady(admin, 'DNSZone', 'fresh');
    await waitReady(admin, 'ARecord', 'www');
    t.diagnostic(
      `zone Ready ${((Date.now() - deliveredAt) / 1000).toFixed(1)} s after its base file arrived`,
    );
    await waitFor('www.fresh.test answered', async () =>
      (await dig(named, 'www.fresh.test', 'A')).join() === '192.0.2.30' ? true : undefined,
    );
  });
});
