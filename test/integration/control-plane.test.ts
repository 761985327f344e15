/**
 * The CRDs against a real kube-apiserver + etcd: they are accepted and served, the
 * examples round-trip, the schema's rejections (the foundation's table of bad values) are
 * the API server's own, status is a real subresource, and watches deliver every event.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
  type V1CustomResourceDefinition,
  Watch,
} from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type KindName } from '../../src/api/index.ts';
import { badValues, goodValues, mutate, validExamples } from '../fixtures/resources.ts';
import { type Cluster, readManifests, useCluster } from '../harness/cluster.ts';

const CRD_DIR = join(import.meta.dirname, '../../crds');
const KINDS = Object.keys(validExamples) as KindName[];
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let cluster: Cluster;
let custom: CustomObjectsApi;
let crds: V1CustomResourceDefinition[];
const plurals = new Map<string, string>();

before(async () => {
  cluster = await useCluster();
  custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  crds = (await readManifests([CRD_DIR])).filter(
    (o): o is V1CustomResourceDefinition => o.kind === 'CustomResourceDefinition',
  );
  for (const crd of crds) plurals.set(crd.spec.names.kind, crd.spec.names.plural);
});
after(() => cluster?.stop());

function plural(kind: string): string {
  const name = plurals.get(kind);
  assert.ok(name, `crds/ has no CRD for ${kind}`);
  return name;
}

function create(namespace: string, body: object & { kind?: string }) {
  const kind = String(body.kind);
  return custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace,
    plural: plural(kind),
    body,
  }) as Promise<Record<string, unknown> & KubernetesObject>;
}

function named<T extends object>(object: T, name: string): T {
  const copy = structuredClone(object) as T & { metadata: { name: string } };
  copy.metadata.name = name;
  return copy;
}

/** The API server's message from a failed call (its body is a metav1.Status). */
function statusMessage(err: ApiException<unknown>): string {
  const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(err.body);
}

async function rejection(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) return { code: err.code, message: statusMessage(err) };
    throw err;
  }
  return assert.fail('the API server accepted it');
}

/** True when every field of `expected` is in `actual` with the same value. */
function contains(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null) return actual === expected;
  if (typeof actual !== 'object' || actual === null) return false;
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => contains(actual[i], e))
    );
  }
  const a = actual as Record<string, unknown>;
  return Object.entries(expected).every(([k, v]) => contains(a[k], v));
}

describe('the CRDs on a real kube-apiserver', () => {
  it('accepts every CRD in crds/, one per kind, and reports it Established with names accepted', async () => {
    assert.deepEqual([...plurals.keys()].sort(), [...KINDS].sort());
    const ext = cluster.kubeConfig.makeApiClient(ApiextensionsV1Api);
    for (const crd of crds) {
      const got = await ext.readCustomResourceDefinition({ name: String(crd.metadata?.name) });
      const status = (type: string) => got.status?.conditions?.find((c) => c.type === type)?.status;
      assert.equal(status('Established'), 'True', `${crd.metadata?.name} Established`);
      assert.equal(status('NamesAccepted'), 'True', `${crd.metadata?.name} NamesAccepted`);
    }
  });

  it('serves every kind in discovery as namespaced, with the status subresource, short names and the dns category', async () => {
    const list = await custom.getAPIResources({ group: API_GROUP, version: API_VERSION });
    for (const crd of crds) {
      const names = crd.spec.names;
      const main = list.resources.find((r) => r.name === names.plural);
      assert.ok(main, `${names.plural} is served`);
      assert.equal(main.namespaced, true, `${names.plural} is namespaced`);
      assert.ok(main.categories?.includes('dns'), `${names.plural} is in category dns`);
      assert.ok((main.shortNames ?? []).length > 0, `${names.plural} has a short name`);
      const status = list.resources.find((r) => r.name === `${names.plural}/status`);
      assert.ok(status, `${names.plural}/status is served`);
    }
  });
});

describe('objects on a real kube-apiserver', () => {
  let ns: string;
  before(async () => {
    ns = await cluster.createNamespace('cp-objects');
  });

  for (const kind of KINDS) {
    it(`creates the valid ${kind} example and reads it back with the spec as written`, async () => {
      const created = await create(ns, validExamples[kind]);
      const name = String(created.metadata?.name);
      const read = (await custom.getNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace: ns,
        plural: plural(kind),
        name,
      })) as Record<string, unknown>;
      assert.ok(
        contains(read.spec, validExamples[kind].spec),
        `read back ${JSON.stringify(read.spec)}`,
      );
    });
  }
});

describe('the shipped manifests', () => {
  it('has every custom resource in examples/ and deploy/bind9/ accepted by the real API server', async () => {
    const ns = await cluster.createNamespace('cp-examples');
    const root = join(import.meta.dirname, '../..');
    const ours = (await readManifests([join(root, 'examples'), join(root, 'deploy/bind9')]))
      .filter((o) => o.apiVersion === `${API_GROUP}/${API_VERSION}`)
      .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
    assert.ok(ours.length >= KINDS.length, `only ${ours.length} custom resources found`);
    const applied = await cluster.applyManifests(ours);
    assert.deepEqual(
      applied.map((o) => `${o.kind}/${o.metadata?.name}`),
      ours.map((o) => `${o.kind}/${o.metadata?.name}`),
    );
  });
});

describe('the bad values of the foundation table, sent to the real API server', () => {
  let ns: string;
  before(async () => {
    ns = await cluster.createNamespace('cp-bad');
  });

  badValues.forEach((bad, i) => {
    if (bad.layer === 'controller') {
      it(`accepts ${bad.what} in a ${bad.kind} (only the controller rejects it)`, async () => {
        await create(ns, named(mutate(bad), `controller-${i}`));
      });
      return;
    }
    it(`rejects ${bad.what} in a ${bad.kind} with a message naming ${bad.field}`, async () => {
      // A bad name is the case itself; every other case gets a unique name.
      const object = bad.path === 'metadata.name' ? mutate(bad) : named(mutate(bad), `bad-${i}`);
      const { code, message } = await rejection(create(ns, object));
      assert.equal(code, 422, message);
      assert.ok(message.includes(bad.field), `message does not name ${bad.field}: ${message}`);
    });
  });

  goodValues.forEach((good, i) => {
    it(`accepts ${good.what} in a ${good.kind}`, async () => {
      await create(ns, named(mutate(good), `good-${i}`));
    });
  });
});

describe('the status subresource', () => {
  let ns: string;
  before(async () => {
    ns = await cluster.createNamespace('cp-status');
  });

  const zone = { group: API_GROUP, version: API_VERSION, plural: 'dnszones' };
  const condition = {
    type: 'Ready',
    status: 'True',
    reason: 'Synced',
    message: 'zone served',
    lastTransitionTime: '2026-11-27T12:00:00Z',
    observedGeneration: 1,
  };

  it('ignores spec changes sent to /status and status changes sent to the object', async () => {
    const created = await create(ns, validExamples.DNSZone);
    const name = String(created.metadata?.name);
    const ttl = (validExamples.DNSZone.spec as { ttl: number }).ttl;

    const afterStatus = (await custom.patchNamespacedCustomObjectStatus(
      {
        ...zone,
        namespace: ns,
        name,
        body: {
          spec: { ttl: ttl + 1 },
          status: { observedGeneration: 1, conditions: [condition] },
        },
      },
      mergePatch,
    )) as {
      spec: { ttl: number };
      status: { observedGeneration: number };
      metadata: { generation: number };
    };
    assert.equal(afterStatus.spec.ttl, ttl, '/status changed the spec');
    assert.equal(afterStatus.status.observedGeneration, 1);
    assert.equal(afterStatus.metadata.generation, 1, 'a status write bumped the generation');

    const afterSpec = (await custom.patchNamespacedCustomObject(
      {
        ...zone,
        namespace: ns,
        name,
        body: { spec: { ttl: ttl + 2 }, status: { observedGeneration: 7 } },
      },
      mergePatch,
    )) as typeof afterStatus;
    assert.equal(afterSpec.spec.ttl, ttl + 2);
    assert.equal(afterSpec.status.observedGeneration, 1, 'the main endpoint changed the status');
    assert.equal(afterSpec.metadata.generation, 2, 'a spec change did not bump the generation');
  });

  it('rejects a status that breaks its schema (a condition status outside True/False/Unknown)', async () => {
    const created = await create(ns, named(validExamples.ARecord, 'status-schema'));
    const { code, message } = await rejection(
      custom.patchNamespacedCustomObjectStatus(
        {
          group: API_GROUP,
          version: API_VERSION,
          plural: plural('ARecord'),
          namespace: ns,
          name: String(created.metadata?.name),
          body: { status: { conditions: [{ ...condition, status: 'Maybe' }] } },
        },
        mergePatch,
      ),
    );
    assert.equal(code, 422, message);
    assert.match(message, /status\.conditions\[0\]\.status/);
  });
});

describe('immutable fields', () => {
  it("refuses a change of a DNSZone's zoneName, naming the field, and still takes other changes", async () => {
    const ns = await cluster.createNamespace('cp-immutable');
    const created = await create(ns, named(validExamples.DNSZone, 'fixed'));
    const zoneName = (created.spec as { zoneName: string }).zoneName;
    const patch = (spec: object) =>
      custom.patchNamespacedCustomObject(
        {
          group: API_GROUP,
          version: API_VERSION,
          plural: plural('DNSZone'),
          namespace: ns,
          name: 'fixed',
          body: { spec },
        },
        mergePatch,
      ) as Promise<{ spec: { zoneName: string; ttl: number } }>;
    const { code, message } = await rejection(patch({ zoneName: `other.${zoneName}` }));
    assert.equal(code, 422, message);
    assert.match(message, /spec\.zoneName/);
    assert.match(message, /zoneName is immutable/);
    const changed = await patch({ ttl: 1234 });
    assert.equal(changed.spec.zoneName, zoneName);
    assert.equal(changed.spec.ttl, 1234);
  });
});

describe('watches', () => {
  it('deliver ADDED, MODIFIED and DELETED for a record, in order', async () => {
    const ns = await cluster.createNamespace('cp-watch');
    const group = {
      group: API_GROUP,
      version: API_VERSION,
      namespace: ns,
      plural: plural('ARecord'),
    };
    // Watching from the list's resourceVersion guarantees every later event is delivered.
    const list = (await custom.listNamespacedCustomObject(group)) as {
      metadata: { resourceVersion: string };
    };
    const events: string[] = [];
    let resolveDeleted: () => void = () => {};
    const deleted = new Promise<void>((r) => {
      resolveDeleted = r;
    });
    const watch = await new Watch(cluster.kubeConfig).watch(
      `/apis/${API_GROUP}/${API_VERSION}/namespaces/${ns}/${plural('ARecord')}`,
      { resourceVersion: list.metadata.resourceVersion },
      (phase: string, object: KubernetesObject) => {
        events.push(`${phase} ${object.metadata?.name}`);
        if (phase === 'DELETED') resolveDeleted();
      },
      () => resolveDeleted(),
    );
    try {
      const name = 'watched';
      await create(ns, named(validExamples.ARecord, name));
      // The admission policy put the controller's finalizer on at creation (no controller
      // runs here to take it off): the same patch drops it, so the delete deletes.
      await custom.patchNamespacedCustomObject(
        { ...group, name, body: { metadata: { finalizers: null }, spec: { ttl: 60 } } },
        mergePatch,
      );
      await custom.deleteNamespacedCustomObject({ ...group, name });
      const timeout = new Promise<void>((r) => setTimeout(r, 60_000).unref());
      await Promise.race([deleted, timeout]);
      assert.deepEqual(events, [`ADDED ${name}`, `MODIFIED ${name}`, `DELETED ${name}`]);
    } finally {
      watch.abort();
    }
  });
});
