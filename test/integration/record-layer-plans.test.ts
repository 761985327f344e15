/**
 * Plans applied by the executor to each authoritative server — BIND9, Knot DNS and
 * PowerDNS, real ones (test/harness/servers.ts): large plans in bounded messages, an RRset
 * replaced without ever answering empty, prune, a plan gone stale behind our back, an A
 * replaced by a CNAME, the apex NS replaced, and a key that may transfer the zone but not
 * update it. (Bisection of a batch named refuses for one RRset: executor.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyPlan, type MessageEvent, StalePlanError } from '../../src/bind/executor.ts';
import { type DesiredRRset, planZone } from '../../src/bind/plan.ts';
import { DnsClient, updateMessageSize } from '../../src/dns/client.ts';
import { type RRset, rdataTexts, rrsetKey, sameRRset } from '../../src/dns/rrset.ts';
import { KeyRefusedError } from '../../src/errors.ts';
import { generateKey } from '../harness/named.ts';
import {
  type RecordServer,
  SERVER_KINDS,
  SERVER_NAMES,
  startRecordServer,
} from '../harness/servers.ts';

const ZONES = ['batch.test', 'replace.test', 'prune.test', 'stale.test', 'cname.test', 'apex.test'];
const READ_ONLY = 'readonly.test';
const transferOnly = generateKey('transfer-key');

function a(name: string, ...addresses: string[]): DesiredRRset {
  return {
    name,
    type: 'A',
    ttl: 300,
    rdata: addresses.map((address) => ({ address })),
    owner: `ARecord/t/${name}`,
  };
}

function holds(zoneData: readonly RRset[], wanted: RRset): boolean {
  return zoneData.some((r) => rrsetKey(r) === rrsetKey(wanted) && sameRRset(r, wanted));
}

for (const kind of SERVER_KINDS) {
  describe(`plans applied to ${SERVER_NAMES[kind]}`, { timeout: 300_000 }, () => {
    let server: RecordServer;
    const client = new DnsClient({ timeoutMs: 10_000 });

    before(async () => {
      server = await startRecordServer(kind, {
        keys: [transferOnly],
        zones: [
          ...ZONES.map((name) => ({ name })),
          { name: READ_ONLY, transferKeys: [transferOnly.name] },
        ],
      });
    });
    after(async () => {
      await client.close();
      await server?.stop();
    });

    const read = (zone: string) => client.axfr(server.endpoint, server.tsigKey, zone);

    async function converge(zone: string, desired: DesiredRRset[], prune = false) {
      const plan = planZone({ zone, desired, observed: await read(zone), prune });
      return { plan, result: await applyPlan(client, server.endpoint, server.tsigKey, plan) };
    }

    test('a plan of 250 RRsets goes out in messages within both bounds, all of it arrives, and the next plan is empty', async () => {
      const zone = 'batch.test';
      const desired = Array.from({ length: 250 }, (_, i) =>
        a(`h${i}.${zone}`, `10.0.${i >> 8}.${i & 255}`, '192.0.2.1'),
      );
      const plan = planZone({ zone, desired, observed: await read(zone), prune: false });
      const events: MessageEvent[] = [];
      const result = await applyPlan(client, server.endpoint, server.tsigKey, plan, {
        maxMessageBytes: 4096,
        maxChangesPerMessage: 100,
        measure: updateMessageSize,
        onMessage: (event) => events.push(event),
      });
      assert.equal(result.applied.length, 250);
      assert.deepEqual(result.rejected, []);
      assert.equal(result.messages, events.length);
      assert.ok(result.messages >= 3, `${result.messages} messages`);
      for (const event of events) {
        assert.ok(event.bytes <= 4096, `${event.bytes} bytes`);
        assert.ok(event.changes.length <= 100);
      }
      const zoneData = await read(zone);
      for (const d of desired) assert.ok(holds(zoneData, d), d.name);
      assert.deepEqual(planZone({ zone, desired, observed: zoneData, prune: false }).changes, []);
    });

    test('an RRset replaced by the executor is answered as the old or the new set at every moment, never empty', async () => {
      const zone = 'replace.test';
      const name = `www.${zone}`;
      await converge(zone, [a(name, '192.0.2.1', '192.0.2.2')]);
      const seen: string[] = [];
      let done = false;
      // Bounded: the loop ends with the change, and in any case after 2,000 queries.
      const watcher = (async () => {
        while (!done && seen.length < 2000) {
          const rrset = await client.query(server.endpoint, name, 'A');
          seen.push(rrset === undefined ? '' : rdataTexts(rrset).sort().join());
        }
      })();
      await new Promise((r) => setTimeout(r, 20));
      const { result } = await converge(zone, [a(name, '198.51.100.7')]);
      await new Promise((r) => setTimeout(r, 20));
      done = true;
      await watcher;
      assert.equal(result.messages, 1);
      assert.ok(seen.length > 2, `only ${seen.length} answers`);
      const allowed = new Set(['192.0.2.1,192.0.2.2', '198.51.100.7']);
      for (const answer of seen) assert.ok(allowed.has(answer), `answered "${answer}"`);
      assert.equal(seen.at(-1), '198.51.100.7');
    });

    test('a plan with prune deletes the RRsets nobody declares and never the SOA, the apex NS or its glue', async () => {
      const zone = 'prune.test';
      await converge(zone, [a(`keep.${zone}`, '192.0.2.1'), a(`stray.${zone}`, '192.0.2.2')]);
      const { plan } = await converge(zone, [a(`keep.${zone}`, '192.0.2.1')], true);
      const deleted = plan.changes.filter((c) => c.action === 'delete');
      assert.deepEqual(
        deleted.map((c) => `${c.before?.name} ${c.before?.type}`),
        [`stray.${zone} A`],
      );
      const zoneData = await read(zone);
      assert.ok(holds(zoneData, a(`keep.${zone}`, '192.0.2.1')));
      assert.equal(
        zoneData.some((r) => r.name === `stray.${zone}`),
        false,
      );
      assert.ok(zoneData.some((r) => r.name === zone && r.type === 'SOA'));
      assert.ok(zoneData.some((r) => r.name === zone && r.type === 'NS'));
      // The apex name server's glue goes with the apex NS, not with prune.
      assert.ok(zoneData.some((r) => r.name === `ns1.${zone}` && r.type === 'A'));
    });

    test('a change made behind the plan fails its prerequisite; re-reading and re-planning converges', async () => {
      const zone = 'stale.test';
      await converge(zone, [a(`www.${zone}`, '192.0.2.1')]);
      const desired = [a(`www.${zone}`, '192.0.2.2'), a(`new.${zone}`, '192.0.2.3')];
      const plan = planZone({ zone, desired, observed: await read(zone), prune: false });
      // Someone edits www between our read and our write.
      await client.update(server.endpoint, server.tsigKey, {
        zone,
        prerequisites: [],
        updates: [{ kind: 'add', rrset: a(`www.${zone}`, '192.0.2.77') }],
      });
      await assert.rejects(applyPlan(client, server.endpoint, server.tsigKey, plan), (e) => {
        assert.ok(e instanceof StalePlanError, String(e));
        assert.equal(e.disposition, 'prerequisite');
        return true;
      });
      assert.ok(holds(await read(zone), a(`www.${zone}`, '192.0.2.1', '192.0.2.77')));
      const { result } = await converge(zone, desired);
      assert.equal(result.applied.length, 2);
      const zoneData = await read(zone);
      for (const d of desired) assert.ok(holds(zoneData, d), d.name);
    });

    test('an A replaced by a CNAME with prune goes in one message, so the CNAME is not ignored', async () => {
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

    test('the apex NS is replaced although a delete of the whole apex NS RRset would be ignored', async () => {
      const zone = 'apex.test';
      const ns: DesiredRRset = {
        name: zone,
        type: 'NS',
        ttl: 600,
        rdata: [{ host: `ns2.${zone}` }, { host: 'ns.example.net' }],
        owner: 'DNSZone/t/apex',
      };
      const { result } = await converge(zone, [ns, a(`ns2.${zone}`, '127.0.0.2')]);
      assert.equal(result.applied.length, 2);
      const zoneData = await read(zone);
      assert.ok(holds(zoneData, ns), JSON.stringify(zoneData.filter((r) => r.type === 'NS')));
    });

    test('a key that may transfer the zone but not update it: 1,000 changes end in KeyRefused after at most 2 messages, and nothing changes', async (t) => {
      const zone = READ_ONLY;
      const before = await client.axfr(server.endpoint, transferOnly, zone);
      const desired = Array.from({ length: 1000 }, (_, i) =>
        a(`h${i}.${zone}`, `10.1.${i >> 8}.${i & 255}`),
      );
      const plan = planZone({ zone, desired, observed: before, prune: false });
      let messages = 0;
      const error = await applyPlan(client, server.endpoint, transferOnly, plan, {
        measure: updateMessageSize,
        onMessage: () => messages++,
      }).catch((e: unknown) => e);
      t.diagnostic(`${SERVER_NAMES[kind]}: ${messages} UPDATE message(s) for 1,000 changes`);
      assert.ok(error instanceof KeyRefusedError, String(error));
      assert.equal(error.operation, 'update');
      assert.match(error.message, /policy does not let this key update the zone/);
      assert.ok(messages <= 2, `${messages} messages`);
      assert.deepEqual(await client.axfr(server.endpoint, transferOnly, zone), before);
    });
  });
}
