import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import {
  createAuthenticator,
  KubeconfigError,
  type KubeTarget,
  loadInCluster,
  loadKubeconfig,
  loadKubeconfigFile,
  parseKubeconfig,
  tokenFileReader,
} from './kubeconfig.ts';
import { impersonationHeaders } from './rest.ts';

const TOKEN = 'sekret-token-value-0123456789';
const PASSWORD = 'pa55-w0rd-value';
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYBYTES\n-----END PRIVATE KEY-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function config(user: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'c1',
        cluster: { server: 'https://127.0.0.1:6443/', 'certificate-authority': 'ca.pem' },
      },
      {
        name: 'c2',
        cluster: { server: 'https://k8s.example:443', 'insecure-skip-tls-verify': true },
      },
    ],
    users: [{ name: 'u', user }],
    contexts: [
      { name: 'one', context: { cluster: 'c1', user: 'u', namespace: 'zones' } },
      { name: 'two', context: { cluster: 'c2', user: 'u' } },
      { name: 'dangling', context: { cluster: 'nowhere', user: 'u' } },
    ],
    'current-context': 'one',
    ...extra,
  });
}

async function headersOf(target: KubeTarget): Promise<Record<string, string>> {
  const options: RequestOptions = {};
  await (await createAuthenticator(target)).apply(options);
  return (options.headers ?? {}) as Record<string, string>;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubeconfig-test-'));
  await writeFile(join(dir, 'ca.pem'), 'CA-PEM');
  await writeFile(join(dir, 'client.crt'), 'CLIENT-CERT');
  await writeFile(join(dir, 'client.key'), KEY_PEM);
  await writeFile(join(dir, 'token'), `${TOKEN}\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('kubeconfig files', () => {
  it('uses the current context: its server without a trailing slash, namespace and CA file', async () => {
    const path = await file('current.yaml', config({ token: TOKEN }));
    const t = await loadKubeconfigFile(path);
    assert.equal(t.server, 'https://127.0.0.1:6443');
    assert.equal(t.namespace, 'zones');
    assert.equal(t.tls.ca?.toString(), 'CA-PEM');
    assert.equal(t.tls.insecureSkipTlsVerify, false);
    assert.equal(t.origin, `kubeconfig ${path} context one`);
  });

  it('uses an explicit context instead, with the namespace defaulting to default', async () => {
    const t = await loadKubeconfigFile(
      await file('explicit.yaml', config({ token: TOKEN })),
      'two',
    );
    assert.equal(t.server, 'https://k8s.example:443');
    assert.equal(t.namespace, 'default');
    assert.equal(t.tls.insecureSkipTlsVerify, true);
  });

  it('resolves relative certificate, key and token files against the kubeconfig directory', async () => {
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'sub', 'ca.pem'), 'SUB-CA');
    const user = {
      'client-certificate': '../client.crt',
      'client-key': '../client.key',
      tokenFile: '../token',
    };
    const t = await loadKubeconfigFile(await file('sub/relative.yaml', config(user)));
    assert.equal(t.tls.ca?.toString(), 'SUB-CA');
    assert.equal(t.tls.cert?.toString(), 'CLIENT-CERT');
    assert.equal(t.tls.key?.reveal().toString(), KEY_PEM);
    assert.deepEqual(t.auth, { kind: 'tokenFile', path: join(dir, 'token') });
  });

  it('prefers inline -data fields over files', async () => {
    const user = {
      'client-certificate-data': b64('INLINE-CERT'),
      'client-certificate': 'missing.crt',
      'client-key-data': b64(KEY_PEM),
    };
    const t = await loadKubeconfigFile(await file('inline.yaml', config(user)));
    assert.equal(t.tls.cert?.toString(), 'INLINE-CERT');
    assert.equal(t.tls.key?.reveal().toString(), KEY_PEM);
  });

  it('sends a bearer token from token', async () => {
    const t = await loadKubeconfigFile(await file('token.yaml', config({ token: TOKEN })));
    assert.equal((await headersOf(t)).Authorization, `Bearer ${TOKEN}`);
  });

  it('sends a bearer token read from tokenFile, trimmed', async () => {
    const t = await loadKubeconfigFile(
      await file('tokenfile.yaml', config({ tokenFile: 'token' })),
    );
    assert.equal((await headersOf(t)).Authorization, `Bearer ${TOKEN}`);
  });

  it('sends basic credentials from username and password', async () => {
    const user = { username: 'alice', password: PASSWORD };
    const t = await loadKubeconfigFile(await file('basic.yaml', config(user)));
    assert.equal((await headersOf(t)).Authorization, `Basic ${b64(`alice:${PASSWORD}`)}`);
  });

  it('sends no Authorization header for a client-certificate user', async () => {
    const user = { 'client-certificate': 'client.crt', 'client-key': 'client.key' };
    const t = await loadKubeconfigFile(await file('cert.yaml', config(user)));
    assert.equal(t.auth.kind, 'none');
    assert.equal((await headersOf(t)).Authorization, undefined);
  });

  it('marks exec and auth-provider users as needing the full client', async () => {
    const exec = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } };
    const path = await file('exec.yaml', config(exec));
    assert.deepEqual((await loadKubeconfigFile(path)).auth, {
      kind: 'plugin',
      plugin: 'exec',
      context: 'one',
      contextFile: path,
      user: { name: 'u', file: path },
      cluster: { name: 'c1', file: path },
    });
    const provider = { 'auth-provider': { name: 'oidc', config: {} } };
    const t = await loadKubeconfigFile(await file('provider.yaml', config(provider)), 'two');
    assert.equal(t.auth.kind === 'plugin' && t.auth.plugin, 'auth-provider');
    assert.equal(t.auth.kind === 'plugin' && t.auth.context, 'two');
  });

  it('fails with a KubeconfigError naming a missing context, cluster or current-context', async () => {
    const path = await file('ctx.yaml', config({ token: TOKEN }));
    await assert.rejects(
      () => loadKubeconfigFile(path, 'absent'),
      (e: unknown) => {
        return e instanceof KubeconfigError && /no context named absent/.test(e.message);
      },
    );
    await assert.rejects(() => loadKubeconfigFile(path, 'dangling'), /no cluster named nowhere/);
    const none = await file('none.yaml', config({ token: TOKEN }, { 'current-context': '' }));
    await assert.rejects(() => loadKubeconfigFile(none), /has no current-context/);
  });

  it('fails with a KubeconfigError when a referenced file is missing', async () => {
    const user = { 'client-certificate': 'nope.crt' };
    const path = await file('missing.yaml', config(user));
    await assert.rejects(
      () => loadKubeconfigFile(path),
      (e: unknown) => {
        return e instanceof KubeconfigError && e.message.includes(join(dir, 'nope.crt'));
      },
    );
  });

  it('never puts a token, password or key in messages, JSON or inspect output', async () => {
    const user = {
      token: TOKEN,
      username: 'a',
      password: PASSWORD,
      'client-key-data': b64(KEY_PEM),
    };
    const t = await loadKubeconfigFile(await file('secrets.yaml', config(user)));
    const basic = await loadKubeconfigFile(
      await file('secrets2.yaml', config({ username: 'a', password: PASSWORD })),
    );
    for (const shown of [
      JSON.stringify(t),
      inspect(t, { depth: 10 }),
      JSON.stringify(basic),
      inspect(basic, { depth: 10 }),
    ]) {
      assert.ok(
        !shown.includes(TOKEN) && !shown.includes(PASSWORD) && !shown.includes('TOPSECRET'),
        shown,
      );
    }
    // A YAML error near a token is reported by position, without quoting the source.
    const broken = `users:\n- name: u\n  user:\n    token: "${TOKEN}\n  bad: [`;
    await assert.rejects(
      () => parseKubeconfig(broken, '/x/broken.yaml'),
      (e: unknown) => {
        const text = `${(e as Error).message} ${inspect(e)}`;
        return e instanceof KubeconfigError && /not valid YAML/.test(text) && !text.includes(TOKEN);
      },
    );
  });
});

describe('JSON kubeconfigs', () => {
  it('read the same as their YAML form', async () => {
    const user = { token: TOKEN, 'client-certificate': 'client.crt' };
    const yaml = await loadKubeconfigFile(await file('same.yaml', config(user)));
    const asJson = JSON.stringify(parseYaml(config(user)));
    const json = await loadKubeconfigFile(await file('same.json', asJson));
    assert.deepEqual({ ...json, origin: '' }, { ...yaml, origin: '' });
    assert.equal((await headersOf(json)).Authorization, `Bearer ${TOKEN}`);
  });
});

describe('the default chain', () => {
  it('takes the only existing file of a KUBECONFIG list', async () => {
    const path = await file('chain.yaml', config({ token: TOKEN }));
    const t = await loadKubeconfig({ env: { KUBECONFIG: `${path}:/does/not/exist`, HOME: dir } });
    assert.equal(t.origin, `kubeconfig ${path} context one`);
  });

  it('merges a KUBECONFIG list as client-go does: first current-context and first of each name win, paths relative to their own file', async () => {
    await mkdir(join(dir, 'b'), { recursive: true });
    await writeFile(join(dir, 'b', 'ca.pem'), 'CA-OF-B');
    const first = await file(
      'merge-a.yaml',
      stringify({
        'current-context': 'work',
        contexts: [{ name: 'work', context: { cluster: 'shared', user: 'me', namespace: 'dns' } }],
        users: [{ name: 'me', user: { token: TOKEN } }],
      }),
    );
    const second = join(dir, 'b', 'merge-b.yaml');
    await writeFile(
      second,
      stringify({
        'current-context': 'other',
        clusters: [
          {
            name: 'shared',
            cluster: { server: 'https://b.example:6443', 'certificate-authority': 'ca.pem' },
          },
        ],
        users: [{ name: 'me', user: { token: 'the-second-files-token' } }],
        contexts: [{ name: 'work', context: { cluster: 'nowhere', user: 'me' } }],
      }),
    );
    const t = await loadKubeconfig({
      env: { KUBECONFIG: `/does/not/exist:${first}::${second}`, HOME: dir },
    });
    assert.equal(t.server, 'https://b.example:6443');
    assert.equal(t.namespace, 'dns', 'the first file defines context work');
    assert.equal(t.tls.ca?.toString(), 'CA-OF-B', 'ca.pem resolves next to the second file');
    assert.equal((await headersOf(t)).Authorization, `Bearer ${TOKEN}`, 'the first user me wins');
    const chosen = await loadKubeconfig({
      env: { KUBECONFIG: `${first}:${second}`, HOME: dir },
      context: 'work',
    });
    assert.equal(chosen.server, 'https://b.example:6443');
  });

  it('refuses a KUBECONFIG list none of whose files exists, naming them', async () => {
    await assert.rejects(
      loadKubeconfig({ env: { KUBECONFIG: '/no/a:/no/b', HOME: dir } }),
      (e: unknown) => e instanceof KubeconfigError && /\/no\/a, \/no\/b/.test(e.message),
    );
  });

  it('falls back to the service account when no kubeconfig exists', async () => {
    const sa = await mkdtemp(join(tmpdir(), 'sa-'));
    await writeFile(join(sa, 'token'), TOKEN);
    await writeFile(join(sa, 'ca.crt'), 'SA-CA');
    await writeFile(join(sa, 'namespace'), 'dns-system\n');
    const env = {
      HOME: join(dir, 'empty-home'),
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    };
    const t = await loadKubeconfig({ env, serviceAccountDir: sa });
    assert.equal(t.server, 'https://10.0.0.1:443');
    assert.equal(t.namespace, 'dns-system');
    assert.equal(t.tls.ca?.toString(), 'SA-CA');
    assert.equal((await headersOf(t)).Authorization, `Bearer ${TOKEN}`);
    await rm(sa, { recursive: true, force: true });
  });

  it('brackets an IPv6 service host and fails outside a cluster', async () => {
    const sa = await mkdtemp(join(tmpdir(), 'sa6-'));
    await writeFile(join(sa, 'token'), TOKEN);
    await writeFile(join(sa, 'ca.crt'), 'SA-CA');
    const t = loadInCluster(
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      sa,
    );
    assert.equal(t.server, 'https://[fd00::1]:443');
    assert.equal(t.namespace, 'default');
    assert.throws(() => loadInCluster({}, sa), KubeconfigError);
    await rm(sa, { recursive: true, force: true });
  });
});

describe('token files', () => {
  it('are read again once the TTL has passed, so a rotated token is picked up', async () => {
    const path = await file('rotating', 'first');
    let now = 0;
    const read = tokenFileReader(path, { now: () => now, tokenFileTtlMs: 60_000 });
    assert.equal(await read(), 'first');
    await writeFile(path, 'second');
    now = 59_999;
    assert.equal(await read(), 'first');
    now = 60_000;
    assert.equal(await read(), 'second');
  });
});

describe('keys that change who we are or where we connect', () => {
  it('reads as, as-uid, as-groups and as-user-extra into the impersonation sent on every request', async () => {
    const user = {
      token: TOKEN,
      as: 'jane',
      'as-uid': 'uid-1',
      'as-groups': ['dev', 'ops'],
      'as-user-extra': { 'acme.com/project': ['p1', 'p2'], scopes: 'one' },
    };
    const t = await loadKubeconfigFile(await file('as.yaml', config(user)));
    assert.deepEqual(t.impersonate, {
      user: 'jane',
      uid: 'uid-1',
      groups: ['dev', 'ops'],
      extra: { 'acme.com/project': ['p1', 'p2'], scopes: ['one'] },
    });
    assert.deepEqual(impersonationHeaders(t.impersonate), {
      'Impersonate-User': 'jane',
      'Impersonate-Uid': 'uid-1',
      'Impersonate-Group': ['dev', 'ops'],
      'Impersonate-Extra-acme.com%2Fproject': ['p1', 'p2'],
      'Impersonate-Extra-scopes': ['one'],
    });
    const plain = await loadKubeconfigFile(await file('plain.yaml', config({ token: TOKEN })));
    assert.equal(plain.impersonate, undefined);
    assert.deepEqual(impersonationHeaders(plain.impersonate), {});
  });

  it('refuses as-groups, as-uid or as-user-extra without as, naming the key', async () => {
    for (const [key, value] of [
      ['as-groups', ['system:masters']],
      ['as-uid', 'u1'],
      ['as-user-extra', { a: ['b'] }],
    ] as const) {
      const path = await file(`no-as-${key}.yaml`, config({ token: TOKEN, [key]: value }));
      await assert.rejects(
        loadKubeconfigFile(path),
        (e: unknown) =>
          e instanceof KubeconfigError && e.message.includes(key) && /needs as/.test(e.message),
      );
    }
    const bad = await file('bad-as.yaml', config({ token: TOKEN, as: ['x'] }));
    await assert.rejects(loadKubeconfigFile(bad), /\bas must be a user name/);
  });

  it('refuses a cluster with proxy-url, naming the key, instead of going around the proxy', async () => {
    const text = config({ token: TOKEN }).replace(
      'server: https://127.0.0.1:6443/',
      'server: https://127.0.0.1:6443/\n      proxy-url: http://proxy.example:3128',
    );
    assert.match(text, /proxy-url/);
    const path = await file('proxy.yaml', text);
    await assert.rejects(
      loadKubeconfigFile(path),
      (e: unknown) => e instanceof KubeconfigError && /proxy-url/.test(e.message),
    );
  });
});
