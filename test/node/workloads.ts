/**
 * What a user installs, installed the way the README says, into the one-node cluster:
 * `kubectl apply -k deploy/`, `deploy/bind9/` with two keys from `tsig-keygen`, and
 * `examples/`. Every step is idempotent, so each test file (and the demo's --node mode)
 * calls `installAll` and finds the cluster as the previous one left it or better.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readyOf } from '../../scripts/lib/examples.ts';
import { type Manifest, renderKustomization } from '../../scripts/lib/manifests.ts';
import { RESOURCE_KINDS } from '../../src/api/index.ts';
import type { ImageName } from '../../tools/images/build.ts';
import { type NodeCluster, REPO_ROOT } from './harness.ts';
import { builtImages, imageId } from './images.ts';
import { waitFor } from './system.ts';

const run = promisify(execFile);

export const CONTROLLER_NAMESPACE = 'bind9-controller-system';
export const CONTROLLER_SELECTOR =
  'app.kubernetes.io/name=bind9-controller,app.kubernetes.io/component=controller';
export const BIND9_NAMESPACE = 'dns';
export const BIND9_SELECTOR =
  'app.kubernetes.io/name=bind9,app.kubernetes.io/instance=bind9-primary';
export const BIND9_SERVICE = 'bind9-primary';
export const LEASE = 'bind9-controller';
const KEY_SECRETS = { 'bind9-tsig-key': 'ctrl-key', 'bind9-rndc-key': 'rndc-key' } as const;

/** A TSIG key as dig -y wants it. */
export interface TsigKey {
  readonly name: string;
  readonly algorithm: string;
  readonly secret: string;
}

export async function examples(): Promise<Manifest[]> {
  return renderKustomization(join(REPO_ROOT, 'examples'));
}

/** The README's step 2: the key Secrets from tsig-keygen, created once and then kept. */
async function ensureKeySecrets(c: NodeCluster): Promise<void> {
  for (const [secret, keyName] of Object.entries(KEY_SECRETS)) {
    const found = await c.kubectl([
      '-n',
      BIND9_NAMESPACE,
      'get',
      'secret',
      secret,
      '--ignore-not-found',
      '-o',
      'name',
    ]);
    if (found.trim() !== '') continue;
    const { stdout: keyfile } = await run('tsig-keygen', ['-a', 'hmac-sha256', keyName]);
    await c.kubectl([
      '-n',
      BIND9_NAMESPACE,
      'create',
      'secret',
      'generic',
      secret,
      `--from-literal=keyfile=${keyfile}`,
    ]);
  }
}

/** The TSIG key the controller signs with (from its Secret), for a signed AXFR in tests. */
export async function controllerKey(c: NodeCluster): Promise<TsigKey> {
  const b64 = await c.kubectl([
    '-n',
    BIND9_NAMESPACE,
    'get',
    'secret',
    'bind9-tsig-key',
    '-o',
    'jsonpath={.data.keyfile}',
  ]);
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const m = /key\s+"([^"]+)"\s*\{\s*algorithm\s+([\w-]+);\s*secret\s+"([^"]+)";/.exec(text);
  if (!m) throw new RangeError('bind9-tsig-key holds no key');
  return { name: m[1] as string, algorithm: m[2] as string, secret: m[3] as string };
}

/**
 * Restarts a workload whose pods run an older build of one of our images: the image keeps
 * its name (the one the manifests use) when `up` loads a new build, so nothing else would
 * replace them. Returns whether it restarted.
 */
export async function restartIfStale(
  c: NodeCluster,
  namespace: string,
  workload: string,
  image: ImageName,
): Promise<boolean> {
  const want = await imageId((await builtImages())[image]);
  const selector = await c.kubectl([
    '-n',
    namespace,
    'get',
    workload,
    '-o',
    'jsonpath={.spec.selector.matchLabels}',
  ]);
  const labels = Object.entries(JSON.parse(selector || '{}') as Record<string, string>).map(
    ([k, v]) => `${k}=${v}`,
  );
  const pods = await c.pods(namespace, labels.join(','));
  const stale = pods.some((p) =>
    p.status.containerStatuses?.some((s) => s.imageID !== undefined && s.imageID !== want),
  );
  if (!stale) return false;
  await c.kubectl(['-n', namespace, 'rollout', 'restart', workload]);
  await c.waitForRollout(namespace, workload);
  return true;
}

/** Applies deploy/, deploy/bind9/ (with its keys) and examples/, exactly as shipped. */
export async function applyAll(c: NodeCluster): Promise<void> {
  await c.kubectl(['apply', '-k', join(REPO_ROOT, 'deploy')]);
  await c.kubectl(['apply', '-k', join(REPO_ROOT, 'deploy/bind9')]);
  await ensureKeySecrets(c);
  await restartIfStale(c, CONTROLLER_NAMESPACE, 'deployment/bind9-controller', 'controller');
  await restartIfStale(c, BIND9_NAMESPACE, 'deployment/bind9-primary', 'bind9');
  await c.kubectl(['apply', '-k', join(REPO_ROOT, 'examples')]);
}

/** Ready status of our resources, by `Kind/namespace/name`. */
export async function readiness(
  c: NodeCluster,
): Promise<Map<string, { status: string; reason: string }>> {
  const list = await c.kubectlJson<{ items: Manifest[] }>([
    'get',
    Object.values(RESOURCE_KINDS)
      .map((k) => k.plural)
      .join(','),
    '-A',
  ]);
  return new Map(
    list.items.map((o) => [`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, readyOf(o)]),
  );
}

/** Waits until every object is Ready=True; the message names those that are not. */
export async function waitAllReady(
  c: NodeCluster,
  objects: readonly Manifest[],
  timeoutMs = 480_000,
): Promise<void> {
  const ids = objects.map(
    (o) => `${o.kind}/${o.metadata.namespace ?? BIND9_NAMESPACE}/${o.metadata.name}`,
  );
  let waiting: string[] = [];
  await waitFor(
    `${ids.length} resources Ready`,
    timeoutMs,
    async () => {
      const states = await readiness(c);
      waiting = ids.filter((id) => states.get(id)?.status !== 'True');
      if (waiting.length === 0) return true;
      throw new RangeError(
        `not Ready: ${waiting.map((id) => `${id} (${states.get(id)?.reason ?? 'absent'})`).join(', ')}`,
      );
    },
    1000,
  );
}

/** applyAll, then waits for both controller pods, the BIND9 pod and every example to be Ready. */
export async function installAll(c: NodeCluster): Promise<Manifest[]> {
  await applyAll(c);
  await c.waitForPods(CONTROLLER_NAMESPACE, CONTROLLER_SELECTOR, { count: 2 });
  await c.waitForPods(BIND9_NAMESPACE, BIND9_SELECTOR, { count: 1 });
  const objects = [
    ...(await examples()),
    ...(await renderKustomization(join(REPO_ROOT, 'deploy/bind9'))).filter(
      (o) => o.kind === 'Bind9Instance',
    ),
  ];
  await waitAllReady(c, objects);
  return objects;
}

/** Who holds the controller's Lease ('' when nobody). */
export async function leaseHolder(
  c: NodeCluster,
  namespace = CONTROLLER_NAMESPACE,
): Promise<string> {
  return (
    await c.kubectl([
      '-n',
      namespace,
      'get',
      'lease',
      LEASE,
      '--ignore-not-found',
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ])
  ).trim();
}

/** The BIND9 Service's ClusterIP: where clients, and the controller, reach named. */
export async function bind9Address(c: NodeCluster): Promise<string> {
  return c.serviceIp(BIND9_NAMESPACE, BIND9_SERVICE);
}

/** Every record of a zone by signed AXFR, as `name TTL TYPE rdata` lines, sorted. */
export async function axfr(c: NodeCluster, zone: string): Promise<string[]> {
  const key = await controllerKey(c);
  const server = await bind9Address(c);
  const out = await c.run('dig', [
    `@${server}`,
    '-y',
    `${key.algorithm}:${key.name}:${key.secret}`,
    zone,
    'AXFR',
    '+noall',
    '+answer',
    '+time=5',
  ]);
  const lines = out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && f[2] === 'IN' && f[3] !== 'TSIG')
    .map((f) => [f[0], f[1], f[3], f.slice(4).join(' ')].join(' ').toLowerCase());
  // The SOA closes the transfer a second time.
  return [...new Set(lines)].sort();
}
