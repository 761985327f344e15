/**
 * The planner and executor against a real named: batches under the bounds, bisection when
 * named refuses a batch, prerequisites catching concurrent edits, apex NS replacement.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { applyPlan, type MessageEvent, StalePlanError } from '../../src/bind/executor.ts';
import { type DesiredRRset, planZone } from '../../src/bind/plan.ts';
import { DnsClient, updateMessageSize } from '../../src/dns/client.ts';
import { type RRset, rrsetKey, sameRRset } from '../../src/dns/rrset.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';

/** Runs `nsupdate -k KEYFILE` with a script on stdin; resolves with its output on exit 0. */
function nsupdate(keyFile: string, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsupdate', ['-k', keyFile], { timeout: 20_000 });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`nsupdate exited ${code}: ${output}`)),
    );
    child.stdin.end(script);
  });
}

function a(name: string, ...addresses: string[]): DesiredRRset {
  return {
    name,
    type: 'A',
    ttl: 300,
    rdata: addresses.map((address) => ({ address })),
    owner: `ARecord/t/${name}`,
  };
}

describe('executor against a real named', () => {
  let named: NamedServer;
  const client = new DnsClient({ timeoutMs: 5000 });
  const server = () => ({ address: named.address, port: named.dnsPort });
  const zones = ['batch.test', 'bisect.test', 'stale.test', 'apex.test', 'cname.test'];

  before(async () => {
    named = await startNamed({ zones: zones.map((name) => ({ name })) });
  });
  after(async () => {
    await client.close();
    await named?.stop();
  });

  async function read(zone: string): Promise<RRset[]> {
    return client.axfr(server(), named.tsigKey, zone);
  }

  async function converge(zone: string, desired: DesiredRRset[], prune = false) {
    const plan = planZone({ zone, desired, observed: await read(zone), prune });
    return { plan, result: await applyPlan(client, server(), named.tsigKey, plan) };
  }

  function holds(zoneData: RRset[], wanted: RRset): boolean {
    return zoneData.some((r) => rrsetKey(r) === rrsetKey(wanted) && sameRRset(r, { ...wanted }));
  }

  test('a large plan goes out in messages within both bounds, and all of it arrives', async () => {
    const zone = 'batch.test';
    const desired = Array.from({ length: 250 }, (_, i) =>
      a(`h${i}.${zone}`, `10.0.${i >> 8}.${i & 255}`, '192.0.2.1'),
    );
    const plan = planZone({ zone, desired, observed: await read(zone), prune: false });
    const events: MessageEvent[] = [];
    const maxMessageBytes = 4096;
    const result = await applyPlan(client, server(), named.tsigKey, plan, {
      maxMessageBytes,
      maxChangesPerMessage: 100,
      measure: updateMessageSize,
      onMessage: (event) => events.push(event),
    });
    assert.equal(result.applied.length, 250);
    assert.deepEqual(result.rejected, []);
    assert.equal(result.messages, events.length);
    assert.ok(result.messages >= 3, `${result.messages} messages`);
    for (const event of events) {
      assert.ok(event.bytes <= maxMessageBytes, `${event.bytes} bytes`);
      assert.ok(event.changes.length <= 100);
    }
    const zoneData = await read(zone);
    for (const d of desired) assert.ok(holds(zoneData, d), d.name);
    const again = planZone({ zone, desired, observed: zoneData, prune: false });
    assert.deepEqual(again.changes, []);
  });

  test('when named refuses a batch for one MX, bisection finds it and the rest is applied', async () => {
    const zone = 'bisect.test';
    // BIND's update integrity check: an MX whose exchange is in the zone but has no
    // address makes named refuse the whole message ("has no address records").
    const mx: DesiredRRset = {
      name: `mail.${zone}`,
      type: 'MX',
      ttl: 300,
      rdata: [{ preference: 10, exchange: `nohost.${zone}` }],
      owner: 'MXRecord/t/mail',
    };
    // An A at the MX's own name goes in, although it shares the MX's name group.
    const others = [
      ...Array.from({ length: 7 }, (_, i) => a(`x${i}.${zone}`, `192.0.2.${i + 1}`)),
      a(`mail.${zone}`, '192.0.2.25'),
    ];
    const { result } = await converge(zone, [...others, mx]);
    assert.deepEqual(
      result.rejected.map((r) => [r.change.owner, r.error.code]),
      [['MXRecord/t/mail', 'REFUSED']],
    );
    assert.equal(result.applied.length, 8);
    assert.ok(result.messages > 1);
    const zoneData = await read(zone);
    for (const d of others) assert.ok(holds(zoneData, d), d.name);
    assert.equal(
      zoneData.some((r) => r.type === 'MX'),
      false,
    );
    // named logs why before it answers, but its log reaches us through a pipe, later.
    assert.match(await named.waitForLog(/has no address records/), /has no address records/);
  });

  test('a change made behind the plan fails its prerequisite; re-reading and re-planning converges', async () => {
    const zone = 'stale.test';
    await converge(zone, [a(`www.${zone}`, '192.0.2.1')]);
    const desired = [a(`www.${zone}`, '192.0.2.2'), a(`new.${zone}`, '192.0.2.3')];
    const plan = planZone({ zone, desired, observed: await read(zone), prune: false });
    // Someone edits www by hand between our read and our write.
    await nsupdate(
      named.tsigKeyFile,
      `server ${named.address} ${named.dnsPort}\nzone ${zone}.\nupdate add www.${zone}. 300 IN A 192.0.2.77\nsend\n`,
    );
    await assert.rejects(applyPlan(client, server(), named.tsigKey, plan), (error: unknown) => {
      assert.ok(error instanceof StalePlanError);
      assert.equal(error.code, 'NXRRSET');
      assert.equal(error.disposition, 'prerequisite');
      return true;
    });
    // The hand edit was not overwritten blindly...
    assert.ok(holds(await read(zone), a(`www.${zone}`, '192.0.2.1', '192.0.2.77')));
    // ...and the caller's loop (re-read, re-plan, apply) converges.
    const { result } = await converge(zone, desired);
    assert.equal(result.applied.length, 2);
    const zoneData = await read(zone);
    for (const d of desired) assert.ok(holds(zoneData, d), d.name);
  });

  test('the apex NS is replaced although a delete of the whole apex NS RRset would be ignored', async () => {
    const zone = 'apex.test';
    const ns: DesiredRRset = {
      name: zone,
      type: 'NS',
      ttl: 600,
      rdata: [{ host: `ns2.${zone}` }, { host: 'ns.example.net' }],
      owner: `DNSZone/t/apex`,
    };
    const { result } = await converge(zone, [ns, a(`ns2.${zone}`, '127.0.0.2')]);
    assert.equal(result.applied.length, 2);
    const zoneData = await read(zone);
    assert.ok(holds(zoneData, ns), JSON.stringify(zoneData.filter((r) => r.type === 'NS')));
  });

  test('an A replaced by a CNAME with prune is done in one message, so the CNAME is not ignored', async () => {
    const zone = 'cname.test';
    await converge(zone, [a(`www.${zone}`, '192.0.2.1'), a(`ns1.${zone}`, '127.0.0.1')]);
    const cname: DesiredRRset = {
      name: `www.${zone}`,
      type: 'CNAME',
      ttl: 300,
      rdata: [{ target: 'elsewhere.example.net' }],
      owner: 'CNAMERecord/t/www',
    };
    const { plan, result } = await converge(zone, [cname, a(`ns1.${zone}`, '127.0.0.1')], true);
    assert.deepEqual(plan.changes.map((c) => c.action).sort(), ['create', 'delete']);
    assert.equal(result.messages, 1);
    const zoneData = await read(zone);
    assert.ok(holds(zoneData, cname));
    assert.equal(
      zoneData.some((r) => r.name === `www.${zone}` && r.type === 'A'),
      false,
    );
  });
});
