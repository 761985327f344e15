/**
 * The Bind9Cluster reconcile against an in-memory context: an API that applies and
 * allocates cluster IPs like the real one, caches, a recording ServerConfig, a manual
 * clock. The real API server and real named are in test/integration (cluster-*.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Bind9Cluster, Bind9Instance } from '../../api/kinds.ts';
import { API_GROUP_VERSION } from '../../api/meta.ts';
import { validateResource } from '../../api/validate.ts';
import type { ConfigTarget, ServerConfig } from '../../bind/server-config.ts';
import type { SecretKey } from '../../dns/keyfile.ts';
import type { ApiResource, Applied, LiveObject, Manifest } from '../../kube/apply.ts';
import type { ObjectRef } from '../../kube/client.ts';
import { ManualClock } from '../../kube/clock.ts';
import { MemoryEventRecorder } from '../../kube/events.ts';
import type { Store } from '../../kube/informer.ts';
import { KubeTransientError } from '../../kube/rest.ts';
import { type KeyRef, keyFromSecretData } from '../../kube/secrets.ts';
import type { ClusterApi, ClusterContext } from './context.ts';
import { reconcileCluster } from './reconcile.ts';

type Json = Record<string, unknown>;

class MemoryStore<T extends { metadata: { namespace: string; name: string } }> implements Store<T> {
  readonly items = new Map<string, T>();
  get(namespace: string, name: string) {
    return this.items.get(`${namespace}/${name}`);
  }
  list(namespace?: string) {
    return [...this.items.values()].filter(
      (i) => namespace === undefined || i.metadata.namespace === namespace,
    );
  }
  set(item: T) {
    this.items.set(`${item.metadata.namespace}/${item.metadata.name}`, item);
  }
}

/** Applies like the API server: whole objects, uid and cluster IP kept, 201 on create. */
class MemoryApi implements ClusterApi {
  readonly objects = new Map<string, Json>();
  readonly calls: string[] = [];
  #ips = 10;
  #uids = 0;

  static id(kind: string, namespace: string, name: string) {
    return `${kind}/${namespace}/${name}`;
  }
  async apply(_plural: string, m: Manifest): Promise<Applied> {
    const id = MemoryApi.id(m.kind, m.metadata.namespace, m.metadata.name);
    const old = this.objects.get(id) as LiveObject | undefined;
    const spec = { ...((m.spec as Json | undefined) ?? {}) };
    if (m.kind === 'Service' && spec.clusterIP === undefined) {
      spec.clusterIP = (old?.spec as Json | undefined)?.clusterIP ?? `10.96.0.${this.#ips++}`;
    }
    const uid = old?.metadata.uid ?? `uid-${++this.#uids}`;
    const object = { ...m, spec, metadata: { ...m.metadata, uid }, status: old?.status ?? {} };
    this.objects.set(id, object);
    this.calls.push(`apply ${m.kind}/${m.metadata.name}`);
    return { object: object as unknown as LiveObject, created: old === undefined };
  }
  async get(type: ApiResource, namespace: string, name: string) {
    return this.objects.get(MemoryApi.id(type.kind, namespace, name)) as LiveObject | undefined;
  }
  async create(type: ApiResource, m: Manifest): Promise<LiveObject> {
    const id = MemoryApi.id(type.kind, m.metadata.namespace, m.metadata.name);
    if (this.objects.has(id)) throw new KubeTransientError('HTTP_409', 'exists', { status: 409 });
    this.objects.set(id, { ...m, metadata: { ...m.metadata, uid: `uid-${++this.#uids}` } });
    this.calls.push(`create ${type.kind}/${m.metadata.name}`);
    return this.objects.get(id) as LiveObject;
  }
  async delete(type: ApiResource, namespace: string, name: string) {
    this.calls.push(`delete ${type.kind}/${name}`);
    this.objects.delete(MemoryApi.id(type.kind, namespace, name));
  }
  async readSecret(namespace: string, name: string) {
    const secret = this.objects.get(MemoryApi.id('Secret', namespace, name));
    return secret === undefined ? undefined : { ...(secret.stringData as Record<string, string>) };
  }
  of(kind: string, name: string): Json {
    const found = this.objects.get(MemoryApi.id(kind, 'dns', name));
    assert.ok(found, `${kind}/${name}`);
    return found;
  }
  names(kind: string): string[] {
    return [...this.objects.keys()]
      .filter((k) => k.startsWith(`${kind}/`))
      .map((k) => k.split('/')[2]!);
  }
}

/** Which configuration each server runs, by DNS address; reconfig makes it load `next`. */
class MemoryServers implements ServerConfig {
  readonly loaded = new Map<string, string>();
  readonly reconfigs: string[] = [];
  next: ((address: string) => string | undefined) | undefined;
  async loadedConfig(t: ConfigTarget) {
    return this.loaded.get(t.dns.address);
  }
  async reconfig(t: ConfigTarget) {
    this.reconfigs.push(t.dns.address);
    const next = this.next?.(t.dns.address);
    if (next !== undefined) this.loaded.set(t.dns.address, next);
  }
}

/** Base files are the zone reconcile's business: this one never writes any. */
const NO_FILES = {
  where: 'nowhere',
  write: () => assert.fail('no base file is written here'),
  remove: () => assert.fail('no base file is removed here'),
};

function world(spec: Json = {}, name = 'edge') {
  const api = new MemoryApi();
  const servers = new MemoryServers();
  const clusters = new MemoryStore<Bind9Cluster>();
  const instances = new MemoryStore<Bind9Instance>();
  const events = new MemoryEventRecorder();
  const logs: string[] = [];
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const validated = validateResource('Bind9Cluster', {
    apiVersion: API_GROUP_VERSION,
    kind: 'Bind9Cluster',
    metadata: { name: 'edge', namespace: 'dns', uid: 'cluster-uid', generation: 1 },
    spec,
  });
  assert.ok(validated.ok, JSON.stringify(validated));
  // Renamed after validation: a name the API server would refuse can be tried too.
  clusters.set({ ...validated.value, metadata: { ...validated.value.metadata, name } });
  const keys = {
    async key(namespace: string, ref: KeyRef): Promise<SecretKey> {
      const data = await api.readSecret(namespace, ref.name);
      assert.ok(data, ref.name);
      return keyFromSecretData(data, ref.name, ref.keyName);
    },
    invalidate() {},
  };
  const writer = {
    async patchStatus(ref: ObjectRef, status: unknown) {
      const c = clusters.get(ref.namespace, ref.name)!;
      clusters.set({ ...c, status: status as Bind9Cluster['status'] });
    },
    async setFinalizers() {},
  };
  const ctx: ClusterContext = {
    clusters,
    instances,
    api,
    writer,
    events,
    keys,
    files: { configMap: () => NO_FILES, directory: () => NO_FILES },
    servers,
    clock,
    log: pino({ level: 'debug' }, { write: (line: string) => logs.push(line) }),
    controller: {
      namespace: 'bind9-controller-system',
      labels: { 'app.kubernetes.io/name': 'bind9-controller' },
    },
    reconfigured: new Map(),
  };
  const cluster = () => clusters.get('dns', name)!;
  const run = () => reconcileCluster(ctx, 'dns', name);
  /** What kubelet, the StatefulSet controller and the instance reconcile would do. */
  const podsServe = (loadedFrom: 'current' | 'none' = 'current') => {
    for (const set of api.names('StatefulSet')) {
      const s = api.of('StatefulSet', set);
      const replicas = (s.spec as { replicas: number }).replicas;
      s.status = { observedGeneration: 0, readyReplicas: replicas, updatedReplicas: replicas };
    }
    instances.items.clear();
    for (const name of api.names('Bind9Instance')) {
      const i = api.of('Bind9Instance', name) as unknown as Bind9Instance;
      instances.set({
        ...i,
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'Reachable',
              message: '',
              lastTransitionTime: '2026-12-01T00:00:00Z',
            },
          ],
        },
      });
      const role = i.spec.role;
      const conf = String((api.of('ConfigMap', 'edge-config').data as Json)[`${role}.conf`]);
      const id = /server-id "([^"]+)"/.exec(conf)?.[1];
      if (loadedFrom === 'current' && id !== undefined) servers.loaded.set(i.spec.dns.address, id);
    }
  };
  return { api, servers, clusters, instances, events, logs, clock, ctx, cluster, run, podsServe };
}

const ready = (c: Bind9Cluster) => c.status?.conditions?.find((x) => x.type === 'Ready');

describe('reconcileCluster', () => {
  it('generates both keys, creates every object, and says the pods are not Ready yet', async () => {
    const w = world({ secondaries: { replicas: 2 } });
    const outcome = await w.run();
    assert.equal(outcome.result, 'requeue');
    assert.deepEqual(w.api.names('Secret').sort(), ['edge-rndc-key', 'edge-tsig-key']);
    assert.deepEqual(w.api.names('Bind9Instance').sort(), [
      'edge-primary-0',
      'edge-secondary-0',
      'edge-secondary-1',
    ]);
    assert.deepEqual(ready(w.cluster())?.reason, 'PodsNotReady');
    const reasons = w.events.events.map((e) => e.reason);
    assert.deepEqual(reasons, ['KeyGenerated', 'KeyGenerated', 'Created', 'PodsNotReady']);
    assert.equal(w.cluster().status?.tsigKeySecret, 'edge-tsig-key');
    assert.equal(w.cluster().status?.serviceAddress, '10.96.0.10');
  });

  it('keeps the keys and creates nothing on the next run: same Secrets, no new Events', async () => {
    const w = world();
    await w.run();
    const tsig = JSON.stringify(w.api.of('Secret', 'edge-tsig-key'));
    const events = w.events.events.length;
    w.api.calls.length = 0;
    await w.run();
    assert.equal(JSON.stringify(w.api.of('Secret', 'edge-tsig-key')), tsig);
    assert.ok(!w.api.calls.some((c) => c.startsWith('create')), w.api.calls.join(', '));
    assert.equal(w.events.events.length, events);
  });

  it('is Ready once every pod is Ready, every instance Ready and every named runs the current named.conf', async () => {
    const w = world({ secondaries: { replicas: 2 } });
    await w.run();
    await w.run(); // the primary's NOTIFY list now holds the secondaries' addresses
    w.podsServe();
    assert.deepEqual(await w.run(), { result: 'ok' });
    assert.equal(ready(w.cluster())?.status, 'True');
    assert.equal(ready(w.cluster())?.reason, 'Serving');
    assert.deepEqual(w.cluster().status?.secondaries, { replicas: 2, readyReplicas: 2 });
    assert.equal(
      w.cluster().status?.instances?.every((i) => i.ready && i.configured),
      true,
    );
    assert.deepEqual(w.servers.reconfigs, []);
  });

  it('sends rndc reconfig to a named that runs an older named.conf, at most every 10 s, until it runs the new one', async () => {
    const w = world();
    await w.run();
    w.podsServe('none');
    await w.run();
    assert.equal(ready(w.cluster())?.reason, 'ConfigPending');
    assert.equal(w.servers.reconfigs.length, 2, 'both pods asked');
    const reconfigured = w.events.events.filter((e) => e.reason === 'Reconfigured');
    assert.match(
      reconfigured[0]?.message ?? '',
      /^sent rndc reconfig to edge-primary-0: it runs no named\.conf of ours, the ConfigMap has cfg-/,
    );
    await w.run();
    assert.equal(w.servers.reconfigs.length, 2, 'not again within 10 s');
    w.clock.advance(10_000);
    w.podsServe('current');
    assert.deepEqual(await w.run(), { result: 'ok' });
    assert.equal(w.servers.reconfigs.length, 2);
  });

  it('changes only the ConfigMap for a changed option, and the StatefulSets not at all', async () => {
    const w = world();
    await w.run();
    const sets = JSON.stringify(
      w.api.names('StatefulSet').map((n) => w.api.of('StatefulSet', n).spec),
    );
    const config = JSON.stringify(w.api.of('ConfigMap', 'edge-config'));
    const c = w.cluster();
    w.clusters.set({
      ...c,
      spec: { ...c.spec, options: { ...c.spec.options, allowQuery: ['10.0.0.0/8'] } },
    });
    await w.run();
    assert.equal(
      JSON.stringify(w.api.names('StatefulSet').map((n) => w.api.of('StatefulSet', n).spec)),
      sets,
    );
    assert.notEqual(JSON.stringify(w.api.of('ConfigMap', 'edge-config')), config);
  });

  it('scales down: the pods go with the StatefulSet, then their instances and Services', async () => {
    const w = world({ secondaries: { replicas: 3 } });
    await w.run();
    w.podsServe();
    await w.run();
    const c = w.cluster();
    w.clusters.set({
      ...c,
      spec: { ...c.spec, secondaries: { ...c.spec.secondaries, replicas: 1 } },
    });
    w.api.calls.length = 0;
    await w.run();
    assert.deepEqual(w.api.names('Bind9Instance').sort(), ['edge-primary-0', 'edge-secondary-0']);
    assert.ok(!w.api.names('Service').includes('edge-secondary-2'));
    const scaled = w.api.calls.indexOf('apply StatefulSet/edge-secondary');
    assert.ok(scaled >= 0 && scaled < w.api.calls.indexOf('delete Bind9Instance/edge-secondary-1'));
    const scaledDown = w.events.events.find((e) => e.reason === 'ScaledDown');
    assert.match(scaledDown?.message ?? '', /edge-secondary-1, edge-secondary-2/);
  });

  it('uses a Secret of the user\u2019s, names the field when it lacks keyfile or is missing, and never creates one', async () => {
    const w = world({ tsigKeySecretRef: { name: 'mine' } });
    assert.equal((await w.run()).result, 'permanent');
    assert.equal(ready(w.cluster())?.reason, 'SecretNotFound');
    assert.match(
      ready(w.cluster())?.message ?? '',
      /spec\.tsigKeySecretRef: Secret dns\/mine not found/,
    );
    await w.api.create(
      { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'mine', namespace: 'dns' },
        stringData: {
          name: 'mine',
          algorithm: 'hmac-sha256',
          secret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=',
        },
      },
    );
    await w.run();
    assert.equal(ready(w.cluster())?.reason, 'InvalidKey');
    assert.match(ready(w.cluster())?.message ?? '', /spec\.tsigKeySecretRef: .*no "keyfile" field/);
    assert.doesNotMatch(JSON.stringify([w.cluster().status, w.events.events, w.logs]), /c2VjcmV0/);
  });

  it('refuses a name the CRD would refuse, with InvalidSpec naming metadata.name', async () => {
    const w = world({}, 'x'.repeat(41));
    assert.equal((await w.run()).result, 'permanent');
    assert.equal(ready(w.cluster())?.reason, 'InvalidSpec');
    assert.match(ready(w.cluster())?.message ?? '', /^metadata\.name: /);
    assert.equal(w.api.objects.size, 0);
  });

  it('puts no key material in status, Events or logs', async () => {
    const w = world({ secondaries: { replicas: 2 } });
    await w.run();
    w.podsServe('none');
    await w.run();
    const secrets = w.api
      .names('Secret')
      .map((n) => String((w.api.of('Secret', n).stringData as Json).keyfile));
    const values = secrets.map((k) => /secret "([^"]+)"/.exec(k)?.[1] ?? assert.fail('no secret'));
    const text = JSON.stringify([
      w.cluster().status,
      w.events.events,
      w.logs,
      [...w.api.objects.values()].filter((o) => o.kind !== 'Secret'),
    ]);
    for (const value of values) {
      for (let i = 0; i + 8 <= value.length; i++)
        assert.ok(!text.includes(value.slice(i, i + 8)), 'a key leaked');
    }
  });

  it('leaves a cluster being deleted to the garbage collector: no call, no finalizer', async () => {
    const w = world();
    const c = w.cluster();
    w.clusters.set({
      ...c,
      metadata: { ...c.metadata, deletionTimestamp: '2026-12-01T00:00:00Z' },
    });
    assert.deepEqual(await w.run(), { result: 'ok' });
    assert.equal(w.api.calls.length, 0);
  });
});
