/**
 * The Bind9Cluster reconcile against a real kube-apiserver, as the controller's user
 * (bound only to deploy/clusterrole.yaml): applying a Bind9Cluster creates exactly the
 * objects it owns, each with an owner reference, by server-side apply under our field
 * manager; a spec change patches them (StatefulSets keep their uid, and an option changes
 * only the ConfigMap); scaling adds and removes a pod's instance and Service; keys stay
 * the same across reconciles and appear in no status, Event or log line; the cluster
 * carries no finalizer, so it is deleted at once. (Bad values are refused by the API
 * server naming the field: the Bind9Cluster rows of test/fixtures/resources.ts, sent by
 * control-plane.test.ts.)
 *
 * There are no pods here (no kubelet): nothing talks to the instances' addresses, which
 * are cluster IPs of the test API server's Service range. The ServerConfig fails the test
 * if it is ever asked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Bind9Cluster, Bind9Instance } from '../../src/api/kinds.ts';
import type { ZoneBackend } from '../../src/bind/backend.ts';
import { parseConfig } from '../../src/controller/config.ts';
import { Controller } from '../../src/controller/controller.ts';
import { TransientError } from '../../src/errors.ts';
import { type LiveObject, ObjectApplier } from '../../src/kube/apply.ts';
import { Kube } from '../../src/kube/client.ts';
import { systemClock } from '../../src/kube/clock.ts';
import { KubeEventRecorder } from '../../src/kube/events.ts';
import { ResilientInformer } from '../../src/kube/informer.ts';
import { resourcePath } from '../../src/kube/rest.ts';
import { SecretKeyCache } from '../../src/kube/secrets.ts';
import type { ClusterContext } from '../../src/reconcilers/cluster/context.ts';
import { reconcileCluster } from '../../src/reconcilers/cluster/reconcile.ts';
import type { Cluster } from '../harness/cluster.ts';
import { Admin, clusterWithRbac } from './controller-helpers.ts';

const OWNED: readonly [string, string][] = [
  ['dns.bind9-controller.io/v1alpha1', 'bind9instances'],
  ['v1', 'services'],
  ['v1', 'configmaps'],
  ['v1', 'secrets'],
  ['apps/v1', 'statefulsets'],
  ['policy/v1', 'poddisruptionbudgets'],
  ['networking.k8s.io/v1', 'networkpolicies'],
];

let cluster: Cluster;
let user: Kube;
let admin: Kube;
let ns = '';
let objects: Admin;
let clusters: ResilientInformer<Bind9Cluster>;
let instances: ResilientInformer<Bind9Instance>;
let ctx: ClusterContext;
const logs: string[] = [];

type Json = Record<string, unknown>;

function pathOf(apiVersion: string, plural: string, name?: string) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return resourcePath({
    ...(group ? { group } : {}),
    version: version!,
    plural,
    namespace: ns,
    ...(name ? { name } : {}),
  });
}

/** Every object of the owned kinds in the namespace, as `plural/name`. */
async function everything(): Promise<Map<string, LiveObject>> {
  const found = new Map<string, LiveObject>();
  for (const [apiVersion, plural] of OWNED) {
    const list = await admin.rest.request<{ items: LiveObject[] }>(
      'GET',
      pathOf(apiVersion, plural),
    );
    for (const item of list.items) found.set(`${plural}/${item.metadata.name}`, item);
  }
  return found;
}

const CLUSTERS = {
  apiVersion: 'dns.bind9-controller.io/v1alpha1',
  kind: 'Bind9Cluster',
  plural: 'bind9clusters',
};

/** The Bind9Cluster as the API server has it now. */
function liveCluster(): Promise<LiveObject | undefined> {
  return new ObjectApplier(admin).get(CLUSTERS, ns, 'edge');
}

async function reconcile(): Promise<void> {
  // Let the caches see what the API server has (the last status write, new instances).
  const deadline = Date.now() + 30_000;
  const target = await liveCluster();
  while (
    clusters.get(ns, 'edge')?.metadata.resourceVersion !== target?.metadata.resourceVersion &&
    Date.now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const outcome = await reconcileCluster(ctx, ns, 'edge');
  assert.ok(['ok', 'requeue'].includes(outcome.result), JSON.stringify(outcome));
}

async function waitForInstances(count: number) {
  const deadline = Date.now() + 30_000;
  while (instances.list(ns).length !== count) {
    if (Date.now() > deadline) assert.fail(`the cache never held ${count} instances`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  ({ cluster, user } = await clusterWithRbac());
  admin = await Kube.connect({ kubeconfig: cluster.kubeconfigPath });
  ns = await cluster.createNamespace('cluster-objects');
  objects = new Admin(cluster, ns);
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const informer = <T extends Bind9Cluster | Bind9Instance>(plural: string) =>
    new ResilientInformer<T>({
      kube: user,
      plural,
      namespace: ns,
      clock: systemClock,
      log,
      onChange: () => {},
    });
  clusters = informer('bind9clusters');
  instances = informer('bind9instances');
  await Promise.all([clusters.start(), instances.start()]);
  const applier = new ObjectApplier(user);
  ctx = {
    clusters,
    instances,
    api: applier,
    writer: user,
    events: new KubeEventRecorder(user, systemClock, log),
    keys: new SecretKeyCache(user, systemClock),
    files: {
      configMap: () => assert.fail('no base file here'),
      directory: () => assert.fail('no base file here'),
    },
    servers: {
      loadedConfig: () => assert.fail('no pod here to ask'),
      reconfig: () => assert.fail('no pod here to ask'),
    },
    clock: systemClock,
    log,
    controller: {
      namespace: 'bind9-controller-system',
      labels: { 'app.kubernetes.io/name': 'bind9-controller' },
    },
    reconfigured: new Map(),
  };
  await objects.create('Bind9Cluster', 'edge', { secondaries: { replicas: 2 } });
  await reconcile();
});

after(async () => {
  await clusters?.stop();
  await instances?.stop();
  admin?.close();
  user?.close();
  await cluster?.stop();
});

describe('a Bind9Cluster on a real API server', () => {
  test('creates exactly its objects, each owned by the cluster and applied by our field manager', async () => {
    const found = await everything();
    const names = [...found.keys()].filter((k) => !k.startsWith('configmaps/kube-root-ca')).sort();
    assert.deepEqual(names, [
      'bind9instances/edge-primary-0',
      'bind9instances/edge-secondary-0',
      'bind9instances/edge-secondary-1',
      'configmaps/edge-config',
      'configmaps/edge-zones',
      'networkpolicies/edge',
      'poddisruptionbudgets/edge',
      'secrets/edge-rndc-key',
      'secrets/edge-tsig-key',
      'services/edge',
      'services/edge-pods',
      'services/edge-primary-0',
      'services/edge-secondary-0',
      'services/edge-secondary-1',
      'statefulsets/edge-primary',
      'statefulsets/edge-secondary',
    ]);
    const owner = await liveCluster();
    for (const [id, object] of found) {
      if (id.startsWith('configmaps/kube-root-ca')) continue;
      const refs = (object.metadata as { ownerReferences?: Json[] }).ownerReferences ?? [];
      assert.deepEqual(
        refs.map((r) => [r.kind, r.name, r.uid, r.controller]),
        [['Bind9Cluster', 'edge', owner?.metadata.uid, true]],
        id,
      );
      const managers = ((object.metadata as { managedFields?: Json[] }).managedFields ?? []).map(
        (m) => m.manager,
      );
      assert.ok(managers.includes('bind9-controller'), `${id}: ${managers.join(', ')}`);
    }
  });

  test('gives each instance its pod Service cluster IP and the labels a DNSZone selects', async () => {
    await waitForInstances(3);
    const found = await everything();
    const ipOf = (name: string) =>
      (found.get(`services/${name}`)?.spec as Json | undefined)?.clusterIP as string;
    const secondary = found.get('bind9instances/edge-secondary-1') as unknown as Bind9Instance;
    assert.equal(secondary.spec.dns.address, ipOf('edge-secondary-1'));
    assert.deepEqual(secondary.spec.primaries, [ipOf('edge-primary-0')]);
    assert.equal(secondary.metadata.labels?.['bind9-controller.io/cluster'], 'edge');
    const status = (await objects.get('Bind9Cluster', 'edge'))?.status as Json;
    assert.equal(status.serviceAddress, ipOf('edge'));
  });

  test('keeps keys and objects as they are on the next reconcile: nothing is written again', async () => {
    const before = await everything();
    await reconcile();
    const after = await everything();
    for (const [id, object] of before) {
      assert.equal(
        after.get(id)?.metadata.resourceVersion,
        object.metadata.resourceVersion,
        `${id} was written`,
      );
    }
  });

  test('patches the ConfigMap alone for a changed option, and a changed image in place', async () => {
    await objects.patchSpec('Bind9Cluster', 'edge', { options: { allowQuery: ['10.0.0.0/8'] } });
    const before = await everything();
    await reconcile();
    const after = await everything();
    assert.match(
      JSON.stringify(after.get('configmaps/edge-config')),
      /allow-query \{ key \\"edge-tsig\\"; 10\.0\.0\.0\/8; \};/,
    );
    for (const set of ['statefulsets/edge-primary', 'statefulsets/edge-secondary']) {
      assert.equal(
        after.get(set)?.metadata.resourceVersion,
        before.get(set)?.metadata.resourceVersion,
        set,
      );
    }
    await objects.patchSpec('Bind9Cluster', 'edge', { image: 'registry.example/bind9:9.18.30' });
    await reconcile();
    const rolled = await everything();
    for (const set of ['statefulsets/edge-primary', 'statefulsets/edge-secondary']) {
      const object = rolled.get(set)!;
      assert.equal(object.metadata.uid, before.get(set)?.metadata.uid, `${set} was not recreated`);
      const containers = ((object.spec as Json).template as { spec: { containers: Json[] } }).spec
        .containers;
      assert.equal(containers[0]?.image, 'registry.example/bind9:9.18.30');
    }
  });

  test('scales 2 → 3 → 1: instances and pod Services follow, the rest stays', async () => {
    await objects.patchSpec('Bind9Cluster', 'edge', { secondaries: { replicas: 3 } });
    await reconcile();
    await waitForInstances(4);
    assert.ok((await everything()).has('services/edge-secondary-2'));
    await objects.patchSpec('Bind9Cluster', 'edge', { secondaries: { replicas: 1 } });
    await reconcile();
    await waitForInstances(2);
    const found = await everything();
    assert.deepEqual(
      [...found.keys()]
        .filter((k) => /^(bind9instances|services)\/edge-(primary|secondary)/.test(k))
        .sort(),
      [
        'bind9instances/edge-primary-0',
        'bind9instances/edge-secondary-0',
        'services/edge-primary-0',
        'services/edge-secondary-0',
      ],
    );
    assert.equal((found.get('statefulsets/edge-secondary')?.spec as Json | undefined)?.replicas, 1);
  });

  test('shows no key in status, Events or logs', async () => {
    const keys: string[] = [];
    for (const name of ['edge-tsig-key', 'edge-rndc-key']) {
      const data = await admin.readSecret(ns, name);
      const secret = /secret "([^"]+)"/.exec(data?.keyfile ?? '')?.[1];
      assert.ok(secret, name);
      keys.push(secret);
    }
    const status = JSON.stringify((await objects.get('Bind9Cluster', 'edge'))?.status);
    const text = [status, ...(await objects.events()), ...logs].join('\n');
    assert.match(text, /KeyGenerated/);
    for (const key of keys) {
      for (let i = 0; i + 8 <= key.length; i++)
        assert.ok(!text.includes(key.slice(i, i + 8)), 'a key leaked');
    }
  });

  test('carries no finalizer: deleting the cluster ends at once', async () => {
    const live = await liveCluster();
    assert.deepEqual(
      (live?.metadata as { finalizers?: string[] } | undefined)?.finalizers ?? [],
      [],
    );
    await objects.remove('Bind9Cluster', 'edge');
    const deadline = Date.now() + 30_000;
    while ((await objects.get('Bind9Cluster', 'edge')) !== undefined) {
      if (Date.now() > deadline) assert.fail('the Bind9Cluster is still there');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});

/** A backend that never touches the network: the instances' addresses lead nowhere here. */
function noNetwork(): ZoneBackend {
  const refuse = async (): Promise<never> => {
    throw new TransientError('NO_POD', 'no pod in this test API server');
  };
  return {
    ensureZone: refuse,
    removeZone: refuse,
    fingerprint: refuse,
    probeDns: refuse,
    readZone: refuse,
    apply: refuse,
    zoneSerial: refuse,
    retransfer: refuse,
  };
}

describe('the controller with a Bind9Cluster', () => {
  let running: Controller | undefined;
  let space = '';
  let admin2: Admin;
  after(() => running?.stop());

  test('makes its instances, which a DNSZone selecting the cluster then lists, and follows a scale-up', async () => {
    space = await cluster.createNamespace('cluster-controller');
    admin2 = new Admin(cluster, space);
    const config = parseConfig(['--namespace', space, '--metrics-address', ''], {
      POD_NAMESPACE: 'ctl-system',
    });
    running = new Controller({
      kube: user,
      config,
      log: pino({ level: 'silent' }),
      backend: noNetwork(),
    });
    await running.start();
    await admin2.create('Bind9Cluster', 'dns', { secondaries: { replicas: 1 } });
    await admin2.create('DNSZone', 'example-org', {
      zoneName: 'example.org',
      instanceSelector: { matchLabels: { 'bind9-controller.io/cluster': 'dns' } },
      soaRecord: { primaryNs: 'ns1.example.net.', adminEmail: 'hostmaster@example.org' },
    });
    const zoneInstances = async () => {
      const zone = await admin2.get('DNSZone', 'example-org');
      const listed =
        (zone?.status as { instances?: { name: string }[] } | undefined)?.instances ?? [];
      return listed.map((i) => i.name).sort();
    };
    await until('the zone lists both instances', async () => (await zoneInstances()).length === 2);
    assert.deepEqual(await zoneInstances(), ['dns-primary-0', 'dns-secondary-0']);
    const policy = await new ObjectApplier(admin).get(
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
      space,
      'dns',
    );
    assert.match(JSON.stringify(policy?.spec), /"kubernetes.io\/metadata.name":"ctl-system"/);
    await admin2.patchSpec('Bind9Cluster', 'dns', { secondaries: { replicas: 2 } });
    await until('the zone lists three instances', async () => (await zoneInstances()).length === 3);
    const ready = await admin2.ready('Bind9Cluster', 'dns');
    assert.equal(ready?.status, 'False');
    assert.match(ready?.reason ?? '', /PodsNotReady|InstanceNotReady/);
  });
});

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
