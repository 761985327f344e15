/**
 * The controller Deployment of deploy/ loses pods while it works: the leader pod deleted in
 * the middle of a burst of 300 record creates, and a rolling restart in the middle of
 * another. Each time the other replica takes the Lease and the zone ends exact — every one
 * of the 300 records answered, nothing else in the zone (signed AXFR of the BIND9 pod).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Manifest } from '../../scripts/lib/manifests.ts';
import { nodeCluster, type Pod } from './harness.ts';
import { sleep, waitFor } from './system.ts';
import {
  axfr,
  BIND9_NAMESPACE,
  CONTROLLER_NAMESPACE,
  CONTROLLER_SELECTOR,
  installAll,
  leaseHolder,
  waitAllReady,
} from './workloads.ts';

const cluster = await nodeCluster();
const GROUP = 'dns.bind9-controller.io/v1alpha1';
const RECORDS = 300;

function zone(name: string, zoneName: string): Manifest {
  return {
    apiVersion: GROUP,
    kind: 'DNSZone',
    metadata: { name, namespace: BIND9_NAMESPACE, labels: { 'bind9-node-test': name } },
    spec: {
      zoneName,
      instanceSelector: { matchLabels: { pool: 'example', role: 'primary' } },
      soaRecord: { primaryNs: `ns1.${zoneName}.`, adminEmail: `hostmaster@${zoneName}`, serial: 1 },
      ttl: 300,
      nameServers: [{ hostname: `ns1.${zoneName}.`, ipv4Address: '192.0.2.53' }],
    },
  };
}

/** Record i of a burst: h<i>.<zone> A 198.18.<i/256>.<i%256> (data only, never a target). */
function record(zoneResource: string, i: number): Manifest {
  const name = `h${String(i).padStart(3, '0')}`;
  return {
    apiVersion: GROUP,
    kind: 'ARecord',
    metadata: {
      name: `${zoneResource}-${name}`,
      namespace: BIND9_NAMESPACE,
      labels: { 'bind9-node-test': zoneResource },
    },
    spec: { zone: zoneResource, name, ipv4Addresses: [`198.18.${i >> 8}.${i & 255}`] },
  };
}

const ZONES = [
  zone('burst-leader', 'leader.burst.test'),
  zone('burst-rollout', 'rollout.burst.test'),
];

/** What the zone must hold after the burst, apart from its SOA: apex NS, glue, the records. */
function expectedZone(zoneName: string): string[] {
  const lines = [`${zoneName}. 300 ns ns1.${zoneName}.`, `ns1.${zoneName}. 300 a 192.0.2.53`];
  for (let i = 1; i <= RECORDS; i++) {
    lines.push(`h${String(i).padStart(3, '0')}.${zoneName}. 300 a 198.18.${i >> 8}.${i & 255}`);
  }
  return lines.sort();
}

async function recordCount(zoneResource: string): Promise<number> {
  const out = await cluster.kubectl([
    '-n',
    BIND9_NAMESPACE,
    'get',
    'arecords',
    '-l',
    `bind9-node-test=${zoneResource}`,
    '-o',
    'name',
  ]);
  return out.split('\n').filter(Boolean).length;
}

/**
 * Creates the 300 records with one `kubectl create` (one request per object, as fast as the
 * API server takes them) and runs `disrupt` once a third of them exist.
 */
async function burst(zoneResource: string, disrupt: () => Promise<void>): Promise<Manifest[]> {
  const records = Array.from({ length: RECORDS }, (_, i) => record(zoneResource, i + 1));
  const created = cluster.kubectl(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: records }),
    timeoutMs: 300_000,
  });
  await waitFor('a third of the burst created', 120_000, async () =>
    (await recordCount(zoneResource)) >= RECORDS / 3 ? true : undefined,
  );
  await disrupt();
  await created;
  return records;
}

async function controllerPods(): Promise<Pod[]> {
  return cluster.waitForPods(CONTROLLER_NAMESPACE, CONTROLLER_SELECTOR, { count: 2 });
}

/** VmRSS of the controller process (PID 1 of its container), in bytes. */
async function rssOf(pod: string): Promise<number> {
  const status = await cluster.kubectl([
    '-n',
    CONTROLLER_NAMESPACE,
    'exec',
    pod,
    '--',
    'cat',
    '/proc/1/status',
  ]);
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  assert.ok(kb, 'VmRSS in /proc/1/status');
  return Number(kb) * 1024;
}

const MI = 1024 * 1024;

/** The controller container's memory limit (`448Mi` in deploy/), in bytes. */
async function memoryLimitOf(pod: string): Promise<number> {
  const spec = await cluster.kubectlJson<Pod>(['-n', CONTROLLER_NAMESPACE, 'get', 'pod', pod]);
  const limit = (spec.spec.containers[0] as { resources?: { limits?: { memory?: string } } })
    .resources?.limits?.memory;
  const m = /^(\d+)(Mi|Gi)$/.exec(limit ?? '');
  assert.ok(m, `a memory limit in Mi or Gi: ${limit}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 * MI : MI);
}

before(async () => {
  await installAll(cluster);
  await cluster.apply(ZONES);
  // A new zone's base file reaches the BIND9 pod through its ConfigMap volume, which the
  // kubelet refreshes about once a minute: the zones are made ready before the bursts.
  await waitAllReady(cluster, ZONES);
});

after(async () => {
  // Records first, while their zone is there to remove them from; waited for, so the next
  // file finds a quiet controller.
  for (const kind of ['arecords', 'dnszones']) {
    const label = `bind9-node-test in (${ZONES.map((z) => z.metadata.name).join(',')})`;
    const args = ['-n', BIND9_NAMESPACE, 'delete', kind, '-l', label, '--timeout=300s'];
    await cluster.kubectl(args, { timeoutMs: 320_000 }).catch(() => '');
  }
});

test('the leader pod deleted in the middle of a burst of 300 creates: another replica takes the Lease and the zone ends exact', async (t) => {
  const pods = await controllerPods();
  const leader = await leaseHolder(cluster);
  const standby = pods.map((p) => p.metadata.name).find((n) => n !== leader);
  assert.ok(
    standby && pods.some((p) => p.metadata.name === leader),
    `leader ${leader}, standby ${standby}`,
  );
  let deletedAt = 0;
  const records = await burst('burst-leader', async () => {
    await cluster.kubectl(['-n', CONTROLLER_NAMESPACE, 'delete', 'pod', leader, '--wait=false']);
    deletedAt = Date.now();
  });
  // The deleted leader hands the Lease back on SIGTERM. The standby asks again every
  // 2-2.4 s, the replacement pod as soon as it starts (about a second after the deletion):
  // either may win, and both are a replica other than the one that was leading.
  const successor = await waitFor('the Lease taken by another replica', 120_000, async () => {
    const holder = await leaseHolder(cluster);
    return holder !== '' && holder !== leader ? holder : undefined;
  });
  const leaseAt = Date.now();
  await waitAllReady(cluster, records, 300_000);
  const since = (at: number) => `${((at - deletedAt) / 1000).toFixed(1)} s`;
  t.diagnostic(
    `after the leader's deletion: Lease taken by ${successor === standby ? 'the standby' : 'the replacement pod'} ${since(leaseAt)}, all 300 Ready ${since(Date.now())}`,
  );
  assert.deepEqual(
    (await axfr(cluster, 'leader.burst.test')).filter((l) => !/ soa /.test(l)),
    expectedZone('leader.burst.test'),
  );
  const limit = await memoryLimitOf(successor);
  const rss = await rssOf(successor);
  const line = `leader ${successor} RSS after the 300-record burst: ${(rss / MI).toFixed(1)} MiB of a ${limit / MI} MiB limit`;
  t.diagnostic(line);
  process.stderr.write(`[failover] ${line}\n`);
  assert.ok(rss < limit, 'under the memory limit');
});

test('a rolling restart of the Deployment in the middle of a burst of 300 creates: a new pod leads and the zone ends exact', async () => {
  const before = new Set((await controllerPods()).map((p) => p.metadata.name));
  const records = await burst('burst-rollout', async () => {
    await cluster.kubectl([
      '-n',
      CONTROLLER_NAMESPACE,
      'rollout',
      'restart',
      'deployment/bind9-controller',
    ]);
  });
  await cluster.waitForRollout(CONTROLLER_NAMESPACE, 'deployment/bind9-controller');
  const after = (await controllerPods()).map((p) => p.metadata.name);
  assert.ok(
    after.every((n) => !before.has(n)),
    `every pod replaced: ${after.join(', ')}`,
  );
  await waitFor('a new pod holding the Lease', 120_000, async () =>
    after.includes(await leaseHolder(cluster)) ? true : undefined,
  );
  await waitAllReady(cluster, records, 300_000);
  // Settled: nothing else arrives late (a leftover writer would show here).
  await sleep(2000);
  assert.deepEqual(
    (await axfr(cluster, 'rollout.burst.test')).filter((l) => !/ soa /.test(l)),
    expectedZone('rollout.burst.test'),
  );
});
