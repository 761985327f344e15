/**
 * The kubeconfig keys that change who the controller is or which file says so, against a
 * real kube-apiserver (issue #12): impersonation (`as`, `as-uid`, `as-groups`,
 * `as-user-extra`) acts as that identity — proved by the server's own SelfSubjectReview
 * and by a request RBAC denies to the impersonated user — and a `KUBECONFIG` list of
 * several files is merged the way kubectl merges it.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import {
  createAuthenticator,
  loadKubeconfig,
  loadKubeconfigFile,
} from '../../src/kube/kubeconfig.ts';
import { isKubeApiError, KubeRest } from '../../src/kube/rest.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';

type Doc = Record<string, unknown> & {
  users: { name: string; user: Record<string, unknown> }[];
};

interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

let cluster: Cluster;
let dir: string;
let admin: Doc;

before(async () => {
  cluster = await useCluster();
  dir = await mkdtemp(join(tmpdir(), 'kubeconfig-it-'));
  admin = parse(await readFile(cluster.kubeconfigPath, 'utf8')) as Doc;
});
after(async () => {
  await cluster?.stop();
});

/** The admin kubeconfig with extra fields on its user, written to a file of its own. */
async function adminAs(name: string, extra: Record<string, unknown>): Promise<string> {
  const doc = structuredClone(admin);
  for (const u of doc.users) Object.assign(u.user, extra);
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, stringify(doc));
  return path;
}

async function client(path: string): Promise<KubeRest> {
  const target = await loadKubeconfigFile(path);
  return new KubeRest(target, await createAuthenticator(target));
}

/** Who the API server says we are (authentication.k8s.io SelfSubjectReview). */
async function whoAmI(rest: KubeRest): Promise<UserInfo> {
  const review = await rest.request<{ status?: { userInfo?: UserInfo } }>(
    'POST',
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
  );
  return review.status?.userInfo ?? {};
}

describe('kubeconfig impersonation and KUBECONFIG lists against the real API server', () => {
  it('acts as the user, uid, groups and extras the kubeconfig user names with as', async () => {
    const rest = await client(
      await adminAs('as-jane', {
        as: 'jane',
        'as-uid': 'uid-42',
        'as-groups': ['dns-admins', 'system:authenticated'],
        'as-user-extra': { 'example.com/team': ['blue', 'green'] },
      }),
    );
    try {
      const me = await whoAmI(rest);
      assert.equal(me.username, 'jane');
      assert.equal(me.uid, 'uid-42');
      assert.deepEqual([...(me.groups ?? [])].sort(), ['dns-admins', 'system:authenticated']);
      assert.deepEqual(me.extra?.['example.com/team'], ['blue', 'green']);
    } finally {
      rest.close();
    }
  });

  it('is denied what RBAC denies the impersonated user, though the certificate is an admin', async () => {
    const plain = await client(cluster.kubeconfigPath);
    const as = await client(await adminAs('as-nobody', { as: 'nobody-in-particular' }));
    try {
      assert.equal((await whoAmI(plain)).groups?.includes('system:masters'), true);
      await plain.request('GET', '/api/v1/namespaces');
      const denied = await as.request('GET', '/api/v1/namespaces').then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(isKubeApiError(denied), 'the impersonated request failed with an API error');
      assert.equal(denied.status, 403);
      assert.match(denied.message, /nobody-in-particular/);
    } finally {
      plain.close();
      as.close();
    }
  });

  it('merges a KUBECONFIG list: the context from one file, the cluster and user from another', async () => {
    const context = (admin.contexts as { name: string }[])[0];
    assert.ok(context !== undefined);
    const first = join(dir, 'list-context.yaml');
    await writeFile(
      first,
      stringify({ 'current-context': context.name, contexts: admin.contexts }),
    );
    await mkdir(join(dir, 'other'), { recursive: true });
    const second = join(dir, 'other', 'list-rest.yaml');
    await writeFile(
      second,
      stringify({
        'current-context': 'not-this-one',
        clusters: admin.clusters,
        users: admin.users,
      }),
    );
    const target = await loadKubeconfig({
      env: { KUBECONFIG: `${join(dir, 'missing.yaml')}:${first}:${second}` },
    });
    const rest = new KubeRest(target, await createAuthenticator(target));
    try {
      assert.equal((await whoAmI(rest)).groups?.includes('system:masters'), true);
    } finally {
      rest.close();
    }
  });
});
