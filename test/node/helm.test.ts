/**
 * The second way to install: `helm install` of charts/bind9-controller/ into the cluster
 * where deploy/ runs, in place of deploy/'s controller (scaled to 0 for the test), gives
 * the same result: two pods Ready under Pod Security `restricted`, one leading, and the
 * BIND9 pod restored and the examples answered by the chart's controller with the chart's
 * RBAC. The chart's objects equal deploy/'s (chart.test.ts); this proves they work.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { digExamples } from '../../scripts/lib/examples.ts';
import type { Manifest } from '../../scripts/lib/manifests.ts';
import { nodeCluster, REPO_ROOT } from './harness.ts';
import { waitFor } from './system.ts';
import {
  BIND9_NAMESPACE,
  BIND9_SELECTOR,
  bind9Address,
  CONTROLLER_NAMESPACE,
  CONTROLLER_SELECTOR,
  examples,
  installAll,
  leaseHolder,
  waitAllReady,
} from './workloads.ts';

const cluster = await nodeCluster();
const RELEASE = 'helm-bind9-controller';
const HELM_PODS = `${CONTROLLER_SELECTOR},app.kubernetes.io/instance=${RELEASE}`;
/** deploy/'s pods carry no instance label; the chart's do. */
const DEPLOY_PODS = `${CONTROLLER_SELECTOR},!app.kubernetes.io/instance`;

const helm = (args: readonly string[]) =>
  cluster.run(
    join(cluster.info.binDir, 'helm'),
    ['--kubeconfig', cluster.info.kubeconfig, ...args],
    {
      timeoutMs: 300_000,
    },
  );
const scaleDeploy = (replicas: number) =>
  cluster.kubectl([
    '-n',
    CONTROLLER_NAMESPACE,
    'scale',
    'deployment/bind9-controller',
    `--replicas=${replicas}`,
  ]);

before(async () => {
  await installAll(cluster);
  await scaleDeploy(0);
  await waitFor("deploy/'s controller pods gone", 120_000, async () =>
    (await cluster.pods(CONTROLLER_NAMESPACE, DEPLOY_PODS)).length === 0 ? true : undefined,
  );
});

after(async () => {
  // While a controller still runs to take the record's finalizer off.
  const deleteCheck = [
    '-n',
    BIND9_NAMESPACE,
    'delete',
    'txtrecord',
    'helm-check',
    '--ignore-not-found',
    '--timeout=60s',
  ];
  await cluster.kubectl(deleteCheck).catch(() => '');
  await helm(['uninstall', RELEASE, '-n', CONTROLLER_NAMESPACE]).catch(() => '');
  await scaleDeploy(2);
  await cluster.waitForPods(CONTROLLER_NAMESPACE, DEPLOY_PODS, { count: 2 });
});

test('helm install of the chart gives what deploy/ gives: two pods Ready under restricted, one leading, every record served', async () => {
  await helm([
    'install',
    RELEASE,
    join(REPO_ROOT, 'charts/bind9-controller'),
    '-n',
    CONTROLLER_NAMESPACE,
  ]);
  const pods = await cluster.waitForPods(CONTROLLER_NAMESPACE, HELM_PODS, { count: 2 });
  const names = pods.map((p) => p.metadata.name);
  await waitFor('a pod of the release holding the Lease', 120_000, async () =>
    names.includes(await leaseHolder(cluster)) ? true : undefined,
  );
  for (const pod of pods) assert.equal(pod.spec.serviceAccountName, RELEASE);
  // The chart's controller does the work: a BIND9 pod that lost everything is restored,
  // and a new record is written and reported Ready (its RBAC covers status and Events).
  const [bind9] = await cluster.waitForPods(BIND9_NAMESPACE, BIND9_SELECTOR);
  assert.ok(bind9);
  await cluster.kubectl([
    '-n',
    BIND9_NAMESPACE,
    'delete',
    'pod',
    bind9.metadata.name,
    '--wait=false',
  ]);
  await cluster.waitForPods(BIND9_NAMESPACE, BIND9_SELECTOR, { except: [bind9.metadata.name] });
  const check: Manifest = {
    apiVersion: 'dns.bind9-controller.io/v1alpha1',
    kind: 'TXTRecord',
    metadata: { name: 'helm-check', namespace: BIND9_NAMESPACE },
    spec: { zone: 'example-com', name: 'helm-check', values: [`installed by ${RELEASE}`] },
  };
  await cluster.apply([check]);
  await waitAllReady(cluster, [check, ...(await examples())], 180_000);
  const address = await bind9Address(cluster);
  await waitFor('every example answered after the restore', 120_000, async () =>
    (await digExamples({ address, port: 53 }, await examples())).every((c) => c.same)
      ? true
      : undefined,
  );
  const txt = await cluster.dig(address, 'helm-check.example.com', 'TXT');
  assert.match(txt, new RegExp(`"installed by ${RELEASE}"`));
});
