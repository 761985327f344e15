/**
 * deploy/, deploy/bind9/ and examples/ exactly as shipped, in a real one-node cluster with
 * the images built here (test/node/harness.ts): the controller's two pods (leader election,
 * probes, the in-cluster ServiceAccount token, deploy/'s RBAC, Pod Security `restricted`)
 * in front of a BIND9 pod, and dig against the BIND9 Service's ClusterIP.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { digExamples } from '../../scripts/lib/examples.ts';
import { nodeCluster, type Pod } from './harness.ts';
import { builtImages, imageId } from './images.ts';
import {
  BIND9_NAMESPACE,
  bind9Address,
  CONTROLLER_NAMESPACE,
  CONTROLLER_SELECTOR,
  examples,
  installAll,
  leaseHolder,
} from './workloads.ts';

const cluster = await nodeCluster();
let controllers: Pod[] = [];

before(async () => {
  await installAll(cluster);
  controllers = await cluster.waitForPods(CONTROLLER_NAMESPACE, CONTROLLER_SELECTOR, { count: 2 });
});

test('both controller pods of deploy/ run Ready from the image built here, and exactly one holds the Lease', async () => {
  assert.equal(controllers.length, 2);
  const built = await imageId((await builtImages()).controller);
  for (const pod of controllers) {
    assert.equal(pod.spec.containers[0]?.image, 'ghcr.io/bind9-controller/bind9-controller:0.1.0');
    assert.equal(pod.status.containerStatuses?.[0]?.imageID, built, 'the build of this checkout');
    assert.equal(pod.status.containerStatuses?.[0]?.ready, true, `${pod.metadata.name} ready`);
  }
  const holder = await leaseHolder(cluster);
  const names = controllers.map((p) => p.metadata.name);
  assert.ok(names.includes(holder), `Lease holder ${holder} is one of ${names.join(', ')}`);
  const metrics = await Promise.all(
    controllers.map((p) => cluster.curl([`http://${p.status.podIP}:8080/metrics`])),
  );
  const leading = metrics.filter((m) => /^bind9_controller_leader 1$/m.test(m));
  assert.equal(leading.length, 1, 'one replica reports bind9_controller_leader 1');
});

test('every example resource is Ready and dig against the BIND9 Service ClusterIP answers every example record', async () => {
  const address = await bind9Address(cluster);
  assert.match(address, /^10\.215\./, 'a ClusterIP from the Service range');
  const checks = await digExamples({ address, port: 53 }, await examples());
  assert.ok(checks.length >= 10, `${checks.length} records checked`);
  for (const c of checks) assert.deepEqual(c.got, c.want, `${c.id}: dig ${c.args.join(' ')}`);
});

test('the controller authenticates with its in-cluster ServiceAccount token, and deploy/ binds that account only to its own roles', async () => {
  for (const pod of controllers) {
    const args = pod.spec.containers[0]?.args ?? [];
    assert.ok(args.includes('--in-cluster'), 'runs --in-cluster');
    assert.ok(!args.some((a) => a.startsWith('--kubeconfig')), 'no kubeconfig');
    assert.equal(pod.spec.serviceAccountName, 'bind9-controller');
    const volumes = pod.spec.volumes as { name: string; projected?: { sources: object[] } }[];
    const token = volumes.find((v) => v.projected?.sources.some((s) => 'serviceAccountToken' in s));
    assert.ok(token, 'a projected ServiceAccount token volume');
  }
  // The API server saw the controller as that ServiceAccount: the Lease it wrote names a
  // pod, and an account without deploy/'s RBAC could not have written it.
  const subject = `system:serviceaccount:${CONTROLLER_NAMESPACE}:bind9-controller`;
  const bindings = await cluster.kubectlJson<{
    items: {
      kind: string;
      metadata: { name: string };
      subjects?: { kind: string; name: string; namespace?: string }[];
    }[];
  }>(['get', 'clusterrolebindings,rolebindings', '-A']);
  const granting = bindings.items
    .filter((b) =>
      b.subjects?.some(
        (s) =>
          s.kind === 'ServiceAccount' &&
          s.name === 'bind9-controller' &&
          s.namespace === CONTROLLER_NAMESPACE,
      ),
    )
    .map((b) => `${b.kind}/${b.metadata.name}`)
    .sort();
  assert.deepEqual(granting, [
    'ClusterRoleBinding/bind9-controller',
    'RoleBinding/bind9-controller-leader-election',
  ]);
  const can = (verb: string, resource: string, ns = BIND9_NAMESPACE) =>
    cluster
      .kubectl(['auth', 'can-i', verb, resource, '-n', ns, `--as=${subject}`])
      // `can-i` exits 1 when the answer is no; the answer is on stdout either way.
      .catch((err: Error) => String((err.cause as { stdout?: unknown })?.stdout ?? err.message))
      .then((out) => out.trim());
  assert.equal(await can('patch', 'arecords.dns.bind9-controller.io'), 'yes');
  assert.equal(await can('list', 'secrets'), 'no');
  assert.equal(await can('create', 'pods'), 'no');
});

test("the controller's pods are admitted under Pod Security restricted, which this cluster enforces", async () => {
  const ns = await cluster.kubectlJson<{ metadata: { labels: Record<string, string> } }>([
    'get',
    'namespace',
    CONTROLLER_NAMESPACE,
  ]);
  assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  // The same namespace refuses a pod that breaks the profile: the admission is really on.
  const root = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'root-probe', namespace: CONTROLLER_NAMESPACE },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'docker.io/internetsystemsconsortium/bind9:9.18',
          securityContext: { privileged: true },
        },
      ],
    },
  };
  await assert.rejects(
    cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(root) }),
    /violates PodSecurity "restricted/,
  );
});
