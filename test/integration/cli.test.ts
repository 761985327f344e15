/**
 * `bind9-controller plan` and `apply` against real named servers (issue #8's Must show):
 * the printed script, fed to `nsupdate -k`, gives the same zone as `apply`; apply is
 * idempotent; a hand edit shows as a change back; invalid manifests send nothing.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runApply } from '../../src/cli/apply.ts';
import { runPlan } from '../../src/cli/plan.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { type RRset, rdataTexts } from '../../src/dns/rrset.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import { cli, runProgram } from './cli-helpers.ts';

const ZONE = 'shop.test';
const NODE = join(process.cwd(), 'node_modules/.bin/node');

const zoneManifest = `apiVersion: dns.bind9-controller.io/v1alpha1
kind: DNSZone
metadata:
  name: shop
spec:
  zoneName: ${ZONE}
  instanceSelector: {}
  soaRecord:
    primaryNs: ns1
    adminEmail: hostmaster@${ZONE}
  ttl: 300
  nameServers:
    - hostname: ns1
      ipv4Address: 127.0.0.1
`;

function record(kind: string, name: string, spec: string): string {
  return `apiVersion: dns.bind9-controller.io/v1alpha1
kind: ${kind}
metadata:
  name: ${name}
spec:
  zone: shop
${spec}`;
}

const longText = 'x'.repeat(300);
const recordsManifest = [
  record('ARecord', 'www', "  name: www\n  ipv4Addresses: ['192.0.2.10', '192.0.2.11']\n"),
  record('AAAARecord', 'www6', "  name: www\n  ipv6Addresses: ['2001:db8::10']\n"),
  record('ARecord', 'mail', "  name: mail\n  ttl: 60\n  ipv4Addresses: ['192.0.2.25']\n"),
  record('MXRecord', 'mx', "  name: '@'\n  mailServers: [{ preference: 10, host: mail }]\n"),
  record('CNAMERecord', 'blog', '  name: blog\n  target: www\n'),
  record(
    'TXTRecord',
    'txt',
    `  name: '@'\n  values: ['v=spf1 mx -all', 'say "hi"', '${longText}']\n`,
  ),
  record(
    'SRVRecord',
    'srv',
    '  name: _http._tcp\n  services: [{ priority: 1, weight: 5, port: 80, target: www }]\n',
  ),
  record(
    'CAARecord',
    'caa',
    "  name: '@'\n  authorizations: [{ tag: issue, value: ca.example.net }]\n",
  ),
  record('NSRecord', 'sub', "  name: sub\n  nameServers: ['ns.example.net.']\n"),
].join('---\n');

describe('plan and apply against a real named', () => {
  let scripted: NamedServer;
  let applied: NamedServer;
  let dir: string;
  const client = new DnsClient({ timeoutMs: 5000 });

  before(async () => {
    [scripted, applied] = await Promise.all([
      startNamed({ zones: [{ name: ZONE }, { name: 'big.test' }] }),
      startNamed({ zones: [{ name: ZONE }] }),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'cli-manifests-'));
    // A directory tree: the zone at the top, the records one level down (recursion).
    await mkdir(join(dir, 'good', 'records'), { recursive: true });
    await writeFile(join(dir, 'good', 'zone.yaml'), zoneManifest);
    await writeFile(join(dir, 'good', 'records', 'all.yaml'), recordsManifest);
  });
  after(async () => {
    await client.close();
    await Promise.all([scripted?.stop(), applied?.stop()]);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const target = (named: NamedServer, ...paths: string[]) => [
    ...paths.flatMap((p) => ['-f', join(dir, p)]),
    '--server',
    `${named.address}:${named.dnsPort}`,
    '--key-file',
    named.tsigKeyFile,
  ];

  /** The zone as comparable text lines, SOA left out (its serial counts updates). */
  async function zoneText(named: NamedServer, zone = ZONE): Promise<string[]> {
    const rrsets: RRset[] = await client.axfr(
      { address: named.address, port: named.dnsPort },
      named.tsigKey,
      zone,
    );
    return rrsets
      .filter((r) => r.type !== 'SOA')
      .flatMap((r) => rdataTexts(r).map((t) => `${r.name} ${r.ttl} ${r.type} ${t}`));
  }

  async function fullZone(named: NamedServer, zone = ZONE): Promise<RRset[]> {
    return client.axfr({ address: named.address, port: named.dnsPort }, named.tsigKey, zone);
  }

  test('plan on an empty zone prints a script; nsupdate -k with it gives the zone apply gives', async () => {
    const plan = await cli(runPlan, target(scripted, 'good'));
    assert.equal(plan.code, 2, plan.stderr);
    assert.match(plan.stdout, /^; create www\.shop\.test\. A: ARecord\/default\/www$/m);
    assert.match(plan.stdout, /^send$/m);
    const fed = await runProgram('nsupdate', ['-k', scripted.tsigKeyFile], plan.stdout);
    assert.equal(fed.code, 0, fed.stderr);

    const apply = await cli(runApply, target(applied, 'good'));
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(
      apply.stdout,
      /^created blog\.shop\.test\. CNAME \(CNAMERecord\/default\/blog\)$/m,
    );

    const viaScript = await zoneText(scripted);
    assert.deepEqual(viaScript, await zoneText(applied));
    assert.ok(viaScript.includes(`shop.test 300 TXT "${'x'.repeat(255)}" "${'x'.repeat(45)}"`));
    assert.ok(viaScript.includes('mail.shop.test 60 A 192.0.2.25'));
  });

  test('apply twice: the second apply sends nothing and the next plan is empty (exit 0)', async () => {
    const again = await cli(runApply, target(applied, 'good'));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 created, 0 updated, 0 deleted, 0 refused, in 0 UPDATE message/);
    const plan = await cli(runPlan, target(applied, 'good'));
    assert.equal(plan.code, 0, plan.stdout);
    assert.doesNotMatch(plan.stdout, /^(update|prereq|send)/m);
  });

  test('a hand edit with nsupdate shows in the next plan as a change back, and apply reverts it', async () => {
    const edit = [
      `server ${applied.address} ${applied.dnsPort}`,
      `zone ${ZONE}.`,
      `update delete www.${ZONE}. A 192.0.2.11`,
      `update add www.${ZONE}. 300 A 192.0.2.99`,
      `update add extra.${ZONE}. 300 TXT "nobody declares me"`,
      'send',
      '',
    ].join('\n');
    const fed = await runProgram('nsupdate', ['-k', applied.tsigKeyFile], edit);
    assert.equal(fed.code, 0, fed.stderr);

    const plan = await cli(runPlan, target(applied, 'good'));
    assert.equal(plan.code, 2);
    assert.match(plan.stdout, /^; update www\.shop\.test\. A: ARecord\/default\/www$/m);
    assert.match(plan.stdout, /^prereq yxrrset www\.shop\.test\. IN A 192\.0\.2\.99$/m);
    assert.match(plan.stdout, /^update add www\.shop\.test\. 300 IN A 192\.0\.2\.11$/m);
    // Undeclared data is left alone unless pruning is asked for.
    assert.doesNotMatch(plan.stdout, /extra\.shop\.test/);
    const pruning = await cli(runPlan, [...target(applied, 'good'), '--prune']);
    assert.match(pruning.stdout, /^update delete extra\.shop\.test\. IN TXT$/m);

    const apply = await cli(runApply, [...target(applied, 'good'), '--prune']);
    assert.equal(apply.code, 0, apply.stderr);
    assert.deepEqual(await zoneText(applied), await zoneText(scripted));
  });

  for (const [what, file, doc, field] of [
    [
      'a bad IP address',
      "  name: bad\n  ipv4Addresses: ['192.0.2.1', '300.1.2.3']\n",
      'ARecord',
      'spec.ipv4Addresses[1]',
    ],
    [
      'a name outside the zone',
      "  name: www.elsewhere.test.\n  ipv4Addresses: ['192.0.2.1']\n",
      'ARecord',
      'spec.name',
    ],
    ['a CNAME beside an A', '  name: www\n  target: elsewhere.test.\n', 'CNAMERecord', 'spec.name'],
  ] as const) {
    test(`an invalid manifest (${what}) exits 1 naming file, document and field, and sends nothing`, async () => {
      const bad = join(dir, `bad-${doc}-${field.replace(/\W/g, '')}.yaml`);
      await mkdir(join(dir, 'bad'), { recursive: true });
      // The bad object is the second document, after a valid one.
      const good = record('TXTRecord', 'fine', "  name: fine\n  values: ['ok']\n");
      await writeFile(bad, `${good}---\n${record(doc, 'bad', file)}`);
      const before = await fullZone(applied);
      for (const command of [runPlan, runApply]) {
        const args = [...target(applied, 'good'), '-f', bad];
        const result = await cli(command, args);
        assert.equal(result.code, 1, result.stdout);
        const line = result.stderr.split('\n').find((l) => l.includes(bad)) ?? result.stderr;
        assert.ok(line.startsWith(`${bad}: document 2 (${doc} default/bad): ${field}: `), line);
        assert.match(result.stderr, /nothing was sent/);
        assert.equal(result.stdout, '');
      }
      assert.deepEqual(await fullZone(applied), before);
    });
  }

  test('apply refuses to change more than 30% of a zone of 10+ RRsets unless forced', async () => {
    const zone = 'big.test';
    const big = (address: string) =>
      [
        zoneManifest.replaceAll(ZONE, zone).replace('name: shop', 'name: big'),
        ...Array.from({ length: 12 }, (_, i) =>
          record(
            'ARecord',
            `h${i}`,
            `  name: h${i}\n  ipv4Addresses: ['${i < 5 ? address : '192.0.2.1'}']\n`,
          ).replace('zone: shop', 'zone: big'),
        ),
      ].join('---\n');
    await writeFile(join(dir, 'big-1.yaml'), big('192.0.2.1'));
    await writeFile(join(dir, 'big-2.yaml'), big('192.0.2.2'));
    assert.equal((await cli(runApply, target(scripted, 'big-1.yaml'))).code, 0);
    const before = await fullZone(scripted, zone);
    const refused = await cli(runApply, target(scripted, 'big-2.yaml'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /changes 5 of 14 existing RRsets \(more than 30%\).*--force/);
    assert.deepEqual(await fullZone(scripted, zone), before);
    const plan = await cli(runPlan, target(scripted, 'big-2.yaml'));
    assert.match(plan.stdout, /^; WARNING: changes 5 of 14 existing RRsets/m);
    const forced = await cli(runApply, [...target(scripted, 'big-2.yaml'), '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /0 created, 5 updated/);
  });

  test('the installed command runs plan with the documented exit status', async () => {
    const bin = join(process.cwd(), 'bin/bind9-controller.js');
    const clean = await runProgram(NODE, [bin, 'plan', ...target(applied, 'good')]);
    assert.equal(clean.code, 0, clean.stderr);
    const changes = await runProgram(NODE, [bin, 'plan', ...target(applied, 'good', 'big-1.yaml')]);
    assert.equal(changes.code, 2, changes.stderr);
    assert.match(changes.stdout, /^; zone big\.test\. is not served by /m);
    const missing = await runProgram(NODE, [bin, 'apply', ...target(applied, 'big-1.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /zone big\.test\. is not served .*--rndc/);
  });

  test('apply --rndc creates a zone the server does not serve, then fills it', async () => {
    const rndc = [
      '--rndc',
      `${applied.address}:${applied.rndcPort}`,
      '--rndc-key-file',
      applied.rndcKeyFile,
      '--zone-dir',
      applied.zoneDir,
    ];
    const result = await cli(runApply, [...target(applied, 'big-1.yaml'), ...rndc]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^zone big\.test\.: created over rndc$/m);
    assert.match(result.stdout, /12 created/);
    const plan = await cli(runPlan, target(applied, 'big-1.yaml'));
    assert.equal(plan.code, 0, plan.stdout);
    assert.ok((await zoneText(applied, 'big.test')).includes('h3.big.test 300 A 192.0.2.1'));
  });
});
