/**
 * Running the controller (issue #6): health and metrics endpoints, leader election on a
 * real Lease, deletion that does not wait forever for a dead instance, and ConfigMap
 * delivery of base zone files.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { Kube } from '../../src/kube/client.ts';
import { systemClock } from '../../src/kube/clock.ts';
import { configMapStore } from '../../src/kube/configmap-store.ts';
import { LeaderElector } from '../../src/kube/lease.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed, ZONE_FILE_ROOT } from '../harness/named.ts';
import {
  Admin,
  CONTROLLER_USER,
  clusterWithRbac,
  dig,
  exitOf,
  makeController,
  type RunningController,
  startController,
  stopChild,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

const REPO = resolve(import.meta.dirname, '../..');

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** deploy/'s leader-election Role, moved into `namespace` and bound to the test user. */
async function leaseRole(cluster: Cluster, namespace: string): Promise<void> {
  const docs = parseAllDocuments(
    readFileSync(resolve(REPO, 'deploy/leader-election-role.yaml'), 'utf8'),
  );
  const role = docs.map((d) => d.toJS()).find((d) => d.kind === 'Role');
  await cluster.applyManifests({ ...role, metadata: { ...role.metadata, namespace } });
  await cluster.applyManifests({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'lease-it', namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
    subjects: [{ kind: 'User', name: CONTROLLER_USER, apiGroup: 'rbac.authorization.k8s.io' }],
  } as never);
}

describe('operating the controller', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let named: NamedServer;
  let admin: Admin;
  const running: RunningController[] = [];

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    named = await startNamed();
    admin = new Admin(cluster, await cluster.createNamespace('ops'));
    await admin.instance('delta', named, { role: 'primary' });
  });

  after(async () => {
    for (const r of running) await r.stop();
    await named?.stop();
    await cluster?.stop();
  });

  it('serves /healthz, /readyz and Prometheus /metrics with reconciles, UPDATEs and instances up', async () => {
    const ctl = await startController(user, admin.namespace);
    running.push(ctl);
    const port = ctl.controller.healthPort!;
    await admin.create('DNSZone', 'ops', zoneSpec('ops.test', {}));
    await admin.create('ARecord', 'web', {
      zone: 'ops',
      name: 'web',
      ipv4Addresses: ['192.0.2.80'],
    });
    await waitReady(admin, 'ARecord', 'web');
    assert.equal((await get(port, '/healthz')).status, 200);
    assert.equal((await get(port, '/readyz')).status, 200);
    // Ready is written inside the run; the run is counted when it ends, and the health poll
    // sets instance_up on its own schedule: wait for all of them, then check each.
    const expected = [
      /bind9_controller_instance_up\{instance=/,
      /bind9_controller_reconciles_total\{kind="zone",result="ok"\} [1-9]/,
      /bind9_controller_reconcile_duration_seconds_bucket/,
      new RegExp(
        `bind9_controller_dns_updates_total\\{instance="${admin.namespace}/delta",rcode="NOERROR"\\} [1-9]`,
      ),
      /bind9_controller_queue_depth \d/,
    ];
    const scrape = async () => (await get(port, '/metrics')).body;
    const metrics = await waitFor('the metrics of the run that made web Ready', async () => {
      const text = await scrape();
      return expected.every((e) => e.test(text)) ? text : undefined;
    }).catch(scrape);
    for (const e of expected) assert.match(metrics, e);
    await ctl.stop();
    running.pop();
  });

  it('lets one of two replicas work at a time and hands the Lease over on stop', async () => {
    const leaseNs = await cluster.createNamespace('lease');
    await leaseRole(cluster, leaseNs);
    const args = ['--leader-elect', `--leader-election-namespace=${leaseNs}`];
    const one = makeController(user, admin.namespace, args, { POD_NAME: 'replica-one' });
    const two = makeController(user, admin.namespace, args, { POD_NAME: 'replica-two' });
    running.push(one, two);
    await one.controller.start();
    const starting = two.controller.start();
    // start() serves /readyz before it waits for the Lease; it has not got that far yet.
    const standbyPort = await waitFor(
      'the standby to serve /readyz',
      async () => two.controller.healthPort,
    );
    const leases = cluster.kubeConfig.makeApiClient(CoordinationV1Api);
    const lease = await leases.readNamespacedLease({
      namespace: leaseNs,
      name: 'bind9-controller',
    });
    assert.equal(lease.spec?.holderIdentity, 'replica-one');
    // MicroTime: microsecond precision on the wire.
    assert.match(JSON.stringify(lease.spec?.renewTime), /\.\d{6}Z"$/);
    assert.equal(two.controller.started, false, 'the second replica waits');
    assert.equal((await get(standbyPort, '/readyz')).status, 200, 'a standby is ready');
    await one.stop();
    await starting;
    assert.equal(two.controller.started, true);
    const after = await leases.readNamespacedLease({
      namespace: leaseNs,
      name: 'bind9-controller',
    });
    assert.equal(after.spec?.holderIdentity, 'replica-two');
    // The new leader does the work.
    await admin.create('ARecord', 'api', {
      zone: 'ops',
      name: 'api',
      ipv4Addresses: ['192.0.2.81'],
    });
    await waitReady(admin, 'ARecord', 'api');
    await two.stop();
  });

  it('takes over a Lease whose holder stopped renewing, but only after the lease duration', async () => {
    const leaseNs = await cluster.createNamespace('takeover');
    await leaseRole(cluster, leaseNs);
    const leases = cluster.kubeConfig.makeApiClient(CoordinationV1Api);
    const past = new V1MicroTime(Date.now() - 3_600_000);
    await leases.createNamespacedLease({
      namespace: leaseNs,
      body: {
        metadata: { name: 'bind9-controller', namespace: leaseNs },
        spec: {
          holderIdentity: 'ghost',
          leaseDurationSeconds: 5,
          renewTime: past,
          acquireTime: past,
          leaseTransitions: 3,
        },
      },
    });
    const elector = new LeaderElector({
      kube: user,
      namespace: leaseNs,
      name: 'bind9-controller',
      identity: 'heir',
      clock: systemClock,
      log: pino({ level: 'silent' }),
      // Long enough that the read below comes first even on a machine stalled for seconds.
      leaseDurationMs: 5000,
      retryPeriodMs: 200,
    });
    const acquiring = elector.acquire();
    // The ghost's record has not changed, but we have not watched it for a lease duration yet.
    const early = await leases.readNamespacedLease({
      namespace: leaseNs,
      name: 'bind9-controller',
    });
    assert.equal(early.spec?.holderIdentity, 'ghost');
    await acquiring;
    const lease = await leases.readNamespacedLease({
      namespace: leaseNs,
      name: 'bind9-controller',
    });
    assert.equal(lease.spec?.holderIdentity, 'heir');
    assert.equal(lease.spec?.leaseTransitions, 4);
    await elector.release();
  });

  it('on SIGTERM, bind9-controller run hands the Lease back and exits 0, a second signal while stopping included', async () => {
    const leaseNs = await cluster.createNamespace('sigterm');
    await leaseRole(cluster, leaseNs);
    const minted = await cluster.mintKubeconfig(CONTROLLER_USER, []);
    const child = spawn(
      resolve(REPO, 'node_modules/.bin/node'),
      [
        resolve(REPO, 'src/cli/main.ts'),
        'run',
        `--kubeconfig=${minted.path}`,
        `--namespace=${admin.namespace}`,
        '--metrics-address=127.0.0.1:0',
        `--zone-file-root=${ZONE_FILE_ROOT}`,
        '--leader-elect',
        `--leader-election-namespace=${leaseNs}`,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, POD_NAME: 'pod-under-test' },
      },
    );
    let logs = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      logs += chunk;
    });
    const leases = cluster.kubeConfig.makeApiClient(CoordinationV1Api);
    const read = () => leases.readNamespacedLease({ namespace: leaseNs, name: 'bind9-controller' });
    try {
      await waitFor('the child to lead', async () =>
        (await read()).spec?.holderIdentity === 'pod-under-test' ? true : undefined,
      );
      const exited = exitOf(child);
      child.kill('SIGTERM');
      // A second signal once it is stopping (kubelet, or an impatient Ctrl-C) must not cut
      // the hand-over short. It may already have exited on a fast machine: nothing to send.
      await waitFor('the stop to begin', async () =>
        logs.includes('"msg":"stopping"') || child.exitCode !== null ? true : undefined,
      );
      if (child.exitCode === null) child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.equal((await read()).spec?.holderIdentity, '');
    } finally {
      // A failed wait must not leave the child running (it would keep this file alive).
      await stopChild(child, 'SIGKILL');
    }
  });

  it('releases a deleted zone and record with a Warning once their instance stays unreachable past the timeout', async () => {
    const ctl = await startController(user, admin.namespace, ['--deletion-timeout', '2s']);
    running.push(ctl);
    await admin.create('DNSZone', 'doomed', zoneSpec('doomed.test', {}));
    await admin.create('ARecord', 'stuck', {
      zone: 'ops',
      name: 'stuck',
      ipv4Addresses: ['192.0.2.90'],
    });
    await waitReady(admin, 'DNSZone', 'doomed');
    await waitReady(admin, 'ARecord', 'stuck');
    assert.equal((await dig(named, 'doomed.test', 'SOA')).length, 1);
    await named.halt();
    await admin.remove('DNSZone', 'doomed');
    await admin.remove('ARecord', 'stuck');
    await waitFor('the DNSZone and the record to be released', async () =>
      (await admin.get('DNSZone', 'doomed')) === undefined &&
      (await admin.get('ARecord', 'stuck')) === undefined
        ? true
        : undefined,
    );
    const events = await admin.events();
    for (const object of ['DNSZone/doomed', 'ARecord/stuck']) {
      assert.ok(
        events.some((e) => e.startsWith(`${object} Warning DeletionIncomplete`)),
        events.join('\n'),
      );
    }
    await named.restart();
    await ctl.stop();
    running.pop();
  });

  it('restarts failed watches with backoff: a controller refused at first starts working once RBAC allows it', async () => {
    const late = `bind9-controller-late-${admin.namespace}`;
    const minted = await cluster.mintKubeconfig(late, []);
    const ctl = makeController(await Kube.connect({ kubeconfig: minted.path }), admin.namespace);
    running.push(ctl);
    await ctl.controller.start();
    assert.equal(ctl.controller.synced, false, 'the first list was forbidden');
    await admin.create('ARecord', 'late', {
      zone: 'ops',
      name: 'late',
      ipv4Addresses: ['192.0.2.82'],
    });
    await cluster.applyManifests({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: late },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'bind9-controller',
      },
      subjects: [{ kind: 'User', name: late, apiGroup: 'rbac.authorization.k8s.io' }],
    } as never);
    await waitFor(
      'the caches to sync',
      async () => (ctl.controller.synced ? true : undefined),
      60_000,
    );
    await waitReady(admin, 'ARecord', 'late', 'True', undefined, 60_000);
    assert.deepEqual(await dig(named, 'late.ops.test', 'A'), ['192.0.2.82']);
    assert.ok(ctl.logs.some((l) => l.includes('watch failed; restarting')));
    await ctl.stop();
    running.pop();
  });

  it('keeps base zone files in a ConfigMap for configMap delivery', async () => {
    const store = configMapStore({
      kube: user,
      namespace: admin.namespace,
      name: 'zones',
      mountPath: '/etc/bind/zones/',
    });
    const { file } = await store.write('cm.test', '$TTL 60\n');
    assert.equal(file, '/etc/bind/zones/cm.test.db');
    await store.write('other.test', '$TTL 30\n');
    let cm = await admin.core.readNamespacedConfigMap({
      namespace: admin.namespace,
      name: 'zones',
    });
    assert.deepEqual(cm.data, { 'cm.test.db': '$TTL 60\n', 'other.test.db': '$TTL 30\n' });
    await store.remove('cm.test');
    await store.remove('never.test');
    cm = await admin.core.readNamespacedConfigMap({ namespace: admin.namespace, name: 'zones' });
    assert.deepEqual(cm.data, { 'other.test.db': '$TTL 30\n' });
  });
});
