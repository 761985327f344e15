/**
 * Our own REST client (src/kube/rest.ts, kubeconfig.ts, watch.ts) against a real
 * kube-apiserver: custom resources and Secrets read and written, errors typed by status,
 * RBAC refusals, watches (every event type, 410 on a too-old version), paged lists.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { parse, stringify } from 'yaml';
import { DecodeError, dispositionOf } from '../../src/errors.ts';
import {
  createAuthenticator,
  loadInCluster,
  loadKubeconfigFile,
} from '../../src/kube/kubeconfig.ts';
import {
  isConflict,
  isGone,
  isKubeApiError,
  isNotFound,
  KubeRest,
  resourcePath,
} from '../../src/kube/rest.ts';
import { INITIAL_EVENTS_END, listAll, type WatchEvent, watch } from '../../src/kube/watch.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';

const GROUP = 'dns.bind9-controller.io';
const VERSION = 'v1alpha1';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
}

let cluster: Cluster;
let rest: KubeRest;
let ns: string;

async function client(path: string): Promise<KubeRest> {
  const target = await loadKubeconfigFile(path);
  return new KubeRest(target, await createAuthenticator(target));
}

const records = (namespace: string, name?: string, subresource?: string) =>
  resourcePath({
    group: GROUP,
    version: VERSION,
    plural: 'arecords',
    namespace,
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  });

function aRecord(name: string, address = '192.0.2.1'): Obj {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'ARecord',
    metadata: { name, labels: { suite: 'kube-rest' } },
    spec: { zone: 'example', name, ipv4Addresses: [address] },
  };
}

const create = (o: Obj) => rest.request<Obj>('POST', records(ns), { body: o });

/** Rejects with the thrown value, for assertions on typed errors. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  assert.fail('expected the request to fail');
}

before(async () => {
  cluster = await useCluster();
  rest = await client(cluster.kubeconfigPath);
  ns = await cluster.createNamespace('kube-rest');
});
after(async () => {
  rest?.close();
  await cluster?.stop();
});

describe('KubeRest against a real kube-apiserver', () => {
  it('creates, gets, lists and merge-patches a custom resource', async () => {
    const created = await create(aRecord('www'));
    assert.equal(created.metadata.name, 'www');
    const got = await rest.request<Obj>('GET', records(ns, 'www'));
    assert.deepEqual(got.spec?.ipv4Addresses, ['192.0.2.1']);
    const patched = await rest.request<Obj>('PATCH', records(ns, 'www'), {
      body: { spec: { ipv4Addresses: ['192.0.2.9'] } },
      contentType: 'merge-patch',
    });
    assert.deepEqual(patched.spec?.ipv4Addresses, ['192.0.2.9']);
    const list = await rest.request<{ items: Obj[] }>('GET', records(ns), {
      query: { labelSelector: 'suite=kube-rest' },
    });
    assert.ok(list.items.some((o) => o.metadata.name === 'www'));
  });

  it('patches status through the status subresource only', async () => {
    await create(aRecord('status'));
    const condition = {
      type: 'Ready',
      status: 'True',
      reason: 'Applied',
      message: 'served',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 1,
    };
    const patched = await rest.request<Obj>('PATCH', records(ns, 'status', 'status'), {
      body: { status: { observedGeneration: 1, conditions: [condition] } },
      contentType: 'merge-patch',
    });
    assert.equal(patched.status?.observedGeneration, 1);
    // The main endpoint ignores status: the condition stays as the subresource wrote it.
    await rest.request('PATCH', records(ns, 'status'), {
      body: { status: { observedGeneration: 7 } },
      contentType: 'merge-patch',
    });
    const got = await rest.request<Obj>('GET', records(ns, 'status'));
    assert.equal(got.status?.observedGeneration, 1);
  });

  it('server-side applies with apply-patch+yaml and json-patches', async () => {
    const path = `${records(ns, 'applied')}?fieldManager=kube-rest-test`;
    const applied = await rest.request<Obj>('PATCH', path, {
      body: { ...aRecord('applied'), metadata: { name: 'applied', namespace: ns } },
      contentType: 'apply-patch+yaml',
    });
    assert.equal(applied.metadata.name, 'applied');
    const patched = await rest.request<Obj>('PATCH', records(ns, 'applied'), {
      body: [{ op: 'replace', path: '/spec/ipv4Addresses/0', value: '192.0.2.77' }],
      contentType: 'json-patch',
    });
    assert.deepEqual(patched.spec?.ipv4Addresses, ['192.0.2.77']);
  });

  it('creates, reads and merge-patches a Secret', async () => {
    const path = resourcePath({ version: 'v1', plural: 'secrets', namespace: ns });
    await rest.request('POST', path, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'tsig' },
        stringData: { secret: 'c2VjcmV0' },
      },
    });
    const secretPath = resourcePath({
      version: 'v1',
      plural: 'secrets',
      namespace: ns,
      name: 'tsig',
    });
    await rest.request('PATCH', secretPath, {
      body: { data: { algorithm: Buffer.from('hmac-sha256').toString('base64') } },
      contentType: 'merge-patch',
    });
    const secret = await rest.request<Obj>('GET', secretPath);
    const decoded = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    assert.deepEqual(decoded, { secret: 'c2VjcmV0', algorithm: 'hmac-sha256' });
  });

  it('types a missing object as 404 NotFound, permanent', async () => {
    const error = await failure(rest.request('GET', records(ns, 'absent')));
    assert.ok(isKubeApiError(error) && isNotFound(error), String(error));
    assert.equal(error.reason, 'NotFound');
    assert.equal(dispositionOf(error), 'permanent');
  });

  it('types a duplicate create and a stale resourceVersion as 409, transient', async () => {
    const first = await create(aRecord('twice'));
    const duplicate = await failure(create(aRecord('twice')));
    assert.ok(isConflict(duplicate) && isKubeApiError(duplicate), String(duplicate));
    assert.equal(duplicate.reason, 'AlreadyExists');
    await rest.request('PATCH', records(ns, 'twice'), {
      body: { metadata: { labels: { touched: 'yes' } } },
      contentType: 'merge-patch',
    });
    const stale = await failure(
      rest.request('PUT', records(ns, 'twice'), { body: { ...first, metadata: first.metadata } }),
    );
    assert.ok(isConflict(stale) && isKubeApiError(stale), String(stale));
    assert.equal(stale.reason, 'Conflict');
    assert.equal(dispositionOf(stale), 'transient');
  });

  it('types an RBAC refusal as 403 Forbidden, permanent, naming the user', async () => {
    const minted = await cluster.mintKubeconfig('kube-rest-nobody', []);
    const nobody = await client(minted.path);
    try {
      const error = await failure(nobody.request('GET', records(ns)));
      assert.ok(isKubeApiError(error) && error.status === 403, String(error));
      assert.equal(error.reason, 'Forbidden');
      assert.match(error.message, /kube-rest-nobody/);
      assert.equal(dispositionOf(error), 'permanent');
    } finally {
      nobody.close();
    }
  });

  it('types an unreachable server as transient, without a response status', async () => {
    const target = { ...rest.target, server: 'https://127.0.0.1:1' };
    const dead = new KubeRest(target, await createAuthenticator(target));
    const error = await failure(dead.request('GET', '/version'));
    assert.ok(isKubeApiError(error) && error.status === undefined, String(error));
    assert.equal(error.code, 'KUBE_UNREACHABLE');
    assert.equal(dispositionOf(error), 'transient');
    dead.close();
  });

  it('refuses a response larger than its bound with a typed error', async () => {
    const target = rest.target;
    const small = new KubeRest(target, await createAuthenticator(target), { maxResponseBytes: 64 });
    try {
      const error = await failure(small.request('GET', records(ns)));
      assert.ok(isKubeApiError(error), String(error));
      assert.equal(error.code, 'RESPONSE_TOO_LARGE');
    } finally {
      small.close();
    }
  });

  it('raises DecodeError, not a crash, for a 2xx body that is not JSON', async () => {
    // /healthz answers the plain text "ok".
    const error = await failure(rest.request('GET', '/healthz'));
    assert.ok(error instanceof DecodeError, String(error));
  });

  it('ends a request whose body outlives its deadline with a TIMEOUT error', async () => {
    // A watch without events sends headers and then nothing: only the deadline ends it.
    const error = await failure(
      rest.request('GET', records(ns), {
        query: { watch: 1, fieldSelector: 'metadata.name=never', timeoutSeconds: 60 },
        timeoutMs: 300,
      }),
    );
    assert.ok(isKubeApiError(error), String(error));
    assert.equal(error.code, 'TIMEOUT');
    assert.equal(dispositionOf(error), 'transient');
  });

  it('leaves no deadline timer and no abort listener behind once a request has ended', async () => {
    // A distinctive deadline, so the spy counts only the timers of these requests.
    const deadline = 29_871;
    const target = await loadKubeconfigFile(cluster.kubeconfigPath);
    const own = new KubeRest(target, await createAuthenticator(target), { timeoutMs: deadline });
    const caller = new AbortController();
    const set = mock.method(globalThis, 'setTimeout');
    const cleared = mock.method(globalThis, 'clearTimeout');
    try {
      const signal = caller.signal;
      await own.request('POST', records(ns), { body: aRecord('timer-1'), signal });
      await own.request('GET', records(ns, 'timer-1'), { signal });
      await own.request('GET', records(ns), { signal });
      assert.ok(isNotFound(await failure(own.request('GET', records(ns, 'none'), { signal }))));
      // A watch its caller ends mid-stream: its deadline must go with it.
      const watcher = new AbortController();
      const watching = own.request('GET', records(ns), {
        query: { watch: 1, fieldSelector: 'metadata.name=never', timeoutSeconds: 60 },
        signal: watcher.signal,
      });
      setImmediate(() => watcher.abort());
      assert.equal(((await failure(watching)) as { code?: string }).code, 'ABORTED');
      const ours = set.mock.calls.filter((c) => c.arguments[1] === deadline).map((c) => c.result);
      const gone = new Set(cleared.mock.calls.map((c) => c.arguments[0]));
      assert.equal(ours.length, 5, 'one deadline timer per request');
      assert.deepEqual(
        ours.filter((t) => !gone.has(t)),
        [],
        'every deadline timer cleared when its request ended',
      );
      assert.equal(getEventListeners(signal, 'abort').length, 0);
      assert.equal(getEventListeners(watcher.signal, 'abort').length, 0);
    } finally {
      set.mock.restore();
      cleared.mock.restore();
      own.close();
    }
  });

  it('authenticates an exec-plugin user through the lazily loaded full client', async () => {
    const minted = await cluster.mintKubeconfig('kube-rest-exec', ['system:masters']);
    const doc = parse(await readFile(minted.path, 'utf8')) as {
      users: { user: Record<string, unknown> }[];
    };
    const user = doc.users[0]?.user ?? {};
    const status = {
      clientCertificateData: Buffer.from(
        String(user['client-certificate-data']),
        'base64',
      ).toString(),
      clientKeyData: Buffer.from(String(user['client-key-data']), 'base64').toString(),
    };
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status,
    };
    const plugin = join(cluster.stateDir, `exec-plugin-${ns}.mjs`);
    await writeFile(
      plugin,
      `process.stdout.write(${JSON.stringify(JSON.stringify(credential))});\n`,
    );
    const users = doc.users.map((u) => ({
      ...u,
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: [plugin],
          interactiveMode: 'Never',
        },
      },
    }));
    const execPath = join(cluster.stateDir, `exec-${ns}.kubeconfig`);
    await writeFile(execPath, stringify({ ...doc, users }), { mode: 0o600 });
    const target = await loadKubeconfigFile(execPath);
    assert.equal(target.auth.kind, 'plugin');
    const viaPlugin = new KubeRest(target, await createAuthenticator(target));
    try {
      const review = await viaPlugin.request<{ status: { userInfo: { username: string } } }>(
        'POST',
        '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
      );
      assert.equal(review.status.userInfo.username, 'kube-rest-exec');
      // A second request reuses the credential and our keep-alive agent.
      const list = await viaPlugin.request<{ items: Obj[] }>('GET', records(ns));
      assert.ok(Array.isArray(list.items));
    } finally {
      viaPlugin.close();
    }
  });

  it('runs in-cluster on a service-account token file, and picks up a rotated token', async () => {
    const tokenFor = async (sa: string) => {
      await rest.request(
        'POST',
        resourcePath({ version: 'v1', plural: 'serviceaccounts', namespace: ns }),
        {
          body: { metadata: { name: sa } },
        },
      );
      const path = `${resourcePath({ version: 'v1', plural: 'serviceaccounts', namespace: ns, name: sa })}/token`;
      const review = await rest.request<{ status: { token: string } }>('POST', path, {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} },
      });
      return review.status.token;
    };
    const dir = await mkdtemp(join(cluster.stateDir, 'sa-'));
    await writeFile(join(dir, 'token'), await tokenFor('first'));
    await writeFile(join(dir, 'ca.crt'), cluster.caPem);
    await writeFile(join(dir, 'namespace'), ns);
    const url = new URL(cluster.server);
    const env = { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port };
    const target = loadInCluster(env, dir);
    assert.equal(target.namespace, ns);
    // TTL 0: every request reads the file, so the test need not wait for a rotation period.
    const pod = new KubeRest(target, await createAuthenticator(target, { tokenFileTtlMs: 0 }));
    const whoami = async () => {
      const review = await pod.request<{ status: { userInfo: { username: string } } }>(
        'POST',
        '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
      );
      return review.status.userInfo.username;
    };
    try {
      assert.equal(await whoami(), `system:serviceaccount:${ns}:first`);
      await writeFile(join(dir, 'token'), await tokenFor('second'));
      assert.equal(await whoami(), `system:serviceaccount:${ns}:second`);
    } finally {
      pod.close();
    }
  });
});

describe('watch and listAll against a real kube-apiserver', () => {
  it('delivers ADDED, MODIFIED and DELETED in order, and ends when the loop breaks', async () => {
    const start = await rest.request<{ metadata: { resourceVersion: string } }>('GET', records(ns));
    const seen: string[] = [];
    const events = watch<Obj>(rest, records(ns), {
      resourceVersion: start.metadata.resourceVersion,
      timeoutSeconds: 60,
    });
    const reader = (async () => {
      for await (const event of events) {
        if (event.object.metadata.name !== 'watched') continue;
        seen.push(event.type);
        if (event.type === 'DELETED') break;
      }
    })();
    await create(aRecord('watched'));
    // The admission policy put the controller's finalizer on at creation (no controller
    // runs here to take it off): the same patch drops it, so the delete deletes.
    await rest.request('PATCH', records(ns, 'watched'), {
      body: { metadata: { finalizers: null }, spec: { ipv4Addresses: ['192.0.2.2'] } },
      contentType: 'merge-patch',
    });
    await rest.request('DELETE', records(ns, 'watched'));
    await reader;
    assert.deepEqual(seen, ['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('streams existing objects then an initial-events-end BOOKMARK when asked for initial events', async () => {
    await create(aRecord('existing'));
    const names: string[] = [];
    let bookmark: WatchEvent<Obj> | undefined;
    for await (const event of watch<Obj>(rest, records(ns), {
      sendInitialEvents: true,
      timeoutSeconds: 30,
    })) {
      if (event.type === 'BOOKMARK') {
        bookmark = event;
        break;
      }
      names.push(event.object.metadata.name);
    }
    assert.ok(names.includes('existing'), names.join(','));
    assert.equal(bookmark?.object.metadata.annotations?.[INITIAL_EVENTS_END], 'true');
    assert.ok(bookmark?.object.metadata.resourceVersion);
  });

  it('surfaces a too-old resourceVersion as 410 Gone', async () => {
    const error = await failure(
      (async () => {
        for await (const _ of watch(rest, records(ns), {
          resourceVersion: '1',
          timeoutSeconds: 30,
        })) {
          // Any event before the error would be a bug of the test's premise, not of watch.
        }
      })(),
    );
    assert.ok(isGone(error), String(error));
  });

  it('ends quietly, without an error, when its signal aborts mid-stream', async () => {
    const start = await rest.request<{ metadata: { resourceVersion: string } }>('GET', records(ns));
    const controller = new AbortController();
    const types: string[] = [];
    const reader = (async () => {
      for await (const event of watch(rest, records(ns), {
        resourceVersion: start.metadata.resourceVersion,
        signal: controller.signal,
        timeoutSeconds: 60,
      })) {
        types.push(event.type);
        controller.abort();
      }
    })();
    await create(aRecord('aborted'));
    await create(aRecord('after-abort'));
    await reader;
    assert.deepEqual(types, ['ADDED']);
  });

  it('lists every item across pages by following continue tokens', async () => {
    const paged = await cluster.createNamespace('kube-rest-pages');
    const path = records(paged);
    for (let i = 0; i < 7; i++) {
      await rest.request('POST', path, { body: aRecord(`r${i}`) });
    }
    const first = await rest.request<{ items: Obj[]; metadata: { continue?: string } }>(
      'GET',
      path,
      {
        query: { limit: 3 },
      },
    );
    assert.equal(first.items.length, 3);
    assert.ok(first.metadata.continue, 'the first page of 3 carries a continue token');
    const all = await listAll<Obj>(rest, path, { limit: 3 });
    assert.deepEqual(all.items.map((o) => o.metadata.name).sort(), [
      'r0',
      'r1',
      'r2',
      'r3',
      'r4',
      'r5',
      'r6',
    ]);
    assert.ok(all.resourceVersion !== '');
  });
});
