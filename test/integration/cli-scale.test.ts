/**
 * `apply` with a thousand records against a real named: few large UPDATE messages instead of
 * a thousand round trips, and one refused RRset found by bisection without holding back
 * the rest. Durations are reported as diagnostics, never asserted.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runApply } from '../../src/cli/apply.ts';
import { runPlan } from '../../src/cli/plan.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import { cli, messagesOf } from './cli-helpers.ts';

const ZONE = 'scale.test';
const COUNT = 1000;

function manifests(extra = ''): string {
  const zone = `apiVersion: dns.bind9-controller.io/v1alpha1
kind: DNSZone
metadata: { name: scale }
spec:
  zoneName: ${ZONE}
  instanceSelector: {}
  soaRecord: { primaryNs: ns1, adminEmail: hostmaster@${ZONE} }
  ttl: 300
  nameServers: [{ hostname: ns1, ipv4Address: 127.0.0.1 }]
`;
  const records = Array.from(
    { length: COUNT },
    (_, i) => `apiVersion: dns.bind9-controller.io/v1alpha1
kind: ARecord
metadata: { name: host-${i} }
spec: { zone: scale, name: host-${i}, ipv4Addresses: ['10.0.${i >> 8}.${i & 255}'] }
`,
  );
  return [zone, ...records, ...(extra === '' ? [] : [extra])].join('---\n');
}

/** The message count apply printed, which must be there. */
function messagesIn(stdout: string): number {
  const messages = messagesOf(stdout);
  assert.ok(messages !== undefined, stdout.slice(-500));
  return messages;
}

describe('apply at scale against a real named', () => {
  let named: NamedServer;
  let dir: string;
  const client = new DnsClient({ timeoutMs: 10_000 });

  before(async () => {
    named = await startNamed({ zones: [{ name: ZONE }] });
    dir = await mkdtemp(join(tmpdir(), 'cli-scale-'));
  });
  after(async () => {
    await client.close();
    await named?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const args = (file: string) => [
    '-f',
    file,
    '--server',
    `${named.address}:${named.dnsPort}`,
    '--key-file',
    named.tsigKeyFile,
  ];

  test('a thousand records go out in a handful of messages, and the next plan is empty', async (t) => {
    const file = join(dir, 'scale.yaml');
    await writeFile(file, manifests());
    const started = performance.now();
    const apply = await cli(runApply, args(file));
    const elapsed = performance.now() - started;
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, new RegExp(`${COUNT} created`));
    const messages = messagesIn(apply.stdout);
    // The count bound (200 RRsets per message) allows 5; the size bound may add a few.
    assert.ok(messages >= 5 && messages <= 10, `${messages} messages`);
    t.diagnostic(`apply of ${COUNT} RRsets: ${messages} UPDATE messages, ${elapsed.toFixed(0)} ms`);
    const zoneData = await client.axfr(
      { address: named.address, port: named.dnsPort },
      named.tsigKey,
      ZONE,
    );
    assert.equal(zoneData.filter((r) => r.name.startsWith('host-')).length, COUNT);
    const plan = await cli(runPlan, args(file));
    assert.equal(plan.code, 0, plan.stdout.slice(0, 500));
  });

  test('one MX that named refuses among a thousand changes is isolated and the rest applied', async (t) => {
    const file = join(dir, 'scale-bad.yaml');
    const badMx = `apiVersion: dns.bind9-controller.io/v1alpha1
kind: MXRecord
metadata: { name: bad-mx }
spec: { zone: scale, name: mail, mailServers: [{ preference: 10, host: nohost }] }
`;
    // The zone TTL changes, so every RRset (a thousand A, the apex NS and its glue) is
    // updated alongside the bad MX.
    await writeFile(file, manifests(badMx).replaceAll('ttl: 300', 'ttl: 600'));
    const started = performance.now();
    const apply = await cli(runApply, [...args(file), '--force']);
    const elapsed = performance.now() - started;
    assert.equal(apply.code, 1);
    assert.match(
      apply.stderr,
      /^refused mail\.scale\.test\. MX \(MXRecord\/default\/bad-mx\): .*REFUSED/m,
    );
    assert.match(apply.stdout, new RegExp(`${COUNT + 2} updated, 0 deleted, 1 refused`));
    const messages = messagesIn(apply.stdout);
    t.diagnostic(
      `${COUNT + 2} updates + 1 refused MX: ${messages} UPDATE messages, ${elapsed.toFixed(0)} ms`,
    );
    const plan = await cli(runPlan, args(file));
    assert.equal(plan.code, 2);
    assert.deepEqual(
      plan.stdout.split('\n').filter((l) => l.startsWith('; create') || l.startsWith('; update')),
      ['; create mail.scale.test. MX: MXRecord/default/bad-mx'],
    );
  });
});
