/**
 * The executor against a real named: bisection when named refuses a batch for one RRset (its
 * update integrity check). Batching, prerequisites, prune, A → CNAME and apex NS, against
 * named, Knot DNS and PowerDNS: record-layer-plans.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyPlan } from '../../src/bind/executor.ts';
import { type DesiredRRset, planZone } from '../../src/bind/plan.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { type RRset, rrsetKey, sameRRset } from '../../src/dns/rrset.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';

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
  const zones = ['bisect.test'];

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
});
