/**
 * The planner's idempotence property, with a real named in the loop: for random desired
 * states (every record type, awkward TXT and CAA text, CNAMEs that clash with data, prune
 * on or off), plan against the zone read by AXFR, apply, read again, and the next plan is
 * empty; every RRset the plan did not skip is served exactly as declared. The zone carries
 * over from one run to the next, so runs also exercise transitions between states.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { applyPlan } from '../../src/bind/executor.ts';
import { type DesiredRRset, planZone } from '../../src/bind/plan.ts';
import { formatNsupdateScript } from '../../src/bind/script.ts';
import { DnsClient, updateMessageSize } from '../../src/dns/client.ts';
import { type RRset, rdataTexts, rrsetKey, sameRRset, splitTxt } from '../../src/dns/rrset.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';

const ZONE = 'prop.test';
const NAMES = [
  ZONE,
  `www.${ZONE}`,
  `mail.${ZONE}`,
  `a.b.${ZONE}`,
  `_sip._tcp.${ZONE}`,
  `*.wild.${ZONE}`,
];

const text = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', ' ', '"', '\\', ';', '(', 'é', '€', '😀', '\t'),
  maxLength: 300,
});

/** Each type with rdata a real server stores and gives back in the same form. */
const rdataArb = {
  A: fc.constantFrom('192.0.2.1', '192.0.2.2', '198.51.100.7').map((address) => ({ address })),
  AAAA: fc
    .constantFrom('2001:db8::1', '2001:db8:0:1::53', 'fe80::1')
    .map((address) => ({ address })),
  // Targets outside the zone: BIND refuses MX/SRV pointing at in-zone names without address.
  MX: fc.record({
    preference: fc.integer({ min: 0, max: 65535 }),
    exchange: fc.constantFrom('mx1.example.net', 'mx2.example.net'),
  }),
  TXT: text.map((value) => ({ strings: splitTxt(value) })),
  SRV: fc.record({
    priority: fc.integer({ min: 0, max: 65535 }),
    weight: fc.integer({ min: 0, max: 65535 }),
    port: fc.integer({ min: 1, max: 65535 }),
    target: fc.constantFrom('sip.example.net', 'sip2.example.net'),
  }),
  CAA: fc.record({
    flags: fc.constantFrom(0, 128),
    tag: fc.constantFrom('issue', 'issuewild', 'iodef'),
    value: fc.string({
      unit: fc.constantFrom('c', 'a', '.', ';', '"', '\\', ' ', '='),
      maxLength: 40,
    }),
  }),
  PTR: fc.constantFrom('host.example.net', `www.${ZONE}`).map((target) => ({ target })),
  CNAME: fc.constantFrom('alias.example.net', 'other.example.net').map((target) => ({ target })),
};
type GenType = keyof typeof rdataArb;
const HOST_TYPES: ReadonlySet<string> = new Set(['A', 'AAAA', 'MX']);

const rrsetArb: fc.Arbitrary<DesiredRRset> = fc
  .record({
    name: fc.constantFrom(...NAMES),
    type: fc.constantFrom(...(Object.keys(rdataArb) as GenType[])),
    ttl: fc.constantFrom(60, 300, 3600),
    owner: fc.constantFrom('o1', 'o2'),
  })
  // BIND's check-names (on by default for primaries) refuses A, AAAA and MX records whose
  // owner is not a host name, such as _sip._tcp; the executor's bisection would isolate
  // them, but here every planned RRset should be accepted.
  .map((r) =>
    HOST_TYPES.has(r.type) && r.name.startsWith('_') ? { ...r, name: `www.${ZONE}` } : r,
  )
  .chain(({ name, type, ttl, owner }) =>
    fc
      .array(rdataArb[type] as fc.Arbitrary<object>, { minLength: 1, maxLength: 3 })
      .map((rdata) => ({ name, type, ttl, rdata, owner }) as DesiredRRset),
  );

/** A delegation, kept at a name with nothing below it so no data is occluded. */
const delegationArb: fc.Arbitrary<DesiredRRset[]> = fc
  .subarray(['ns1.example.net', 'ns2.example.net'], { minLength: 1 })
  .chain((hosts) =>
    fc.constantFrom<DesiredRRset[]>(
      [],
      [
        {
          name: `sub.${ZONE}`,
          type: 'NS',
          ttl: 300,
          rdata: hosts.map((host) => ({ host })),
          owner: 'ns',
        },
      ],
    ),
  );

describe('plan and apply against a real named, as a property', () => {
  let named: NamedServer;
  const client = new DnsClient({ timeoutMs: 5000 });
  const server = () => ({ address: named.address, port: named.dnsPort });

  before(async () => {
    named = await startNamed({ zones: [{ name: ZONE }] });
  });
  after(async () => {
    await client.close();
    await named?.stop();
  });

  test('after applying a plan, the next plan is empty and the zone holds what was planned', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rrsetArb, { maxLength: 10 }),
        delegationArb,
        fc.boolean(),
        async (records, delegation, prune) => {
          const desired = [...records, ...delegation];
          const observed = await client.axfr(server(), named.tsigKey, ZONE);
          const plan = planZone({ zone: ZONE, desired, observed, prune });
          const result = await applyPlan(client, server(), named.tsigKey, plan, {
            measure: updateMessageSize,
          });
          // named logs why it refused; the last lines say it when this fails.
          const refusals = result.rejected.map((r) => r.error.message);
          const reasons = named
            .log()
            .split('\n')
            .filter((l) => /rejected|refused|failed/.test(l));
          assert.deepEqual(refusals, [], reasons.slice(-3).join('\n'));
          const zoneData = await client.axfr(server(), named.tsigKey, ZONE);
          const again = planZone({ zone: ZONE, desired, observed: zoneData, prune });
          assert.deepEqual(again.changes, []);
          const held = new Map(zoneData.map((r): [string, RRset] => [rrsetKey(r), r]));
          for (const d of desired) {
            if (plan.skipped.some((s) => s.rrset === d)) continue;
            const served = held.get(rrsetKey(d));
            assert.ok(served !== undefined && sameRRset(served, { ...d }), rrsetKey(d));
          }
        },
      ),
      { numRuns: 60, endOnFailure: true },
    );
  });

  test('the nsupdate script of a plan, fed to nsupdate -k, does what the executor does', async () => {
    // A second server starts from the same zone and takes each plan through nsupdate.
    const twin = await startNamed({ zones: [{ name: ZONE }] });
    const twinServer = { address: twin.address, port: twin.dnsPort };
    const text = async (n: NamedServer) =>
      (await client.axfr({ address: n.address, port: n.dnsPort }, n.tsigKey, ZONE))
        .filter((r) => r.type !== 'SOA')
        .flatMap((r) => rdataTexts(r).map((t) => `${r.name} ${r.ttl} ${r.type} ${t}`));
    // Both servers must start equal: bring the first to the twin's (minimal) zone.
    const reset = await client.axfr(twinServer, twin.tsigKey, ZONE);
    const toBase = planZone({
      zone: ZONE,
      desired: reset
        .filter((r) => r.type !== 'SOA')
        .map((r) => ({ ...r, owner: 'base' }) as DesiredRRset),
      observed: await client.axfr(server(), named.tsigKey, ZONE),
      prune: true,
    });
    await applyPlan(client, server(), named.tsigKey, toBase);
    try {
      assert.deepEqual(await text(named), await text(twin));
      await fc.assert(
        fc.asyncProperty(
          fc.array(rrsetArb, { maxLength: 8 }),
          fc.boolean(),
          async (desired, prune) => {
            const viaExecutor = planZone({
              zone: ZONE,
              desired,
              observed: await client.axfr(server(), named.tsigKey, ZONE),
              prune,
            });
            await applyPlan(client, server(), named.tsigKey, viaExecutor);
            const viaScript = planZone({
              zone: ZONE,
              desired,
              observed: await client.axfr(twinServer, twin.tsigKey, ZONE),
              prune,
            });
            assert.deepEqual(viaScript.changes, viaExecutor.changes);
            const fed = await nsupdate(
              twin.tsigKeyFile,
              formatNsupdateScript(viaScript, twinServer),
            );
            assert.equal(fed.code, 0, fed.output);
            assert.deepEqual(await text(twin), await text(named));
          },
        ),
        { numRuns: 20, endOnFailure: true },
      );
    } finally {
      await twin.stop();
    }
  });
});

/** Runs `nsupdate -k KEYFILE` with a script on stdin. */
function nsupdate(
  keyFile: string,
  script: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsupdate', ['-k', keyFile], { timeout: 20_000 });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(script);
  });
}
