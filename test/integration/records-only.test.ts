/**
 * `bind9-controller run` with a records-only Bind9Instance (issue #17) on each of BIND9
 * without rndc, Knot DNS and PowerDNS, real ones whose zones were provisioned from files
 * (test/harness/servers.ts), and a real API server: examples/ served record by record, the
 * server's own SOA and apex NS left alone, a deleted record's RRset removed, records
 * replayed after the server restarted from its files, a zone the server does not serve
 * reported and picked up once provisioned, and a key that may transfer but not update.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderKustomization } from '../../scripts/lib/manifests.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { SecretKey } from '../../src/dns/keyfile.ts';
import { rdataTexts } from '../../src/dns/rrset.ts';
import { EXAMPLE_ANSWERS, exampleZoneFile } from '../fixtures/examples.ts';
import type { Cluster } from '../harness/cluster.ts';
import { generateKey } from '../harness/named.ts';
import {
  type RecordServer,
  SERVER_KINDS,
  SERVER_NAMES,
  startRecordServer,
} from '../harness/servers.ts';
import {
  Admin,
  CONTROLLER_USER,
  clusterWithRbac,
  stopChild,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

const REPO = resolve(import.meta.dirname, '../..');
const RECORDS = 1000;
const transferOnly = generateKey('transfer-key');
/** The server's own SOA and apex NS, unlike what the example DNSZones declare. */
const PROVIDER_SOA = 'ns.provider.test. admin.provider.test. 7 7200 900 1209600 600';
const providerZone = (name: string) => ({
  name,
  content: exampleZoneFile(PROVIDER_SOA, ['ns.provider.test.']),
});

/** `bind9-controller run` for one namespace; its stdout (JSON log lines) kept. */
function runController(kubeconfig: string, namespace: string) {
  const child = spawn(
    resolve(REPO, 'node_modules/.bin/node'),
    [
      resolve(REPO, 'src/cli/main.ts'),
      'run',
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${namespace}`,
      '--metrics-address=127.0.0.1:0',
      ...(process.env.RO_DEBUG ? ['--log-level=debug'] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const out = { logs: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out.logs += chunk;
  });
  return { child, out };
}

/** The UPDATE messages the controller counted for one instance (its /metrics). */
async function updatesSent(logs: string, instance: string): Promise<number> {
  const port = /"port":(\d+)[^\n]*serving \/healthz/.exec(logs)?.[1];
  assert.ok(port, 'the controller logged its metrics port');
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('bind9_controller_dns_updates_total{') && line.includes(`"${instance}"`)) {
      sum += Number(line.split(' ').at(-1));
    }
  }
  return sum;
}

describe('bind9-controller run with records-only instances', { timeout: 900_000 }, () => {
  let cluster: Cluster;
  let kubeconfig: string;

  before(async () => {
    ({ cluster, kubeconfigPath: kubeconfig } = await clusterWithRbac());
    assert.ok(CONTROLLER_USER);
  });
  after(async () => {
    await cluster?.stop();
  });

  for (const kind of SERVER_KINDS) {
    describe(`on ${SERVER_NAMES[kind]}`, () => {
      let admin: Admin;
      let server: RecordServer;
      let controller: ReturnType<typeof runController> | undefined;
      const client = new DnsClient({ timeoutMs: 5000 });
      const answer = async (name: string, type: (typeof EXAMPLE_ANSWERS)[number][1]) => {
        const rrset = await client.query(server.endpoint, name, type);
        return rrset === undefined ? [] : rdataTexts(rrset).sort();
      };
      /** The example RRsets served, a delegation read from the zone (RFC 1034 §4.3.2). */
      async function served(name: string, type: (typeof EXAMPLE_ANSWERS)[number][1]) {
        if (type !== 'NS') return answer(name, type);
        const zone = await client.axfr(server.endpoint, server.tsigKey, 'example.com');
        const rrset = zone.find((r) => r.name === name && r.type === type);
        return rrset === undefined ? [] : rdataTexts(rrset).sort();
      }
      async function allServed(): Promise<true | undefined> {
        for (const [name, type, data] of EXAMPLE_ANSWERS) {
          if ((await served(name, type)).join() !== data.join()) return undefined;
        }
        return true;
      }

      before(async () => {
        admin = new Admin(cluster, await cluster.createNamespace(`ro-${kind}`));
        server = await startRecordServer(kind, {
          keys: [transferOnly],
          zones: [
            providerZone('example.com'),
            providerZone('2.0.192.in-addr.arpa'),
            { name: 'big.test', transferKeys: [transferOnly.name] },
          ],
        });
        await admin.keySecret('server-tsig', server.tsigKey);
        await admin.keySecret('transfer-only', transferOnly);
        const instance = (key: string) => ({
          role: 'primary',
          recordsOnly: true,
          dns: { address: server.address, port: server.dnsPort },
          tsigKeySecretRef: { name: key },
        });
        await admin.create('Bind9Instance', 'server', instance('server-tsig'), {
          pool: 'example',
          role: 'primary',
        });
        await admin.create('Bind9Instance', 'readonly', instance('transfer-only'), {
          pool: 'big',
          role: 'primary',
        });
        controller = runController(kubeconfig, admin.namespace);
      });
      after(async () => {
        if (controller !== undefined) await stopChild(controller.child as ChildProcess, 'SIGKILL');
        await client.close();
        await server?.stop();
      });

      it('serves every example record, each resource Ready, and leaves the SOA and apex NS as the server has them', async () => {
        await waitReady(admin, 'Bind9Instance', 'server');
        for (const object of await renderKustomization(resolve(REPO, 'examples'))) {
          const { kind: k, metadata, spec } = object as typeof object & { spec: unknown };
          await admin.create(k, metadata.name, spec, metadata.labels);
        }
        for (const object of await renderKustomization(resolve(REPO, 'examples'))) {
          await waitReady(admin, object.kind, object.metadata.name);
        }
        await waitFor('every example RRset served', allServed);
        const soa = await client.querySoa(server.endpoint, 'example.com', server.tsigKey);
        assert.equal(soa?.rdata[0]?.mname, 'ns.provider.test');
        assert.equal(soa?.rdata[0]?.refresh, 7200);
        assert.deepEqual(await answer('example.com', 'NS'), ['ns.provider.test.']);
        // The DNSZone's glue (ns1 192.0.2.53) is not the server's business either.
        assert.deepEqual(await answer('ns1.example.com', 'A'), []);
      });

      it('removes the RRset of a deleted record resource', async () => {
        await admin.remove('CNAMERecord', 'blog');
        await waitFor('blog CNAME gone', async () =>
          (await answer('blog.example.com', 'CNAME')).length === 0 ? true : undefined,
        );
        await waitFor('the resource to go', async () =>
          (await admin.get('CNAMERecord', 'blog')) === undefined ? true : undefined,
        );
        await admin.create('CNAMERecord', 'blog', {
          zone: 'example-com',
          name: 'blog',
          ttl: 600,
          target: 'www',
        });
        await waitFor('every example RRset served again', allServed);
      });

      it('replays every record within 10 s after the server restarts with its zones reloaded from their files', async (t) => {
        // Counted from before the stop: the controller may replay while the server starts.
        // That a restart with wipe serves the files again is record-layer-dns's to prove.
        const started = Date.now();
        await server.halt();
        await server.restart({ wipe: true });
        await waitFor('every example RRset replayed', allServed, 10_000);
        const ms = Date.now() - started;
        t.diagnostic(`${SERVER_NAMES[kind]}: records replayed ${ms} ms after the restart`);
        assert.ok(ms <= 10_000);
      });

      it('reports a zone the server does not serve as ZoneNotServed, creates nothing, and picks it up once provisioned', async () => {
        await admin.create(
          'DNSZone',
          'later',
          zoneSpec('later.test', { matchLabels: { pool: 'example' } }),
        );
        await admin.create('ARecord', 'early', {
          zone: 'later',
          name: 'early',
          ipv4Addresses: ['192.0.2.99'],
        });
        const c = await waitReady(admin, 'DNSZone', 'later', 'False', 'ZoneNotServed');
        assert.match(c.message, /not served by .*provision it on the server/);
        assert.notEqual((await admin.ready('ARecord', 'early'))?.status, 'True');
        await server.addZone({ name: 'later.test' });
        await waitReady(admin, 'DNSZone', 'later');
        await waitReady(admin, 'ARecord', 'early');
        assert.deepEqual(await answer('early.later.test', 'A'), ['192.0.2.99']);
      });

      it('says KeyRefused, naming the permission, for a key that may transfer but not update, after at most 2 UPDATEs for 1,000 records', async (t) => {
        const instance = `${admin.namespace}/readonly`;
        await waitReady(admin, 'Bind9Instance', 'readonly');
        // The records first, so one reconcile of the zone meets them all.
        for (let i = 0; i < RECORDS; i += 50) {
          await Promise.all(
            Array.from({ length: Math.min(50, RECORDS - i) }, (_, j) =>
              admin.create('ARecord', `host-${i + j}`, {
                zone: 'big',
                name: `host-${i + j}`,
                ipv4Addresses: [`10.0.${(i + j) >> 8}.${(i + j) & 255}`],
              }),
            ),
          );
        }
        await admin.create(
          'DNSZone',
          'big',
          zoneSpec('big.test', { matchLabels: { pool: 'big' } }),
        );
        const c = await waitReady(admin, 'DNSZone', 'big', 'False', 'KeyRefused');
        assert.match(c.message, /key transfer-key.*policy does not let this key update the zone/);
        // A few health polls later, still no more than the two messages of that reconcile.
        await new Promise((r) => setTimeout(r, 7000));
        const sent = await updatesSent(controller?.out.logs ?? '', instance);
        t.diagnostic(`${SERVER_NAMES[kind]}: ${sent} UPDATE message(s) for ${RECORDS} records`);
        if (process.env.RO_DEBUG) {
          const { writeFileSync } = await import('node:fs');
          writeFileSync(`/tmp/ro-${kind}.log`, controller?.out.logs ?? '');
        }
        assert.ok(sent >= 1 && sent <= 2, `${sent} UPDATE messages`);
        assert.equal(await answer('host-1.big.test', 'A').then((a) => a.length), 0);
      });

      it('is not Ready with a wrong secret, as the key error the server names, although the root query proves no key', async () => {
        const forged = new SecretKey(
          server.tsigKey.name,
          server.tsigKey.algorithm,
          randomBytes(32),
        );
        await admin.keySecret('forged', forged);
        await admin.create(
          'Bind9Instance',
          'forged',
          {
            role: 'primary',
            recordsOnly: true,
            dns: { address: server.address, port: server.dnsPort },
            tsigKeySecretRef: { name: 'forged' },
          },
          { pool: 'big', role: 'primary' },
        );
        // Knot DNS answers a query for the root REFUSED whatever the key; big.test tells.
        const reason = kind === 'powerdns' ? 'KeyRefused' : 'TsigBadSig';
        const c = await waitReady(admin, 'Bind9Instance', 'forged', 'False', reason);
        assert.doesNotMatch(c.message, new RegExp(forged.secret.toString('base64').slice(0, 8)));
      });
    });
  }
});
