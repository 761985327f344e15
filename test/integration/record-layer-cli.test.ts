/**
 * `bind9-controller plan` and `apply` with the manifests of examples/ against each
 * authoritative server, real ones (test/harness/servers.ts) whose zones were provisioned
 * from files: apply serves every example RRset and is idempotent, the printed plan fed to
 * `nsupdate -k` gives the zone apply gives, a thousand records go out in a few messages, and
 * a key that may transfer but not update is reported as such after at most two UPDATEs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { runApply } from '../../src/cli/apply.ts';
import { runPlan } from '../../src/cli/plan.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { formatKeyFile } from '../../src/dns/keyfile.ts';
import { decodeMessage, OPCODE_UPDATE } from '../../src/dns/message.ts';
import { rdataTexts } from '../../src/dns/rrset.ts';
import { EXAMPLE_ANSWERS, exampleZoneFile } from '../fixtures/examples.ts';
import { generateKey } from '../harness/named.ts';
import {
  type RecordServer,
  SERVER_KINDS,
  SERVER_NAMES,
  startRecordServer,
} from '../harness/servers.ts';
import { cli, messagesOf, runProgram } from './cli-helpers.ts';
import { startProxy } from './dns-proxy.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
/**
 * `-f` for each file of examples/kustomization.yaml: the examples of one server, not the
 * sub-folders (examples/cluster/ has a zone of its own, served by a Bind9Cluster).
 */
const EXAMPLE_FILES = (
  parse(readFileSync(join(EXAMPLES, 'kustomization.yaml'), 'utf8')) as { resources: string[] }
).resources.flatMap((file) => ['-f', join(EXAMPLES, file)]);
const SCALE = 'scale.test';
const transferOnly = generateKey('transfer-key');

/** The zones of examples/ as their DNSZones declare SOA, apex NS and glue. */
const SOA = 'ns1.example.com. hostmaster.example.com. 1 3600 600 604800 300';
const EXAMPLE_ZONES = [
  {
    name: 'example.com',
    content: `${exampleZoneFile(SOA, ['ns1.example.com.'])}ns1 IN A 192.0.2.53\n`,
  },
  {
    name: '2.0.192.in-addr.arpa',
    content: exampleZoneFile(SOA, ['ns1.example.com.']),
  },
];

function scaleManifests(zone: string, count: number): string {
  const head = `apiVersion: dns.bind9-controller.io/v1alpha1
kind: DNSZone
metadata: { name: scale }
spec:
  zoneName: ${zone}
  instanceSelector: {}
  soaRecord: { primaryNs: ns1, adminEmail: hostmaster@${zone} }
  ttl: 300
  nameServers: [{ hostname: ns1, ipv4Address: 127.0.0.1 }]
`;
  const records = Array.from(
    { length: count },
    (_, i) => `apiVersion: dns.bind9-controller.io/v1alpha1
kind: ARecord
metadata: { name: host-${i} }
spec: { zone: scale, name: host-${i}, ipv4Addresses: ['10.0.${i >> 8}.${i & 255}'] }
`,
  );
  return [head, ...records].join('---\n');
}

for (const kind of SERVER_KINDS) {
  describe(`plan and apply against ${SERVER_NAMES[kind]}`, { timeout: 300_000 }, () => {
    let applied: RecordServer;
    let scripted: RecordServer;
    let dir: string;
    const client = new DnsClient({ timeoutMs: 10_000 });

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'record-layer-cli-'));
      await writeFile(join(dir, 'scale.yaml'), scaleManifests(SCALE, 1000));
      await writeFile(join(dir, 'transfer.key'), formatKeyFile(transferOnly), { mode: 0o600 });
      const zones = [...EXAMPLE_ZONES, { name: SCALE, transferKeys: [transferOnly.name] }];
      [applied, scripted] = await Promise.all([
        startRecordServer(kind, { keys: [transferOnly], zones }),
        startRecordServer(kind, { zones: EXAMPLE_ZONES }),
      ]);
    });
    after(async () => {
      await client.close();
      await Promise.all([applied?.stop(), scripted?.stop()]);
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    const target = (server: RecordServer, keyFile = server.tsigKeyFile) => [
      '--server',
      `${server.address}:${server.dnsPort}`,
      '--key-file',
      keyFile,
    ];

    /** Both example zones as comparable lines, SOA left out (its serial counts updates). */
    async function zoneText(server: RecordServer): Promise<string[]> {
      const lines: string[] = [];
      for (const { name } of EXAMPLE_ZONES) {
        for (const r of await client.axfr(server.endpoint, server.tsigKey, name)) {
          if (r.type === 'SOA') continue;
          lines.push(...rdataTexts(r).map((t) => `${r.name} ${r.ttl} ${r.type} ${t}`));
        }
      }
      return lines.sort();
    }

    test('apply of examples/ serves every example RRset as declared, and a second apply sends nothing', async () => {
      const first = await cli(runApply, [...EXAMPLE_FILES, ...target(applied)]);
      assert.equal(first.code, 0, first.stderr);
      const zone = await client.axfr(applied.endpoint, applied.tsigKey, 'example.com');
      for (const [name, type, data] of EXAMPLE_ANSWERS) {
        // A delegation is answered with a referral (RFC 1034 §4.3.2): read it from the zone.
        const rrset =
          type === 'NS'
            ? zone.find((r) => r.name === name && r.type === type)
            : await client.query(applied.endpoint, name, type);
        assert.deepEqual(rrset ? rdataTexts(rrset).sort() : [], data, `${name} ${type}`);
      }
      const again = await cli(runApply, [...EXAMPLE_FILES, ...target(applied)]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /0 created, 0 updated, 0 deleted, 0 refused, in 0 UPDATE message/);
      const plan = await cli(runPlan, [...EXAMPLE_FILES, ...target(applied)]);
      assert.equal(plan.code, 0, plan.stdout);
    });

    test('the plan of examples/ fed to nsupdate -k gives the zones apply gives', async () => {
      const plan = await cli(runPlan, [...EXAMPLE_FILES, ...target(scripted)]);
      assert.equal(plan.code, 2, plan.stderr);
      const fed = await runProgram('nsupdate', ['-k', scripted.tsigKeyFile], plan.stdout);
      assert.equal(fed.code, 0, fed.stderr);
      assert.deepEqual(await zoneText(scripted), await zoneText(applied));
    });

    test('apply of a thousand records goes out in a few UPDATE messages, and a transfer-only key is refused after at most two', async (t) => {
      const file = join(dir, 'scale.yaml');
      // Every UPDATE goes through a proxy that counts them, whatever the outcome.
      const proxy = await startProxy(applied.endpoint, (reply) => reply);
      const updates = () =>
        proxy.replies.filter((r) => decodeMessage(r).header.opcode === OPCODE_UPDATE).length;
      const via = ['--server', `${proxy.endpoint.address}:${proxy.endpoint.port}`];
      try {
        const refused = await cli(runApply, [
          '-f',
          file,
          ...via,
          '--key-file',
          join(dir, 'transfer.key'),
        ]);
        t.diagnostic(`${SERVER_NAMES[kind]}: transfer-only key: ${updates()} UPDATE message(s)`);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /key transfer-key/);
        assert.match(refused.stderr, /policy does not let this key update the zone/);
        assert.ok(updates() <= 2, `${updates()} UPDATE messages`);

        const before = updates();
        const result = await cli(runApply, ['-f', file, ...via, '--key-file', applied.tsigKeyFile]);
        assert.equal(result.code, 0, result.stderr);
        t.diagnostic(
          `${SERVER_NAMES[kind]}: 1,000 records in ${messagesOf(result.stdout)} message(s)`,
        );
        assert.ok((messagesOf(result.stdout) ?? 99) <= 10, result.stdout.slice(-300));
        assert.equal(updates() - before, messagesOf(result.stdout));
      } finally {
        await proxy.close();
      }
      const served = await client.axfr(applied.endpoint, applied.tsigKey, SCALE);
      assert.equal(served.filter((r) => r.name.startsWith('host-')).length, 1000);
    });
  });
}
