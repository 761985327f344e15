/**
 * The CRDs as users install them (`kubectl apply --server-side -k crds`) on a real
 * kube-apiserver: the API server fills in exactly the defaults `validateResource` fills
 * in, for every valid example and every edge case the schema must accept. If the two ever
 * disagreed, the controller would plan against values the cluster does not store.
 * Also what people see through kubectl: field descriptions, columns, the `dns` category.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import {
  API_GROUP,
  API_VERSION,
  KIND_NAMES,
  type KindName,
  RESOURCE_KINDS,
  validateResource,
} from '../../src/api/index.ts';
import { goodValues, type Mutation, mutate, validExamples } from '../fixtures/resources.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';

const run = promisify(execFile);
const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const CRD_DIR = join(import.meta.dirname, '../../crds');

let cluster: Cluster;
let custom: CustomObjectsApi;
let ns: string;

/** Lists each kind until the API server serves it (bounded: 120 tries). */
async function waitUntilServed(namespace: string): Promise<void> {
  for (const kind of KIND_NAMES) {
    const request = { group: API_GROUP, version: API_VERSION, namespace };
    for (let attempt = 1; ; attempt += 1) {
      try {
        await custom.listNamespacedCustomObject({
          ...request,
          plural: RESOURCE_KINDS[kind].plural,
        });
        break;
      } catch (error) {
        if (attempt >= 120) throw error;
        await sleep(500);
      }
    }
  }
}

before(async () => {
  cluster = await useCluster({ crds: false });
  await run(KUBECTL, [
    `--kubeconfig=${cluster.kubeconfigPath}`,
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=bind9-controller-crds',
    '-k',
    CRD_DIR,
  ]);
  custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  ns = await cluster.createNamespace('api-defaults');
  await waitUntilServed(ns);
});
after(() => cluster?.stop());

/** Keys sorted at every level, so equal objects print equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : 1,
  );
  return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
}

const cases: Mutation[] = [
  ...KIND_NAMES.map((kind) => ({
    kind,
    what: 'the valid example',
    path: 'metadata.name',
    value: validExamples[kind].metadata.name,
  })),
  ...goodValues,
];

describe('defaults on a real kube-apiserver', () => {
  cases.forEach((mutation, i) => {
    it(`fills in the same defaults as validateResource for ${mutation.what} in a ${mutation.kind}`, async () => {
      const object = mutate(mutation);
      (object.metadata as { name: string }).name = `case-${i}`;
      const local = validateResource(mutation.kind as KindName, object);
      assert.ok(local.ok, JSON.stringify(local));
      const stored = (await custom.createNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace: ns,
        plural: RESOURCE_KINDS[mutation.kind].plural,
        body: object,
      })) as { spec: unknown };
      assert.deepEqual(canonical(stored.spec), canonical(local.value.spec));
    });
  });
});

/** Runs kubectl against the cluster until it succeeds (discovery lags behind a new CRD). */
async function kubectl(...args: string[]): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { stdout } = await run(KUBECTL, [`--kubeconfig=${cluster.kubeconfigPath}`, ...args]);
      return stdout;
    } catch (error) {
      if (attempt >= 60) throw error;
      await sleep(1000);
    }
  }
}

describe('the CRDs through kubectl', () => {
  it('explains a field with its description', async () => {
    const text = await kubectl('explain', 'dnszones.spec.soaRecord.adminEmail');
    assert.match(text, /RNAME as a mail address/);
  });

  // The objects created by the defaults cases above, one kind or more each.
  it('lists every kind under kubectl get dns', async () => {
    const text = await kubectl('get', 'dns', '-n', ns, '-o', 'name');
    for (const kind of KIND_NAMES) {
      assert.match(text, new RegExp(`^${kind.toLowerCase()}\\.dns\\.bind9-controller\\.io/`, 'm'));
    }
  });

  it('shows zone, name, data, TTL, Ready and age for records', async () => {
    const text = await kubectl('get', 'arecords', '-n', ns);
    const header = text.split('\n')[0]?.split(/\s+/);
    assert.deepEqual(header?.slice(0, 7), ['NAME', 'ZONE', 'NAME', 'DATA', 'TTL', 'READY', 'AGE']);
  });
});
