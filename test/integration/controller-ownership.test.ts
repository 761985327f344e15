/**
 * Who owns which RRset, across the two moments the old reconcile lost track (issue #12),
 * against a real kube-apiserver and a real named. A ValidatingAdmissionPolicy of the test
 * plays the failure at the exact point: it refuses the controller's write of one object,
 * as a conflicting write or an API-server hiccup would, for as long as the test needs.
 *
 * - prune, and a record whose finalizer is not on it yet: the RRset it declares, already
 *   served, stays (it was pruned);
 * - a controller restarted between an UPDATE and the record's status write, the record
 *   renamed meanwhile: the new controller removes the old RRset (it stayed for good).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AdmissionregistrationV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  dig,
  nsupdate,
  type RunningController,
  startController,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

const GROUP = 'dns.bind9-controller.io';
const FINALIZER = `${GROUP}/finalizer`;
const PRIMARY = { matchLabels: { role: 'primary' } };

/**
 * A policy that refuses writes to one record resource (or its status) while `expression`
 * holds for the new object, for every user (cluster admins included).
 */
function refusal(name: string, resource: string, expression: string) {
  const policy: V1ValidatingAdmissionPolicy = {
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [GROUP],
            apiVersions: ['*'],
            operations: ['UPDATE'],
            resources: [resource],
          },
        ],
      },
      validations: [{ expression: `!(${expression})`, message: `refused by the test (${name})` }],
    },
  };
  const binding: V1ValidatingAdmissionPolicyBinding = {
    metadata: { name },
    spec: { policyName: name, validationActions: ['Deny'] },
  };
  return { policy, binding };
}

describe('ownership survives a refused finalizer and a restart before the status write', {
  timeout: 600_000,
}, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let admission: AdmissionregistrationV1Api;
  let ctl: RunningController | undefined;
  const policies: string[] = [];

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('ownership'));
    admission = cluster.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    named = await startNamed();
    await admin.instance('prim', named, { role: 'primary' });
  });

  after(async () => {
    if (process.env.CTRL_LOGS) console.error(ctl?.logs.join(''));
    await ctl?.stop();
    for (const name of policies) await lift(name).catch(() => undefined);
    await named?.stop();
    await cluster?.stop();
  });

  async function impose(name: string, resource: string, expression: string): Promise<void> {
    const { policy, binding } = refusal(name, resource, expression);
    await admission.createValidatingAdmissionPolicy({ body: policy });
    await admission.createValidatingAdmissionPolicyBinding({ body: binding });
    policies.push(name);
  }

  async function lift(name: string): Promise<void> {
    await admission.deleteValidatingAdmissionPolicyBinding({ name });
    await admission.deleteValidatingAdmissionPolicy({ name });
  }

  /** Whether the API server refuses a dry-run merge patch of `record` (its status, or not). */
  async function refuses(record: string, body: unknown, status: boolean): Promise<boolean> {
    const args = {
      group: GROUP,
      version: 'v1alpha1',
      namespace: admin.namespace,
      plural: 'arecords',
      name: record,
      body,
      dryRun: 'All',
    };
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    try {
      if (status) await admin.custom.patchNamespacedCustomObjectStatus(args, merge);
      else await admin.custom.patchNamespacedCustomObject(args, merge);
      return false;
    } catch (error) {
      return /refused by the test/.test(String((error as { body?: unknown }).body ?? error));
    }
  }

  const ns = () => admin.namespace;

  it('keeps a served RRset that a record declares while its finalizer cannot be added, with prune on', async () => {
    await impose(
      `${ns()}-held`,
      'arecords',
      `object.metadata.namespace == '${ns()}' && object.metadata.name == 'held' && object.metadata.?finalizers.orValue([]).exists(f, f == '${FINALIZER}')`,
    );
    await admin.create('ARecord', 'held', {
      zone: 'pr',
      name: 'held',
      ipv4Addresses: ['192.0.2.7'],
    });
    // The admission policy put the finalizer on at creation: taken off, as on a cluster
    // without the policy (the refusal above lets a write without it through).
    await admin.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: 'v1alpha1',
        namespace: ns(),
        plural: 'arecords',
        name: 'held',
        body: { metadata: { finalizers: null } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor('the policy to refuse the finalizer', async () =>
      (await refuses('held', { metadata: { finalizers: [FINALIZER] } }, false)) ? true : undefined,
    );
    ctl = await startController(user, ns());
    await admin.create('DNSZone', 'pr', zoneSpec('pr.test', PRIMARY));
    await waitReady(admin, 'DNSZone', 'pr');
    // The RRset is served already (written by hand, or by a controller before): the record adopts it.
    await nsupdate(named, 'update add held.pr.test. 300 IN A 192.0.2.7');
    await admin.patchSpec('DNSZone', 'pr', { prune: true });
    await admin.create('ARecord', 'other', {
      zone: 'pr',
      name: 'other',
      ipv4Addresses: ['192.0.2.8'],
    });
    await waitReady(admin, 'ARecord', 'other');
    // Rounds of the zone with prune on, the record still without its finalizer.
    await admin.patchSpec('ARecord', 'other', { ipv4Addresses: ['192.0.2.9'] });
    await waitFor('the second round', async () =>
      (await dig(named, 'other.pr.test', 'A')).join() === '192.0.2.9' ? true : undefined,
    );
    const record = await admin.get('ARecord', 'held');
    assert.ok(!(record?.metadata.finalizers ?? []).includes(FINALIZER), 'the finalizer is not on');
    assert.deepEqual(await dig(named, 'held.pr.test', 'A'), ['192.0.2.7']);

    await lift(`${ns()}-held`);
    await waitFor('the policy gone', async () =>
      (await refuses('held', { metadata: { finalizers: [FINALIZER] } }, false)) ? undefined : true,
    );
    await admin.patchSpec('ARecord', 'held', { ttl: 300 });
    await waitReady(admin, 'ARecord', 'held');
    assert.deepEqual(await dig(named, 'held.pr.test', 'A'), ['192.0.2.7']);
  });

  it('removes the old RRset of a record renamed while the controller was down between its UPDATE and its status write', async () => {
    await ctl?.stop();
    ctl = undefined;
    const policy = `${ns()}-status`;
    await impose(
      policy,
      'arecords/status',
      `object.metadata.namespace == '${ns()}' && object.metadata.name == 'r'`,
    );
    await admin.create('ARecord', 'r', { zone: 'rs', name: 'old', ipv4Addresses: ['192.0.2.20'] });
    await waitFor('the policy to refuse the status write', async () =>
      (await refuses('r', { status: { fqdn: 'x.' } }, true)) ? true : undefined,
    );
    ctl = await startController(user, ns());
    await admin.create('DNSZone', 'rs', zoneSpec('rs.test', PRIMARY));
    await waitFor('the RRset written', async () =>
      (await dig(named, 'old.rs.test', 'A')).join() === '192.0.2.20' ? true : undefined,
    );
    // The controller stops after the UPDATE, its status write for the record refused.
    await ctl.stop();
    ctl = undefined;
    assert.equal((await admin.get('ARecord', 'r'))?.status?.conditions, undefined);
    await admin.patchSpec('ARecord', 'r', { name: 'new' });
    await lift(policy);
    await waitFor('the policy gone', async () =>
      (await refuses('r', { status: { fqdn: 'x.' } }, true)) ? undefined : true,
    );
    ctl = await startController(user, ns());
    await waitReady(admin, 'ARecord', 'r');
    await waitFor('the renamed RRset served and the old one gone', async () => {
      const now = (await dig(named, 'new.rs.test', 'A')).join();
      const old = await dig(named, 'old.rs.test', 'A');
      return now === '192.0.2.20' && old.length === 0 ? true : undefined;
    });
  });
});
