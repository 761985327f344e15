/**
 * Records from Services, Ingresses and Gateway routes (issue #15), against a real
 * kube-apiserver and a real named, the controller running as a user bound only to
 * deploy/clusterrole.yaml and the deploy/sources/ components' ClusterRoles. No kubelet or
 * cloud: the tests patch LoadBalancer and Gateway status as a load balancer controller would,
 * and the Gateway API CRDs come from their Go module (test/harness/gateway-api.ts).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { gatewayApiCrds } from '../harness/gateway-api.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  dig,
  type RunningController,
  spawnControllerChild,
  startController,
  stopChild,
  waitExactA,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';
import { Apps, bindSourceRoles, HOST, readyOf, SOURCES } from './source-helpers.ts';

describe('records from Services, Ingresses and Gateway routes', { timeout: 900_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let kubeconfigPath: string;
  let named: NamedServer;
  let dns: Admin;
  let apps: Apps;
  let shared: Admin;
  let teamA: Apps;
  let ctl: RunningController | undefined;
  const args = () => [
    '--sources',
    SOURCES.join(','),
    '--namespace',
    shared.namespace,
    '--namespace',
    teamA.namespace,
  ];

  before(async () => {
    ({ cluster, user, kubeconfigPath } = await clusterWithRbac());
    await bindSourceRoles(cluster);
    await cluster.installCrds(await gatewayApiCrds());
    named = await startNamed();
    // Zones and Services side by side in one namespace (owner references apply), and a
    // zone of another namespace that lets only team-b publish.
    dns = new Admin(cluster, await cluster.createNamespace('src-apps'));
    apps = new Apps(cluster, dns.namespace);
    shared = new Admin(cluster, await cluster.createNamespace('src-shared'));
    teamA = new Apps(cluster, await cluster.createNamespace('src-team-a'));
    await dns.instance('primary', named, { role: 'primary' });
    await shared.instance('primary', named, { role: 'primary' });
    await dns.create('DNSZone', 'example', zoneSpec('example.test', {}));
    await dns.create('DNSZone', 'other', zoneSpec('other.test', {}));
    const onlyTeamB = { namespaceSelector: { matchLabels: { team: 'b' } } };
    await shared.create('DNSZone', 'shared', zoneSpec('shared.test', {}, { publish: onlyTeamB }));
    ctl = await startController(user, dns.namespace, args());
    await waitReady(dns, 'DNSZone', 'example');
    await waitReady(dns, 'DNSZone', 'other');
    await waitReady(shared, 'DNSZone', 'shared');
  });

  after(async () => {
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  const answers = (name: string, type: string, want: string[]) =>
    waitFor(`${name} ${type} = ${want.join(',') || 'nothing'}`, async () =>
      (await dig(named, name, type)).join() === want.join() ? true : undefined,
    );

  const updatesSent = async () =>
    ((await ctl?.controller.metrics.updates.get())?.values ?? []).reduce((n, v) => n + v.value, 0);

  it('publishes an annotated LoadBalancer Service as A and AAAA, follows its status in one UPDATE, and withdraws it with its annotation and with the Service', async () => {
    await apps.service('web', { [HOST]: 'www.example.test' });
    await apps.balance('web', ['192.0.2.10', '2001:db8::10']);
    await answers('www.example.test', 'A', ['192.0.2.10']);
    await answers('www.example.test', 'AAAA', ['2001:db8::10']);
    const [a] = await apps.generated('ARecord', { namespace: dns.namespace, name: 'web' });
    assert.equal(a?.metadata.ownerReferences?.[0]?.kind, 'Service');
    assert.equal(a?.spec.zone, 'example');
    await waitFor('generated ARecord Ready', async () => {
      const [r] = await apps.generated('ARecord', { namespace: dns.namespace, name: 'web' });
      return readyOf(r)?.status === 'True' ? true : undefined;
    });

    const before = await updatesSent();
    await apps.balance('web', ['192.0.2.11', '2001:db8::10']);
    await answers('www.example.test', 'A', ['192.0.2.11']);
    await waitFor('the ARecord Ready for its new address', async () => {
      const [r] = await apps.generated('ARecord', { namespace: dns.namespace, name: 'web' });
      return readyOf(r)?.status === 'True' && JSON.stringify(r?.spec).includes('192.0.2.11')
        ? true
        : undefined;
    });
    assert.equal((await updatesSent()) - before, 1, 'one UPDATE for the changed address');
    assert.deepEqual(await dig(named, 'www.example.test', 'AAAA'), ['2001:db8::10']);

    await apps.annotate('web', { [HOST]: null });
    await answers('www.example.test', 'A', []);
    await answers('www.example.test', 'AAAA', []);
    await waitFor('no generated records', async () =>
      (await apps.generated('ARecord', { namespace: dns.namespace, name: 'web' })).length === 0
        ? true
        : undefined,
    );
    const events = await dns.events();
    assert.ok(
      events.some((e) =>
        /^Service\/web Normal Published: www\.example\.test A published in DNSZone/.test(e),
      ),
    );
    assert.ok(
      events.some((e) =>
        /^Service\/web Normal Withdrawn: www\.example\.test AAAA withdrawn/.test(e),
      ),
    );

    await apps.annotate('web', { [HOST]: 'www.example.test' });
    await answers('www.example.test', 'A', ['192.0.2.11']);
    await apps.deleteService('web');
    await answers('www.example.test', 'A', []);
    await answers('www.example.test', 'AAAA', []);
    await waitFor('the generated resources gone with the Service', async () => {
      const left = [
        ...(await apps.generated('ARecord', { namespace: dns.namespace, name: 'web' })),
        ...(await apps.generated('AAAARecord', { namespace: dns.namespace, name: 'web' })),
      ];
      return left.length === 0 ? true : undefined;
    });
  });

  it('answers each host of an Ingress from its own zone, and warns about a host no allowed zone covers', async () => {
    await apps.ingress(
      'shop',
      ['shop.example.test', 'shop.other.test', 'shop.nowhere.test'],
      '192.0.2.20',
    );
    await answers('shop.example.test', 'A', ['192.0.2.20']);
    await answers('shop.other.test', 'A', ['192.0.2.20']);
    const warning = await waitFor('a NoAllowedZone Warning on the Ingress', async () =>
      (await dns.events()).find((e) => e.startsWith('Ingress/shop Warning NoAllowedZone')),
    );
    assert.match(warning, /shop\.nowhere\.test is in no DNSZone that lets namespace/);
    const records = await apps.generated('ARecord', { namespace: dns.namespace, name: 'shop' });
    assert.deepEqual(records.map((r) => r.spec.zone).sort(), ['example', 'other']);
  });

  it('writes nothing for a Service whose namespace the zone does not allow, then publishes once it does, without a restart', async () => {
    await teamA.service('web', { [HOST]: 'web.shared.test' });
    await teamA.balance('web', ['192.0.2.40']);
    const teamAdmin = new Admin(cluster, teamA.namespace);
    const warning = await waitFor('a NoAllowedZone Warning on the Service', async () =>
      (await teamAdmin.events()).find((e) => e.startsWith('Service/web Warning NoAllowedZone')),
    );
    assert.match(warning, /shared\.test \(DNSZone src-shared-\w+\/shared\)/);
    const sharedRecords = new Apps(cluster, shared.namespace);
    assert.deepEqual(
      await sharedRecords.generated('ARecord', { namespace: teamA.namespace, name: 'web' }),
      [],
    );
    assert.deepEqual(await dig(named, 'web.shared.test', 'A'), []);

    // A merge patch: `team: null` takes the old label out of matchLabels.
    const allowA = { matchLabels: { team: null, 'kubernetes.io/metadata.name': teamA.namespace } };
    await shared.patchSpec('DNSZone', 'shared', { publish: { namespaceSelector: allowA } });
    await answers('web.shared.test', 'A', ['192.0.2.40']);
    const [record] = await sharedRecords.generated('ARecord', {
      namespace: teamA.namespace,
      name: 'web',
    });
    assert.equal(
      record?.metadata.ownerReferences,
      undefined,
      'no owner reference across namespaces',
    );
    await waitFor('Published on the Service', async () =>
      (await teamAdmin.events()).find((e) => e.startsWith('Service/web Normal Published')),
    );
  });

  it('leaves a hand-written record its RRset (Conflict, named on the Service), and takes over once it is deleted', async () => {
    await dns.create('ARecord', 'api', {
      zone: 'example',
      name: 'api',
      ipv4Addresses: ['198.51.100.1'],
    });
    await waitReady(dns, 'ARecord', 'api');
    await apps.service('api', { [HOST]: 'api.example.test' });
    await apps.balance('api', ['192.0.2.30']);
    const conflict = await waitFor('the generated record in Conflict', async () => {
      const [r] = await apps.generated('ARecord', { namespace: dns.namespace, name: 'api' });
      const ready = readyOf(r);
      return ready?.reason === 'Conflict' ? ready : undefined;
    });
    assert.match(conflict.message, new RegExp(`ARecord/${dns.namespace}/api`));
    assert.deepEqual(await dig(named, 'api.example.test', 'A'), ['198.51.100.1']);
    const event = await waitFor('a Conflict Event on the Service', async () =>
      (await dns.events()).find((e) => e.startsWith('Service/api Warning Conflict')),
    );
    assert.match(event, new RegExp(`already declared by ARecord/${dns.namespace}/api`));

    await dns.remove('ARecord', 'api');
    await answers('api.example.test', 'A', ['192.0.2.30']);
    await waitFor('the generated record Ready', async () => {
      const [r] = await apps.generated('ARecord', { namespace: dns.namespace, name: 'api' });
      return readyOf(r)?.status === 'True' ? true : undefined;
    });
  });

  it("answers an HTTPRoute's hostnames at the address of the Gateway that accepted it", async () => {
    const listener = { name: 'http', protocol: 'HTTP', port: 80, hostname: '*.example.test' };
    await apps.gatewayObject(
      'gateways',
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'gw' },
        spec: { gatewayClassName: 'test', listeners: [listener] },
      },
      { addresses: [{ type: 'IPAddress', value: '192.0.2.80' }] },
    );
    const accepted = {
      type: 'Accepted',
      status: 'True',
      reason: 'Accepted',
      message: 'accepted by the test',
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      observedGeneration: 1,
    };
    await apps.gatewayObject(
      'httproutes',
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'app' },
        spec: {
          parentRefs: [{ name: 'gw' }],
          hostnames: ['app.example.test', 'app2.example.test'],
        },
      },
      {
        parents: [
          { parentRef: { name: 'gw' }, controllerName: 'example.net/test', conditions: [accepted] },
        ],
      },
    );
    await answers('app.example.test', 'A', ['192.0.2.80']);
    await answers('app2.example.test', 'A', ['192.0.2.80']);
  });

  it('ends with exactly the remaining names after being killed while 100 Services are created and 30 deleted', async (t) => {
    await ctl?.stop();
    ctl = undefined;
    const spawnChild = (): ChildProcess =>
      spawnControllerChild(kubeconfigPath, ['--namespace', dns.namespace, ...args()]);
    let child = spawnChild();
    t.after(() => stopChild(child));
    // The suite shares one API server whose Service range holds 254 cluster IPs: give back
    // what this test took.
    t.after(() =>
      Promise.all(
        Array.from({ length: 100 }, (_, n) => apps.deleteService(`b${n}`).catch(() => undefined)),
      ),
    );
    const ip = (i: number) => `10.1.0.${i + 1}`;
    const create = async (from: number, to: number) => {
      for (let i = from; i < to; i += 10) {
        const batch = Array.from({ length: Math.min(10, to - i) }, (_, k) => i + k);
        await Promise.all(
          batch.map((n) => apps.service(`b${n}`, { [HOST]: `b${n}.example.test` })),
        );
        await Promise.all(batch.map((n) => apps.balance(`b${n}`, [ip(n)])));
      }
    };
    await create(0, 50);
    // Killed mid-burst, once a Service that is deleted below has its name: that record must
    // be found again by its labels, its Service gone while no controller ran.
    await waitFor('some Services answered, b1 among them', async () =>
      (await dig(named, 'b1.example.test', 'A')).length > 0 ? true : undefined,
    );
    await stopChild(child, 'SIGKILL');
    await create(50, 100);
    const deleted = Array.from({ length: 30 }, (_, k) => k * 3 + 1);
    await Promise.all(deleted.map((n) => apps.deleteService(`b${n}`)));
    child = spawnChild();
    const expected = new Map<string, string>();
    for (let i = 0; i < 100; i++)
      if (!deleted.includes(i)) expected.set(`b${i}.example.test`, ip(i));
    await waitExactA(named, 'example.test', /^b\d+\./, expected, 180_000);
    await waitFor('no generated record of a deleted Service', async () => {
      const now = await Promise.all(
        deleted.map((n) => apps.generated('ARecord', { namespace: dns.namespace, name: `b${n}` })),
      );
      return now.every((l) => l.length === 0) ? true : undefined;
    });
  });
});
