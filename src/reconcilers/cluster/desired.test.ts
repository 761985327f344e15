import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bind9Cluster } from '../../api/kinds.ts';
import { API_GROUP_VERSION } from '../../api/meta.ts';
import { validateResource } from '../../api/validate.ts';
import { type Desired, desiredServices, desiredWorkload, type WorkloadInputs } from './desired.ts';

type Json = Record<string, unknown>;

/** A Bind9Cluster as the API server would store it: the schema defaults filled in. */
function cluster(spec: Json = {}, name = 'edge'): Bind9Cluster {
  const result = validateResource('Bind9Cluster', {
    apiVersion: API_GROUP_VERSION,
    kind: 'Bind9Cluster',
    metadata: { name, namespace: 'dns', uid: 'uid-1', generation: 1 },
    spec,
  });
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

const inputs: WorkloadInputs = {
  keys: {
    tsigSecret: 'edge-tsig-key',
    rndcSecret: 'edge-rndc-key',
    tsigKeyName: 'edge-tsig',
    rndcKeyName: 'edge-rndc',
    digest: 'd1',
  },
  addresses: new Map([
    ['edge-primary-0', '10.96.0.10'],
    ['edge-secondary-0', '10.96.0.20'],
    ['edge-secondary-1', '10.96.0.21'],
  ]),
  controller: {
    namespace: 'bind9-controller-system',
    labels: { 'app.kubernetes.io/name': 'bind9-controller' },
  },
};

const all = (c: Bind9Cluster, i = inputs) => [...desiredServices(c), ...desiredWorkload(c, i)];
const ids = (objects: readonly Desired[]) =>
  objects.map((o) => `${o.manifest.kind}/${o.manifest.metadata.name}`).sort();
const find = (objects: readonly Desired[], kind: string, name: string): Json => {
  const found = objects.find((o) => o.manifest.kind === kind && o.manifest.metadata.name === name);
  assert.ok(found, `${kind}/${name}`);
  return found.manifest as unknown as Json;
};
const at = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);

describe('the objects of a Bind9Cluster', () => {
  it('are, for spec: {}, a primary and one secondary with their Services, config, policies and instances', () => {
    const objects = all(cluster());
    assert.deepEqual(ids(objects), [
      'Bind9Instance/edge-primary-0',
      'Bind9Instance/edge-secondary-0',
      'ConfigMap/edge-config',
      'ConfigMap/edge-zones',
      'NetworkPolicy/edge',
      'PodDisruptionBudget/edge',
      'Service/edge',
      'Service/edge-pods',
      'Service/edge-primary-0',
      'Service/edge-secondary-0',
      'StatefulSet/edge-primary',
      'StatefulSet/edge-secondary',
    ]);
    for (const { manifest } of objects) {
      assert.equal(manifest.metadata.namespace, 'dns');
      assert.deepEqual(manifest.metadata.ownerReferences, [
        {
          apiVersion: API_GROUP_VERSION,
          kind: 'Bind9Cluster',
          name: 'edge',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      assert.equal(manifest.metadata.labels?.['bind9-controller.io/cluster'], 'edge');
    }
  });

  it('give each pod an ordinary Bind9Instance at its Service address, labelled with cluster and role', () => {
    const objects = all(cluster({ secondaries: { replicas: 2 } }));
    const primary = find(objects, 'Bind9Instance', 'edge-primary-0');
    assert.deepEqual(primary.spec, {
      role: 'primary',
      dns: { address: '10.96.0.10', port: 53 },
      rndc: { address: '10.96.0.10', port: 953, keySecretRef: { name: 'edge-rndc-key' } },
      tsigKeySecretRef: { name: 'edge-tsig-key' },
      zoneFiles: { configMap: { name: 'edge-zones', mountPath: '/etc/bind/zones' } },
    });
    const secondary = find(objects, 'Bind9Instance', 'edge-secondary-1');
    assert.equal(at(secondary, 'spec', 'role'), 'secondary');
    assert.deepEqual(at(secondary, 'spec', 'primaries'), ['10.96.0.10']);
    assert.equal(at(secondary, 'metadata', 'labels', 'bind9-controller.io/role'), 'secondary');
    const validated = validateResource('Bind9Instance', secondary);
    assert.ok(validated.ok, JSON.stringify(validated));
  });

  it('hold back the instance of a pod whose Service has no address yet, and every secondary until the primary has one', () => {
    const partial = { ...inputs, addresses: new Map([['edge-secondary-0', '10.96.0.20']]) };
    const instances = all(cluster(), partial).filter((o) => o.manifest.kind === 'Bind9Instance');
    assert.deepEqual(instances, []);
  });

  it('let the primary NOTIFY every secondary at its Service address, and no one else', () => {
    const objects = all(cluster({ secondaries: { replicas: 2 } }));
    const text = String(at(find(objects, 'ConfigMap', 'edge-config'), 'data', 'primary.conf'));
    assert.match(
      text,
      /also-notify \{ 10\.96\.0\.20 port 53 key "edge-tsig"; 10\.96\.0\.21 port 53 key "edge-tsig"; \};/,
    );
    const secondary = String(
      at(find(objects, 'ConfigMap', 'edge-config'), 'data', 'secondary.conf'),
    );
    assert.match(secondary, /allow-notify \{ key "edge-tsig"; \};/);
  });

  it('change only named.conf for a changed option: the StatefulSets stay as they are (no pod restarts)', () => {
    const before = all(cluster());
    const after = all(cluster({ options: { allowQuery: ['10.0.0.0/8'], recursion: true } }));
    for (const name of ['edge-primary', 'edge-secondary']) {
      assert.deepEqual(find(after, 'StatefulSet', name), find(before, 'StatefulSet', name));
    }
    assert.notDeepEqual(
      find(after, 'ConfigMap', 'edge-config'),
      find(before, 'ConfigMap', 'edge-config'),
    );
  });

  it('change the pod templates for a new image and for new keys (by their digest, never the keys)', () => {
    const base = find(all(cluster()), 'StatefulSet', 'edge-secondary');
    const image = find(
      all(cluster({ image: 'registry.example/bind9:9.20' })),
      'StatefulSet',
      'edge-secondary',
    );
    assert.equal(
      at(image, 'spec', 'template', 'spec', 'containers', 0, 'image'),
      'registry.example/bind9:9.20',
    );
    const rekeyed = { ...inputs, keys: { ...inputs.keys, digest: 'd2' } };
    const keys = find(all(cluster(), rekeyed), 'StatefulSet', 'edge-secondary');
    assert.equal(
      at(keys, 'spec', 'template', 'metadata', 'annotations', 'bind9-controller.io/keys'),
      'd2',
    );
    assert.equal(
      at(base, 'spec', 'template', 'metadata', 'annotations', 'bind9-controller.io/keys'),
      'd1',
    );
  });

  it('run named unprivileged on the default ISC image, one primary and the asked-for secondaries', () => {
    const objects = all(cluster({ secondaries: { replicas: 3 } }));
    const primary = find(objects, 'StatefulSet', 'edge-primary');
    const secondary = find(objects, 'StatefulSet', 'edge-secondary');
    assert.equal(at(primary, 'spec', 'replicas'), 1);
    assert.equal(at(secondary, 'spec', 'replicas'), 3);
    const pod = at(secondary, 'spec', 'template', 'spec') as Json;
    const named = at(pod, 'containers', 0) as Json;
    assert.equal(named.image, 'internetsystemsconsortium/bind9:9.18');
    assert.deepEqual(named.args, ['-g', '-c', '/etc/bind/conf/secondary.conf']);
    assert.equal(at(pod, 'securityContext', 'runAsNonRoot'), true);
    assert.equal(at(named, 'securityContext', 'readOnlyRootFilesystem'), true);
    assert.deepEqual(at(named, 'securityContext', 'capabilities', 'drop'), ['ALL']);
    assert.deepEqual(at(pod, 'topologySpreadConstraints', 0, 'labelSelector', 'matchLabels'), {
      'app.kubernetes.io/name': 'bind9',
      'bind9-controller.io/cluster': 'edge',
      'bind9-controller.io/role': 'secondary',
    });
    assert.ok(!JSON.stringify(at(primary, 'spec', 'template')).includes('topologySpread'));
  });

  it('keep data on claims when storage asks for them', () => {
    const objects = all(
      cluster({ storage: { persistentVolumeClaim: { size: '2Gi', storageClassName: 'fast' } } }),
    );
    const set = find(objects, 'StatefulSet', 'edge-primary');
    assert.deepEqual(at(set, 'spec', 'volumeClaimTemplates', 0, 'spec'), {
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'fast',
      resources: { requests: { storage: '2Gi' } },
    });
    const volumes = at(set, 'spec', 'template', 'spec', 'volumes') as Json[];
    assert.ok(!volumes.some((v) => v.name === 'data'), 'the claim is the data volume');
  });

  it('open 953 only to the controller pods, and 53 to everyone', () => {
    const policy = find(all(cluster()), 'NetworkPolicy', 'edge');
    const ingress = at(policy, 'spec', 'ingress') as Json[];
    assert.deepEqual(ingress[0], {
      ports: [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ],
    });
    assert.deepEqual(ingress[1], {
      from: [
        {
          namespaceSelector: {
            matchLabels: { 'kubernetes.io/metadata.name': 'bind9-controller-system' },
          },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'bind9-controller' } },
        },
      ],
      ports: [{ port: 953, protocol: 'TCP' }],
    });
  });

  it('give the query Service the type and annotations asked for, over every pod', () => {
    const objects = all(
      cluster({ service: { type: 'LoadBalancer', annotations: { 'lb.example/pool': 'edge' } } }),
    );
    const query = find(objects, 'Service', 'edge');
    assert.equal(at(query, 'spec', 'type'), 'LoadBalancer');
    assert.deepEqual(at(query, 'metadata', 'annotations'), { 'lb.example/pool': 'edge' });
    assert.deepEqual(at(query, 'spec', 'selector'), {
      'app.kubernetes.io/name': 'bind9',
      'bind9-controller.io/cluster': 'edge',
    });
    const perPod = find(objects, 'Service', 'edge-secondary-0');
    assert.equal(
      at(perPod, 'spec', 'selector', 'statefulset.kubernetes.io/pod-name'),
      'edge-secondary-0',
    );
    assert.equal(at(perPod, 'spec', 'publishNotReadyAddresses'), true);
  });

  it('hold no key material: only Secret names and a digest', () => {
    const text = JSON.stringify(all(cluster()));
    assert.doesNotMatch(text, /secret "|algorithm hmac/);
  });
});
