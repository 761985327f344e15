/**
 * `plan` and `apply` change what the controller changes (issue #12: one planner and one
 * sync loop): a changed `soaRecord` is shown and sent, the glue of a retired name server
 * goes with it, `plan --rndc` says which zones `apply` would create, and the script `plan`
 * prints, fed to `nsupdate -k`, gives the zone `apply` gives. Real named servers; each zone
 * is created by `apply --rndc`, as a user would.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { runApply } from '../../src/cli/apply.ts';
import { runPlan } from '../../src/cli/plan.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { rdataTexts } from '../../src/dns/rrset.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import { cli } from './cli-helpers.ts';

const run = promisify(execFile);

function nsupdate(keyFile: string, script: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsupdate', ['-k', keyFile], { timeout: 30_000 });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(script);
  });
}

interface ZoneVersion {
  readonly adminEmail: string;
  readonly refresh: number;
  /** Name servers inside the zone, each with its glue address. */
  readonly servers: readonly [string, string][];
}

function manifests(zone: string, v: ZoneVersion): string {
  const servers = v.servers
    .map(([host, address]) => `    - { hostname: ${host}, ipv4Address: ${address} }`)
    .join('\n');
  return `apiVersion: dns.bind9-controller.io/v1alpha1
kind: DNSZone
metadata: { name: z }
spec:
  zoneName: ${zone}
  instanceSelector: {}
  soaRecord:
    primaryNs: ns1
    adminEmail: ${v.adminEmail}
    serial: 100
    refresh: ${v.refresh}
  ttl: 300
  nameServers:
${servers}
---
apiVersion: dns.bind9-controller.io/v1alpha1
kind: ARecord
metadata: { name: www }
spec: { zone: z, name: www, ipv4Addresses: [192.0.2.10] }
`;
}

const V1: ZoneVersion = {
  adminEmail: 'hostmaster@example.org',
  refresh: 3600,
  servers: [
    ['ns1', '192.0.2.53'],
    ['ns2', '192.0.2.54'],
  ],
};
/** A new mailbox and refresh, and ns2 retired. */
const V2: ZoneVersion = {
  adminEmail: 'dns-admin@example.org',
  refresh: 7200,
  servers: [['ns1', '192.0.2.53']],
};

describe('plan and apply manage the SOA and retired glue as the controller does', () => {
  let one: NamedServer;
  let two: NamedServer;
  let dir: string;
  const client = new DnsClient({ timeoutMs: 5000 });

  before(async () => {
    [one, two] = await Promise.all([startNamed(), startNamed()]);
    dir = await mkdtemp(join(tmpdir(), 'cli-zone-changes-'));
  });
  after(async () => {
    await client.close();
    await Promise.all([one?.stop(), two?.stop()]);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const target = (named: NamedServer, file: string) => [
    '-f',
    join(dir, file),
    '--server',
    `${named.address}:${named.dnsPort}`,
    '--key-file',
    named.tsigKeyFile,
  ];
  const rndc = (named: NamedServer) => [
    '--rndc',
    `${named.address}:${named.rndcPort}`,
    '--rndc-key-file',
    named.rndcKeyFile,
    '--zone-dir',
    named.zoneDir,
  ];

  async function write(zone: string, v: ZoneVersion): Promise<string> {
    const file = `${zone}-${v.refresh}.yaml`;
    await writeFile(join(dir, file), manifests(zone, v));
    return file;
  }

  /** `dig +short` of one name and type. */
  async function dig(named: NamedServer, name: string, type: string): Promise<string> {
    const args = ['+short', '+norec', '-p', String(named.dnsPort), `@${named.address}`, name, type];
    return (await run('dig', args)).stdout.trim();
  }

  async function zoneText(named: NamedServer, zone: string): Promise<string[]> {
    const rrsets = await client.axfr(
      { address: named.address, port: named.dnsPort },
      named.tsigKey,
      zone,
    );
    return rrsets.flatMap((r) => rdataTexts(r).map((t) => `${r.name} ${r.ttl} ${r.type} ${t}`));
  }

  test('plan --rndc says which zone apply would create, and creates nothing', async () => {
    const file = await write('new.test', V1);
    const plan = await cli(runPlan, [...target(one, file), ...rndc(one)]);
    assert.equal(plan.code, 2, plan.stderr);
    assert.match(
      plan.stdout,
      /^; zone new\.test\. is not served by .*: apply creates it over rndc/m,
    );
    assert.match(plan.stdout, /^; create www\.new\.test\. A: ARecord\/default\/www$/m);
    assert.equal(await dig(one, 'new.test', 'SOA'), '');
  });

  test('a changed soaRecord is shown by plan and sent by apply, on a zone apply created', async () => {
    const v1 = await write('soa.test', V1);
    assert.equal((await cli(runApply, [...target(one, v1), ...rndc(one)])).code, 0);
    const v2 = await write('soa.test', { ...V1, refresh: 7200, adminEmail: V2.adminEmail });
    const plan = await cli(runPlan, target(one, v2));
    assert.equal(plan.code, 2, plan.stderr);
    assert.match(plan.stdout, /^; update soa\.test\. SOA: DNSZone\/default\/z$/m);
    assert.match(
      plan.stdout,
      /^update add soa\.test\. 300 IN SOA ns1\.soa\.test\. dns-admin\.example\.org\. \d+ 7200 /m,
    );
    const apply = await cli(runApply, target(one, v2));
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /^updated soa\.test\. SOA \(DNSZone\/default\/z\)$/m);
    const soa = (await dig(one, 'soa.test', 'SOA')).split(' ');
    assert.deepEqual([soa[1], soa[3]], ['dns-admin.example.org.', '7200']);
    assert.equal((await cli(runPlan, target(one, v2))).code, 0, 'the next plan is empty');
  });

  test('apply removes the glue of a name server the zone no longer declares', async () => {
    const v1 = await write('glue.test', V1);
    assert.equal((await cli(runApply, [...target(one, v1), ...rndc(one)])).code, 0);
    assert.equal(await dig(one, 'ns2.glue.test', 'A'), '192.0.2.54');
    const v2 = await write('glue.test', { ...V1, servers: V2.servers });
    const apply = await cli(runApply, target(one, v2));
    assert.equal(apply.code, 0, apply.stderr);
    assert.equal(await dig(one, 'glue.test', 'NS'), 'ns1.glue.test.');
    assert.equal(await dig(one, 'ns2.glue.test', 'A'), '');
    assert.equal(await dig(one, 'ns1.glue.test', 'A'), '192.0.2.53');
  });

  test('plan piped to nsupdate gives the zone apply gives, SOA change and glue removal included', async () => {
    const v1 = await write('same.test', V1);
    for (const named of [one, two]) {
      assert.equal((await cli(runApply, [...target(named, v1), ...rndc(named)])).code, 0);
    }
    assert.deepEqual(await zoneText(one, 'same.test'), await zoneText(two, 'same.test'));
    const v2 = await write('same.test', V2);
    const plan = await cli(runPlan, target(one, v2));
    assert.equal(plan.code, 2, plan.stderr);
    const fed = await nsupdate(one.tsigKeyFile, plan.stdout);
    assert.equal(fed.code, 0, fed.out);
    assert.equal((await cli(runApply, target(two, v2))).code, 0);
    const viaScript = await zoneText(one, 'same.test');
    assert.deepEqual(viaScript, await zoneText(two, 'same.test'));
    assert.ok(viaScript.some((l) => l.includes(' SOA ns1.same.test. dns-admin.example.org. ')));
    assert.ok(!viaScript.some((l) => l.startsWith('ns2.same.test ')), viaScript.join('\n'));
  });

  test('an SOA mailbox with a dot in its local part is served escaped, and compares equal when read back', async () => {
    const file = await write('mailbox.test', { ...V1, adminEmail: 'dns.admin@example.org' });
    const apply = await cli(runApply, [...target(one, file), ...rndc(one)]);
    assert.equal(apply.code, 0, apply.stderr);
    const soa = (await dig(one, 'mailbox.test', 'SOA')).split(' ');
    assert.equal(soa[1], 'dns\\.admin.example.org.');
    // Read back by AXFR, the escaped RNAME is the declared one: nothing to change.
    assert.equal((await cli(runPlan, target(one, file))).code, 0);
  });
});
