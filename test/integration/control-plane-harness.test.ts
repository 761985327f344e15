/**
 * The control-plane harness itself: minted users are real RBAC subjects, a second process
 * can attach to a running cluster, applyManifests keeps every field it is given, and stop()
 * leaves no process or file behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import { attachCluster, type Cluster, startCluster, useCluster } from '../harness/cluster.ts';

let cluster: Cluster;
before(async () => {
  cluster = await useCluster();
});
after(() => cluster?.stop());

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

function listConfigMaps(kc: KubeConfig, namespace: string) {
  return kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace });
}

/** Polls (bounded) until `probe` is true: RBAC changes reach the authorizer's cache soon after the write. */
async function eventually(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('minted kubeconfigs', () => {
  it('authenticate as the user and groups named, who are forbidden until a RoleBinding grants their group', async () => {
    const ns = await cluster.createNamespace('harness-rbac');
    const group = `readers-${ns}`;
    const minted = await cluster.mintKubeconfig('alice', [group]);
    assert.equal(minted.kubeConfig.getCurrentUser()?.name, 'alice');
    assert.equal(await statusOf(listConfigMaps(minted.kubeConfig, ns)), 403);

    await cluster.applyManifests(
      [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'read-configmaps' },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'readers' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
        },
      ],
      { namespace: ns },
    );
    await eventually(
      async () => (await statusOf(listConfigMaps(minted.kubeConfig, ns))) === 200,
      'alice may list ConfigMaps',
    );
    const other = await cluster.mintKubeconfig('bob', ['someone-else']);
    assert.equal(await statusOf(listConfigMaps(other.kubeConfig, ns)), 403);
  });

  it('make an admin of a member of system:masters', async () => {
    const admin = await cluster.mintKubeconfig('root-too', ['system:masters']);
    assert.equal(await statusOf(admin.kubeConfig.makeApiClient(CoreV1Api).listNamespace()), 200);
  });
});

describe('attaching', () => {
  it('a second client attached through the admin kubeconfig sees the same cluster and can mint users', async () => {
    const ns = await cluster.createNamespace('harness-attach');
    const attached = await attachCluster(cluster.kubeconfigPath, { crds: false });
    assert.equal(attached.shared, true);
    assert.equal(attached.server, cluster.server);
    const seen = await attached.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: ns });
    assert.equal(seen.metadata?.name, ns);
    const minted = await attached.mintKubeconfig('carol', ['system:masters']);
    assert.equal(await statusOf(listConfigMaps(minted.kubeConfig, ns)), 200);
    await attached.stop();
    // Stopping an attached cluster leaves the real one running.
    assert.equal(await statusOf(listConfigMaps(cluster.kubeConfig, ns)), 200);
  });
});

describe('applyManifests', () => {
  it('keeps every field of a CRD schema (enum, default, x-kubernetes-validations) and the API server enforces them', async () => {
    const group = `h${Math.random().toString(36).slice(2, 8)}.example.org`;
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    properties: {
                      color: { type: 'string', enum: ['red', 'blue'] },
                      size: { type: 'integer', default: 3 },
                    },
                    'x-kubernetes-validations': [{ rule: 'self.size < 10', message: 'too big' }],
                  },
                },
              },
            },
          },
        ],
      },
    };
    await cluster.applyManifests(crd);
    const stored = await cluster.kubeConfig
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: crd.metadata.name });
    const spec = stored.spec.versions[0]?.schema?.openAPIV3Schema?.properties?.spec;
    assert.deepEqual(spec?.properties?.color?._enum, ['red', 'blue']);
    assert.equal(spec?.properties?.size?._default, 3);
    assert.equal(spec?.x_kubernetes_validations?.[0]?.rule, 'self.size < 10');

    const ns = await cluster.createNamespace('harness-apply');
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const widget = (name: string, widgetSpec: object) =>
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: ns,
        plural: 'widgets',
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, spec: widgetSpec },
      });
    const made = (await widget('ok', { color: 'red' })) as { spec: { size: number } };
    assert.equal(made.spec.size, 3, 'the default was applied');
    assert.equal(await statusOf(widget('green', { color: 'green' })), 422);
    assert.equal(await statusOf(widget('huge', { color: 'blue', size: 12 })), 422);
  });

  it('applies the same manifest twice without changing the object the second time', async () => {
    const ns = await cluster.createNamespace('harness-idem');
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'same' },
      data: { a: '1' },
    };
    const [first] = await cluster.applyManifests(cm, { namespace: ns });
    const [second] = await cluster.applyManifests(cm, { namespace: ns });
    assert.ok(first?.metadata?.resourceVersion);
    assert.equal(second?.metadata?.resourceVersion, first?.metadata?.resourceVersion);
  });
});

/** Pids of processes whose command line mentions `text` (Linux /proc). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

describe('a cluster of its own', () => {
  it('stop() ends etcd, kube-apiserver and the reaper and removes the state directory', async () => {
    const own = await startCluster({ crds: false });
    assert.equal(own.shared, false);
    assert.ok(processesMentioning(own.stateDir).length >= 2, 'etcd and kube-apiserver run');
    await own.stop();
    assert.deepEqual(processesMentioning(own.stateDir), []);
    assert.equal(existsSync(own.stateDir), false);
  });
});

describe('npm run cluster (test/harness/cluster-main.ts)', () => {
  it('prints the kubeconfig path once the API answers, and on SIGTERM stops, removes it and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-main-'));
    const out = join(dir, 'kubeconfig');
    const main = join(import.meta.dirname, '../harness/cluster-main.ts');
    const child = spawn(process.execPath, [main, '--no-crds', '--kubeconfig-out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const printed = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('\n')) resolve(text.trim());
        });
        child.once('exit', (code) => reject(new Error(`cluster-main exited with ${code}`)));
      });
      assert.equal(printed, out);
      const kc = new KubeConfig();
      kc.loadFromFile(out);
      assert.equal(
        await statusOf(kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' })),
        200,
      );
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.equal(existsSync(out), false, 'the kubeconfig outlived the cluster');
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
