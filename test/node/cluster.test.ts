/**
 * examples/cluster/ on the one-node cluster, as a user runs it: `kubectl apply -k deploy/`,
 * then `kubectl apply -k examples/cluster/` and nothing else. The controller renders
 * named.conf, generates the keys and starts one primary and two secondaries as real pods;
 * every record is answered by each pod and by the query Service. A deleted primary pod
 * comes back empty and is restored within 10 s of turning Ready, and the secondaries catch
 * up; a third secondary gets every zone; deleting the Bind9Cluster removes all it made and
 * leaves no finalizer behind.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { digExamples } from '../../scripts/lib/examples.ts';
import { type Manifest, renderKustomization } from '../../scripts/lib/manifests.ts';
import { nodeCluster, type Pod, REPO_ROOT } from './harness.ts';
import { waitFor } from './system.ts';
import { CONTROLLER_NAMESPACE, CONTROLLER_SELECTOR, waitAllReady } from './workloads.ts';

const cluster = await nodeCluster();

const NS = 'dns-cluster';
const NAME = 'bind9';
const PODS = `app.kubernetes.io/name=bind9,bind9-controller.io/cluster=${NAME}`;
const EXAMPLE = join(REPO_ROOT, 'examples/cluster');

let declared: Manifest[] = [];
let appliedAt = 0;

/** What the test adds after the restart: it must reach every secondary. */
const LATE: Manifest = {
  apiVersion: 'dns.bind9-controller.io/v1alpha1',
  kind: 'TXTRecord',
  metadata: { name: 'late', namespace: NS },
  spec: { zone: 'example-org', name: 'late', values: ['added after the primary came back'] },
};

before(async () => {
  await cluster.kubectl(['apply', '-k', join(REPO_ROOT, 'deploy')]);
  await cluster.waitForPods(CONTROLLER_NAMESPACE, CONTROLLER_SELECTOR, { count: 2 });
  declared = await renderKustomization(EXAMPLE);
  appliedAt = Date.now();
  await cluster.kubectl(['apply', '-k', EXAMPLE]);
});

after(async () => {
  // The last test deletes the cluster; the namespace goes here whatever happened.
  await cluster.kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
});

const ours = (objects: readonly Manifest[]) =>
  objects.filter((o) => o.apiVersion === 'dns.bind9-controller.io/v1alpha1');

/** Each pod's own Service address (where the controller reaches it), by pod name. */
async function podAddresses(): Promise<Map<string, string>> {
  const pods = await cluster.pods(NS, PODS);
  const out = new Map<string, string>();
  for (const pod of pods)
    out.set(pod.metadata.name, await cluster.serviceIp(NS, pod.metadata.name));
  return out;
}

/** The records that do not match at `address` (none: it answers every one as declared). */
async function unanswered(address: string, objects: readonly Manifest[]): Promise<string[]> {
  const checks = await digExamples({ address, port: 53 }, objects);
  return checks.filter((c) => !c.same).map((c) => `${c.id}: got ${c.got.join(' | ') || 'nothing'}`);
}

async function answersEverything(what: string, address: string, objects: readonly Manifest[]) {
  let missing: string[] = [];
  await waitFor(
    `${what} answering every record`,
    180_000,
    async () => {
      missing = await unanswered(address, objects);
      if (missing.length === 0) return true;
      throw new RangeError(missing.join('; '));
    },
    500,
  );
}

function role(pod: Pod): string | undefined {
  return pod.metadata.labels?.['bind9-controller.io/role'];
}

async function serial(address: string): Promise<string> {
  const out = await cluster.dig(address, 'example.org', 'SOA');
  return /\bSOA\s+\S+\s+\S+\s+(\d+)/.exec(out)?.[1] ?? '';
}

test('examples/cluster/ as shipped: three pods Ready, the cluster Ready, every record answered by each pod and by the query Service', async (t) => {
  const pods = await cluster.waitForPods(NS, PODS, { count: 3, timeoutMs: 300_000 });
  assert.deepEqual(pods.map(role).sort(), ['primary', 'secondary', 'secondary']);
  await waitAllReady(cluster, ours(declared));
  for (const [pod, address] of await podAddresses())
    await answersEverything(pod, address, declared);
  await answersEverything('the query Service', await cluster.serviceIp(NS, NAME), declared);
  const seconds = (Date.now() - appliedAt) / 1000;
  t.diagnostic(`everything Ready and answered ${seconds.toFixed(1)} s after kubectl apply`);
  process.stderr.write(
    `[cluster] examples/cluster/ Ready and answered ${seconds.toFixed(1)} s after apply\n`,
  );
});

test('a deleted primary pod is restored within 10 s of turning Ready, and the secondaries catch up', async (t) => {
  const [old] = (await cluster.pods(NS, PODS)).filter((p) => role(p) === 'primary');
  assert.ok(old, 'a primary pod');
  const address = await cluster.serviceIp(NS, old.metadata.name);
  await cluster.kubectl(['-n', NS, 'delete', 'pod', old.metadata.name, '--wait=false']);
  const fresh = await waitFor('a new primary pod, Ready', 180_000, async () => {
    const found = (await cluster.pods(NS, PODS)).find(
      (p) =>
        role(p) === 'primary' &&
        p.metadata.uid !== old.metadata.uid &&
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    return found;
  });
  const readySince = fresh.status.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
  assert.ok(readySince, 'the new pod has a Ready time');
  const answeredAt = await waitFor(
    'the new primary answering every record',
    120_000,
    async () => ((await unanswered(address, declared)).length === 0 ? Date.now() : undefined),
    200,
  );
  const seconds = (answeredAt - Date.parse(readySince)) / 1000;
  t.diagnostic(`primary restored ${seconds.toFixed(1)} s after its pod turned Ready`);
  process.stderr.write(
    `[cluster] primary replaced: every record answered ${seconds.toFixed(1)} s after Ready\n`,
  );
  assert.ok(seconds <= 10, `restored ${seconds.toFixed(1)} s after Ready (at most 10 s)`);
  // A change made now reaches every secondary, and they serve the primary's serial.
  await cluster.apply([LATE]);
  const secondaries = [...(await podAddresses())].filter(([pod]) => pod.includes('-secondary-'));
  for (const [pod, ip] of secondaries) {
    await answersEverything(pod, ip, [...declared, LATE]);
    await waitFor(`${pod} at the primary's serial`, 60_000, async () =>
      (await serial(ip)) === (await serial(address)) ? true : undefined,
    );
    // NOTIFY from the primary reached this pod through its Service, signed (allow-notify).
    const log = await cluster.kubectl(['-n', NS, 'logs', pod]);
    assert.match(
      log,
      /received notify for zone 'example\.org': TSIG 'bind9-tsig'/,
      `${pod} got NOTIFY`,
    );
    assert.doesNotMatch(log, /refused notify/);
  }
});

test('scaling the secondaries from 2 to 3: the new pod answers every record', async (t) => {
  const started = Date.now();
  await cluster.kubectl([
    '-n',
    NS,
    'patch',
    'bind9cluster',
    NAME,
    '--type=merge',
    '-p',
    '{"spec":{"secondaries":{"replicas":3}}}',
  ]);
  await cluster.waitForPods(NS, PODS, { count: 4, timeoutMs: 300_000 });
  const address = await waitFor('the new pod\u2019s Service', 60_000, async () =>
    (await podAddresses()).get(`${NAME}-secondary-2`),
  );
  await answersEverything(`${NAME}-secondary-2`, address, [...declared, LATE]);
  const answered = (Date.now() - started) / 1000;
  // Ready again once the primary runs the named.conf that NOTIFYs the new pod too: that
  // waits for the kubelet to refresh the primary's ConfigMap volume.
  await waitAllReady(cluster, ours(declared));
  const ready = (Date.now() - started) / 1000;
  t.diagnostic(
    `new secondary answered every record ${answered.toFixed(1)} s after the patch; cluster Ready after ${ready.toFixed(1)} s`,
  );
  process.stderr.write(
    `[cluster] scale 2 -> 3: answered after ${answered.toFixed(1)} s, Ready after ${ready.toFixed(1)} s\n`,
  );
});

test('deleting the Bind9Cluster removes everything it made and leaves no finalizer', async () => {
  await cluster.kubectl(['-n', NS, 'delete', 'bind9cluster', NAME, '--timeout=60s']);
  const kinds =
    'statefulsets,pods,services,configmaps,secrets,poddisruptionbudgets,networkpolicies,bind9instances';
  await waitFor(
    'the garbage collector removing the cluster\u2019s objects',
    180_000,
    async () => {
      const left = await cluster.kubectl([
        '-n',
        NS,
        'get',
        kinds,
        '-l',
        `bind9-controller.io/cluster=${NAME}`,
        '-o',
        'name',
      ]);
      if (left.trim() === '') return true;
      throw new RangeError(`still there: ${left.trim().split('\n').join(', ')}`);
    },
    1000,
  );
  // Its zone lists no instance any more, and can itself be deleted: nothing waits on the pods.
  await waitFor(
    'the zone releasing the cluster\u2019s instances',
    120_000,
    async () => {
      const zone = await cluster.kubectlJson<{ status?: { instances?: unknown[] } }>([
        '-n',
        NS,
        'get',
        'dnszone',
        'example-org',
        '-o',
        'json',
      ]);
      return (zone.status?.instances ?? []).length === 0 ? true : undefined;
    },
    1000,
  );
  await cluster.kubectl(['-n', NS, 'delete', 'dnszone', 'example-org', '--timeout=120s']);
  await cluster.kubectl([
    '-n',
    NS,
    'delete',
    '-f',
    join(EXAMPLE, 'records.yaml'),
    '--timeout=120s',
  ]);
  await cluster.kubectl(['-n', NS, 'delete', 'txtrecord', 'late', '--timeout=120s']);
});
