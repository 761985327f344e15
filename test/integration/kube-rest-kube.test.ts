/**
 * RestKube (src/kube/rest-kube.ts), the `Kube`-shaped facade on our REST client, against a
 * real kube-apiserver: the calls the controller makes, with client.ts's semantics (404 on a
 * read is undefined, on a write is ignored; stale writes are 409).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/kube/client.ts';
import { isConflict } from '../../src/kube/rest.ts';
import { microTime, RestKube } from '../../src/kube/rest-kube.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';

let cluster: Cluster;
let kube: RestKube;
let ns: string;

type Spec = { zone: string; name: string; ipv4Addresses: string[] };

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  assert.fail('expected the request to fail');
}

async function createRecord(name: string): Promise<KubeObject<Spec>> {
  return kube.rest.request(
    'POST',
    `/apis/dns.bind9-controller.io/v1alpha1/namespaces/${ns}/arecords`,
    {
      body: {
        apiVersion: 'dns.bind9-controller.io/v1alpha1',
        kind: 'ARecord',
        metadata: { name },
        spec: { zone: 'example', name, ipv4Addresses: ['192.0.2.1'] },
      },
    },
  );
}

before(async () => {
  cluster = await useCluster();
  kube = await RestKube.connect({ kubeconfig: cluster.kubeconfigPath });
  ns = await cluster.createNamespace('rest-kube');
});
after(async () => {
  kube?.close();
  await cluster?.stop();
});

describe('RestKube', () => {
  it('lists, gets, patches status and reads nothing for a missing object', async () => {
    await createRecord('a');
    const list = await kube.list<KubeObject<Spec>>('arecords', ns);
    assert.deepEqual(
      list.items.map((o) => o.metadata.name),
      ['a'],
    );
    assert.ok(list.metadata.resourceVersion);
    const all = await kube.list<KubeObject<Spec>>('arecords');
    assert.ok(all.items.some((o) => o.metadata.namespace === ns));
    const ref = { plural: 'arecords', namespace: ns, name: 'a' };
    await kube.patchStatus(ref, { observedGeneration: 1 });
    const got = await kube.get<KubeObject<Spec, { observedGeneration: number }>>(ref);
    assert.equal(got?.status?.observedGeneration, 1);
    assert.equal(await kube.get({ ...ref, name: 'absent' }), undefined);
    await kube.patchStatus({ ...ref, name: 'absent' }, { observedGeneration: 1 });
  });

  it('sets finalizers, refusing a stale resourceVersion with 409', async () => {
    const created = await createRecord('fin');
    const ref = { plural: 'arecords', namespace: ns, name: 'fin' };
    await kube.setFinalizers(
      ref,
      ['dns.bind9-controller.io/cleanup'],
      created.metadata.resourceVersion,
    );
    assert.deepEqual((await kube.get(ref))?.metadata.finalizers, [
      'dns.bind9-controller.io/cleanup',
    ]);
    const stale = await failure(kube.setFinalizers(ref, [], created.metadata.resourceVersion));
    assert.ok(isConflict(stale), String(stale));
    await kube.setFinalizers(ref, []);
    assert.equal((await kube.get(ref))?.metadata.finalizers, undefined);
  });

  it('reads a Secret decoded, and undefined for a missing one', async () => {
    await kube.rest.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
      body: { metadata: { name: 'k' }, data: { secret: Buffer.from('s3cr3t').toString('base64') } },
    });
    assert.deepEqual(await kube.readSecret(ns, 'k'), { secret: 's3cr3t' });
    assert.equal(await kube.readSecret(ns, 'absent'), undefined);
  });

  it('creates and patches an Event and a ConfigMap', async () => {
    const now = new Date().toISOString();
    await kube.createEvent(ns, {
      metadata: { name: 'e1' },
      involvedObject: { kind: 'ARecord', name: 'a', namespace: ns },
      type: 'Normal',
      reason: 'Applied',
      message: 'served',
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
    });
    const patched = await kube.patchEvent(ns, 'e1', { count: 2 });
    assert.equal(patched.count, 2);
    await kube.createConfigMap(ns, { metadata: { name: 'zones' }, data: { 'a.zone': '$TTL 300' } });
    const cm = await kube.patchConfigMap(ns, 'zones', { data: { 'b.zone': '$TTL 60' } });
    assert.deepEqual(cm.data, { 'a.zone': '$TTL 300', 'b.zone': '$TTL 60' });
  });

  it('creates, reads and replaces a Lease with MicroTime, refusing a stale replace', async () => {
    assert.equal(await kube.readLease(ns, 'leader'), undefined);
    const spec = {
      holderIdentity: 'one',
      leaseDurationSeconds: 15,
      acquireTime: microTime(Date.now()),
      renewTime: microTime(Date.now()),
    };
    await kube.createLease(ns, { metadata: { name: 'leader' }, spec });
    const read = (await kube.readLease(ns, 'leader')) as {
      metadata: { resourceVersion: string };
      spec: { renewTime: string };
    };
    assert.match(read.spec.renewTime, /\.\d{6}Z$/);
    const renewed = { ...read, spec: { ...read.spec, renewTime: microTime(Date.now() + 1000) } };
    await kube.replaceLease(ns, 'leader', renewed);
    const stale = await failure(kube.replaceLease(ns, 'leader', renewed));
    assert.ok(isConflict(stale), String(stale));
  });

  it('watches a kind through the facade', async () => {
    const start = await kube.list('arecords', ns);
    const events = kube.watch<KubeObject<Spec>>('arecords', ns, {
      resourceVersion: start.metadata.resourceVersion,
      timeoutSeconds: 30,
    });
    const first = events.next();
    await createRecord('watched');
    const event = (await first).value;
    assert.equal(event?.type, 'ADDED');
    assert.equal(event?.object.metadata.name, 'watched');
    await events.return();
  });
});

describe('microTime', () => {
  it('writes six fractional digits, as the API server does', () => {
    assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 67)), '2026-01-02T03:04:05.067000Z');
  });
});
