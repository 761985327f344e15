/**
 * What we ship, applied to a real kube-apiserver: `kubectl kustomize` renders deploy/,
 * deploy/bind9/ and examples/ exactly as `kubectl apply -k` would, every object is
 * accepted by server-side apply, the pod templates pass the `restricted` Pod Security
 * profile (checked by the API server's own admission on real Pods, which stay Pending:
 * there is no kubelet), and the ServiceAccount's RBAC allows what the controller needs
 * and nothing else (checked by the API server's RBAC authorizer).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AuthorizationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Pod,
  type V1PodSpec,
} from '@kubernetes/client-node';
import { findManifest, type Manifest, renderKustomization } from '../../scripts/lib/manifests.ts';
import { validateResource } from '../../src/api/validate.ts';
import { parseConfig } from '../../src/controller/config.ts';
import { desiredWorkload } from '../../src/reconcilers/cluster/desired.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';

const root = new URL('../..', import.meta.url).pathname;
const CONTROLLER_NS = 'bind9-controller-system';
const SA_USER = `system:serviceaccount:${CONTROLLER_NS}:bind9-controller`;
const SA_GROUPS = ['system:serviceaccounts', `system:serviceaccounts:${CONTROLLER_NS}`];
const GROUP = 'dns.bind9-controller.io';
const PLURALS = [
  'bind9instances',
  'dnszones',
  'arecords',
  'aaaarecords',
  'cnamerecords',
  'txtrecords',
  'mxrecords',
  'nsrecords',
  'srvrecords',
  'caarecords',
  'ptrrecords',
];

let cluster: Cluster;
let deploy: Manifest[];
let bind9: Manifest[];
let examples: Manifest[];
let clusterExample: Manifest[];

before(async () => {
  deploy = await renderKustomization(join(root, 'deploy'));
  bind9 = await renderKustomization(join(root, 'deploy/bind9'));
  examples = await renderKustomization(join(root, 'examples'));
  clusterExample = await renderKustomization(join(root, 'examples/cluster'));
  // CRDs come from deploy/ itself: that is what `kubectl apply -k deploy/` installs.
  cluster = await useCluster({ crds: false });
});
after(() => cluster?.stop());

function podTemplate(deployment: Manifest): V1PodSpec {
  const spec = deployment.spec as { template: { spec: V1PodSpec } };
  return spec.template.spec;
}

/** Creates a Pod from a Deployment's template: PodSecurity admission judges it. */
async function createPod(deployment: Manifest, namespace: string, edit = (_: V1PodSpec) => {}) {
  const spec = structuredClone(podTemplate(deployment));
  edit(spec);
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${deployment.metadata.name}-${Math.random().toString(36).slice(2, 8)}` },
    spec,
  };
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  return core.createNamespacedPod({ namespace, body: pod });
}

describe('deploy/ on a real API server', () => {
  test('kubectl kustomize deploy/ renders the CRDs of all twelve kinds and the controller', () => {
    const crds = deploy.filter((o) => o.kind === 'CustomResourceDefinition');
    assert.deepEqual(
      crds.map((c) => c.metadata.name).sort(),
      [...PLURALS, 'bind9clusters'].map((p) => `${p}.${GROUP}`).sort(),
    );
    for (const kind of ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding']) {
      assert.ok(
        deploy.some((o) => o.kind === kind),
        `${kind} is rendered`,
      );
    }
    const deployment = findManifest(deploy, 'Deployment', 'bind9-controller');
    assert.equal((deployment.spec as { replicas: number }).replicas, 2);
  });

  test('every object of deploy/, deploy/bind9/, examples/ and examples/cluster/ is accepted by server-side apply', async () => {
    const all = [...deploy, ...bind9, ...examples, ...clusterExample];
    const applied = await cluster.applyManifests(all);
    assert.equal(applied.length, all.length);
    for (const o of applied) assert.ok(o.metadata?.uid, `${o.kind}/${o.metadata?.name} stored`);
  });

  test('the controller pod template is admitted under the restricted Pod Security profile', async () => {
    const deployment = findManifest(deploy, 'Deployment', 'bind9-controller');
    const pod = await createPod(deployment, CONTROLLER_NS);
    assert.ok(pod.metadata?.uid);
  });

  test('a controller pod that may run as root is refused in its namespace', async () => {
    const deployment = findManifest(deploy, 'Deployment', 'bind9-controller');
    await assert.rejects(
      createPod(deployment, CONTROLLER_NS, (spec) => {
        delete spec.securityContext?.runAsNonRoot;
        delete spec.containers[0]?.securityContext?.runAsNonRoot;
        delete spec.securityContext?.runAsUser;
      }),
      (error: { code?: number; body?: string }) =>
        error.code === 403 && String(error.body).includes('runAsNonRoot'),
    );
  });

  test('the example BIND9 pod template is admitted under the restricted profile', async () => {
    const deployment = findManifest(bind9, 'Deployment', 'bind9-primary');
    const namespace = findManifest(bind9, 'Namespace', 'dns');
    assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    const pod = await createPod(deployment, 'dns');
    assert.ok(pod.metadata?.uid);
  });
});

describe('the BIND9 pods of examples/cluster/', () => {
  test('are admitted under the restricted Pod Security profile of its namespace, primary and secondary', async () => {
    const namespace = findManifest(clusterExample, 'Namespace', 'dns-cluster');
    assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    const example = findManifest(clusterExample, 'Bind9Cluster', 'bind9');
    const checked = validateResource('Bind9Cluster', {
      ...example,
      metadata: { ...example.metadata, uid: 'example' },
    });
    assert.ok(checked.ok, JSON.stringify(checked));
    const keys = {
      tsigSecret: 't',
      rndcSecret: 'r',
      tsigKeyName: 't',
      rndcKeyName: 'r',
      digest: 'd',
    };
    const controller = { namespace: CONTROLLER_NS, labels: {} };
    const sets = desiredWorkload(checked.value, { keys, addresses: new Map(), controller }).filter(
      (d) => d.manifest.kind === 'StatefulSet',
    );
    assert.equal(sets.length, 2);
    for (const { manifest } of sets) {
      const pod = await createPod(manifest as unknown as Manifest, 'dns-cluster');
      assert.ok(pod.metadata?.uid, manifest.metadata.name);
    }
  });
});

describe('the controller Deployment and the controller agree', () => {
  test("the Deployment's arguments are accepted by the controller's own flag parser", () => {
    const deployment = findManifest(deploy, 'Deployment', 'bind9-controller');
    const container = podTemplate(deployment).containers[0];
    const [command, ...args] = container?.args ?? [];
    assert.equal(command, 'run');
    // The kubelet expands $(VAR) from the container's env; fieldRefs stand in as names.
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? e.name]));
    const expanded = args.map((a) =>
      a.replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? ''),
    );
    const config = parseConfig(expanded, {});
    assert.equal(config.inCluster, true);
    assert.equal(config.leaderElect, true);
    assert.equal(config.leaderElectionNamespace, 'POD_NAMESPACE');
    const probePort = container?.ports?.find((p) => p.name === 'http-metrics')?.containerPort;
    assert.equal(config.metricsAddress, `0.0.0.0:${probePort}`);
    assert.equal(container?.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(container?.readinessProbe?.httpGet?.path, '/readyz');
  });
});

describe('the RBAC of deploy/, judged by the API server', () => {
  let kc: KubeConfig;
  before(async () => {
    await cluster.applyManifests(deploy.filter((o) => o.kind !== 'Deployment'));
    kc = (await cluster.mintKubeconfig(SA_USER, SA_GROUPS)).kubeConfig;
  });

  interface Access {
    verb: string;
    group?: string;
    resource: string;
    subresource?: string;
    namespace?: string;
  }
  async function allowed(access: Access): Promise<boolean> {
    const api = kc.makeApiClient(AuthorizationV1Api);
    const review = await api.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { group: '', namespace: 'dns', ...access } } },
    });
    return review.status?.allowed === true;
  }

  const needed: Access[] = [
    ...PLURALS.flatMap((resource) =>
      ['list', 'watch', 'patch'].map((verb) => ({ verb, group: GROUP, resource })),
    ),
    ...PLURALS.map((resource) => ({
      verb: 'patch',
      group: GROUP,
      resource,
      subresource: 'status',
    })),
    { verb: 'list', group: GROUP, resource: 'dnszones', namespace: '' },
    { verb: 'get', resource: 'secrets' },
    { verb: 'create', resource: 'events' },
    { verb: 'patch', resource: 'events' },
    { verb: 'create', resource: 'configmaps' },
    { verb: 'patch', resource: 'configmaps' },
    ...['get', 'create', 'update'].map((verb) => ({
      verb,
      group: 'coordination.k8s.io',
      resource: 'leases',
      namespace: CONTROLLER_NS,
    })),
    // Bind9Cluster: the servers the controller runs, by server-side apply (create + patch).
    { verb: 'list', group: GROUP, resource: 'bind9clusters' },
    { verb: 'watch', group: GROUP, resource: 'bind9clusters' },
    { verb: 'patch', group: GROUP, resource: 'bind9clusters', subresource: 'status' },
    { verb: 'update', group: GROUP, resource: 'bind9clusters', subresource: 'finalizers' },
    { verb: 'create', group: GROUP, resource: 'bind9instances' },
    { verb: 'delete', group: GROUP, resource: 'bind9instances' },
    { verb: 'create', resource: 'secrets' },
    ...['create', 'patch', 'delete'].map((verb) => ({ verb, resource: 'services' })),
    ...['create', 'patch'].flatMap((verb) => [
      { verb, group: 'apps', resource: 'statefulsets' },
      { verb, group: 'policy', resource: 'poddisruptionbudgets' },
      { verb, group: 'networking.k8s.io', resource: 'networkpolicies' },
    ]),
  ];
  /** What of `needed` the API server refuses right now. */
  async function refusedNow(): Promise<Access[]> {
    const refused = [];
    for (const access of needed) if (!(await allowed(access))) refused.push(access);
    return refused;
  }

  // The authorizer learns of new Roles and bindings from its own watch, shortly after the
  // write: until every grant shows, a refusal may only mean "not seen yet". Bounded.
  async function refusedOnceSettled(): Promise<Access[]> {
    const deadline = Date.now() + 60_000;
    let refused = await refusedNow();
    while (refused.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      refused = await refusedNow();
    }
    return refused;
  }

  test('the ServiceAccount may do everything the controller needs', async () => {
    assert.deepEqual(await refusedOnceSettled(), []);
  });

  const forbidden: Access[] = [
    { verb: 'list', resource: 'secrets' },
    { verb: 'watch', resource: 'secrets' },
    { verb: 'update', resource: 'secrets' },
    { verb: 'create', group: GROUP, resource: 'dnszones' },
    { verb: 'delete', group: GROUP, resource: 'arecords' },
    // Unused grants trimmed (issue #6's report): objects come from the informer caches and
    // are only patched, status included.
    { verb: 'get', group: GROUP, resource: 'dnszones' },
    { verb: 'update', group: GROUP, resource: 'arecords' },
    { verb: 'update', group: GROUP, resource: 'dnszones', subresource: 'status' },
    { verb: 'get', group: GROUP, resource: 'arecords', subresource: 'status' },
    { verb: 'create', group: 'events.k8s.io', resource: 'events' },
    { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'dns' },
    { verb: 'create', resource: 'pods' },
    { verb: 'list', resource: 'configmaps' },
    { verb: 'delete', resource: 'configmaps' },
    { verb: 'update', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
    // A generated key is created once and never written again; nothing else is deleted.
    { verb: 'patch', resource: 'secrets' },
    { verb: 'delete', resource: 'secrets' },
    { verb: 'delete', group: 'apps', resource: 'statefulsets' },
    { verb: 'list', resource: 'services' },
    { verb: 'create', group: GROUP, resource: 'bind9clusters' },
    { verb: 'patch', group: GROUP, resource: 'bind9clusters' },
  ];
  test('the ServiceAccount may not read all Secrets, delete resources or touch anything else', async () => {
    // Only meaningful once the grants are in effect (else everything is refused anyway).
    assert.deepEqual(await refusedOnceSettled(), [], 'the grants are in effect');
    const granted = [];
    for (const access of forbidden) if (await allowed(access)) granted.push(access);
    assert.deepEqual(granted, []);
  });
});
