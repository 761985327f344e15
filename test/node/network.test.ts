/**
 * The one-node cluster's network safety and its life cycle (scripts/cluster.sh). This file
 * stays on the host — it is the one that looks at the host's routes — and reaches the
 * cluster only through `nsenter` into its namespace.
 *
 * Runs last of test/node/ (files run in name order) because it stops the cluster; it
 * brings it back up at the end for whatever runs after it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { clusterProcesses, leftovers } from './cleanup.ts';
import { API_PORT, NODE_IP, RANGES } from './config.ts';
import { REPO_ROOT } from './harness.ts';
import { type ClusterInfo, healthy, readInfo } from './lifecycle.ts';
import { hostRouteRanges, unreachableRoutes } from './network.ts';
import { inNetns, insideClusterNetns, waitFor } from './system.ts';

function clusterCommand(...args: string[]): void {
  const result = spawnSync(join(REPO_ROOT, 'scripts/cluster.sh'), args, {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  assert.equal(
    result.status,
    0,
    `scripts/cluster.sh ${args.join(' ')} exited ${result.status ?? result.signal}`,
  );
}

async function info(): Promise<ClusterInfo> {
  const i = await readInfo();
  assert.ok(i, 'the cluster wrote its info');
  return i;
}

const kubectl = async (args: readonly string[], input?: string) => {
  const i = await info();
  return inNetns(i.kubectl, ['--kubeconfig', i.kubeconfig, ...args], { input });
};

/** Connects from this (host) process; resolves to the error code, or 'connected'. */
function connectFromHost(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 5000 });
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

before(() => {
  assert.equal(insideClusterNetns(), false, 'this file runs on the host');
  clusterCommand('up');
});

after(() => clusterCommand('up'));

test('while the cluster runs, the host has an unreachable route for each of its ranges, so a host client fails here', async () => {
  const routes = await unreachableRoutes();
  for (const range of Object.values(RANGES))
    assert.ok(routes.includes(range), `unreachable ${range}`);
  // The kernel refuses at once (no packet leaves): not a timeout, not a connection.
  assert.match(await connectFromHost(NODE_IP, API_PORT), /^E(HOST|NET)UNREACH$/);
  const dig = spawnSync('dig', [
    '+time=1',
    '+tries=1',
    `@${(await info()).dnsServiceIp}`,
    'kubernetes.default.svc.cluster.local',
  ]);
  assert.match(dig.stdout.toString(), /unreachable|no servers could be reached/);
});

test('inside the namespace the API server answers, and there is no default route out of it', async () => {
  assert.equal((await kubectl(['get', '--raw=/readyz'])).trim(), 'ok');
  assert.equal((await inNetns('ip', ['route', 'show', 'default'])).trim(), '');
  assert.equal((await inNetns('ip', ['-6', 'route', 'show', 'default'])).trim(), '');
});

/** A pod with a Secret volume and a memory emptyDir: tmpfs mounts that a killed run leaves. */
async function startPodWithMounts(): Promise<void> {
  const pause = (await info()).images.pause;
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'leftover', namespace: 'default' },
      stringData: { k: 'v' },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'leftover', namespace: 'default' },
      spec: {
        containers: [
          {
            name: 'c',
            image: pause,
            volumeMounts: [
              { name: 's', mountPath: '/s' },
              { name: 'm', mountPath: '/m' },
            ],
          },
        ],
        volumes: [
          { name: 's', secret: { secretName: 'leftover' } },
          { name: 'm', emptyDir: { medium: 'Memory' } },
        ],
      },
    },
  ];
  await kubectl(
    ['apply', '-f', '-'],
    stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
  await kubectl(['wait', '--for=condition=Ready', 'pod/leftover', '--timeout=120s']);
}

test('a cluster whose processes were all killed, as at the end of a session, is cleaned up and comes back with up', async () => {
  await startPodWithMounts();
  for (const pid of clusterProcesses()) process.kill(pid, 'SIGKILL');
  await waitFor('every cluster process gone', 30_000, () =>
    clusterProcesses().length === 0 ? true : undefined,
  );
  const left = await leftovers();
  assert.equal(left.netns, true, 'the namespace is left');
  assert.ok(left.mounts.length > 0, 'pod mounts are left');
  assert.deepEqual(left.routes.sort(), [...hostRouteRanges()].sort(), 'the routes are left');
  assert.equal(await healthy(), undefined, 'not healthy');
  clusterCommand('up');
  assert.ok(await healthy(), 'healthy after up');
  const pods = await kubectl(['get', 'pods', '-A', '-o', 'name']);
  assert.equal(pods.trim(), '', 'a fresh cluster: no pod of the killed run');
});

test('down leaves no route, namespace, mount, process or cluster state behind', async () => {
  await startPodWithMounts();
  clusterCommand('down');
  const left = await leftovers();
  assert.deepEqual(left, { processes: [], mounts: [], netns: false, routes: [], info: false });
  // (Nothing is sent to check: without the routes, a packet to those ranges would leave.)
  assert.ok(!(await unreachableRoutes()).some((r) => hostRouteRanges().includes(r)));
});
