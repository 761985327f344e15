import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RRset } from '../dns/rrset.ts';
import { PermanentError } from '../errors.ts';
import type { EnsureResult, ZoneBackend } from './backend.ts';
import type { DesiredRRset, Plan } from './plan.ts';
import { planWithRemovals, removalChanges, retiredGlue, soaChange, syncZone } from './sync.ts';

const zone = {
  name: 'example.test',
  ttl: 300,
  soa: {
    primaryNs: 'ns1.example.test',
    adminEmail: 'h@example.test',
    serial: 1,
    refresh: 1,
    retry: 1,
    expire: 1,
    negativeTtl: 1,
  },
  nameServers: [{ hostname: 'ns1.example.test' }],
};
const a = (name: string, address: string, owner = 'ARecord/ns/x'): DesiredRRset => ({
  name,
  type: 'A',
  ttl: 300,
  rdata: [{ address }],
  owner,
});
const observedA = (name: string, address: string): RRset => ({
  name,
  type: 'A',
  ttl: 300,
  rdata: [{ address }],
});

describe('removalChanges', () => {
  it('deletes what a deleted resource held when the zone has it and nobody else wants it', () => {
    const { changes, rest } = removalChanges(
      [observedA('gone.example.test', '192.0.2.1'), observedA('kept.example.test', '192.0.2.2')],
      [],
      [a('gone.example.test', '192.0.2.1', 'ARecord/ns/gone')],
    );
    assert.deepEqual(
      changes.map((c) => [c.action, c.before?.name, c.owner]),
      [['delete', 'gone.example.test', 'ARecord/ns/gone']],
    );
    assert.deepEqual(
      rest.map((r) => r.name),
      ['kept.example.test'],
    );
  });

  it('never deletes an RRset that a live resource declares (a conflicting loser was deleted)', () => {
    const { changes } = removalChanges(
      [observedA('dup.example.test', '192.0.2.1')],
      [a('dup.example.test', '192.0.2.1', 'ARecord/ns/older')],
      [a('dup.example.test', '192.0.2.9', 'ARecord/ns/younger')],
    );
    assert.deepEqual(changes, []);
  });
});

describe('planWithRemovals', () => {
  it('plans removals and ordinary changes together, leaving unmanaged data alone', () => {
    const plan = planWithRemovals(
      {
        zone,
        desired: [a('new.example.test', '192.0.2.5')],
        removals: [a('old.example.test', '192.0.2.1', 'ARecord/ns/old')],
        prune: false,
      },
      [observedA('old.example.test', '192.0.2.1'), observedA('manual.example.test', '192.0.2.7')],
    );
    assert.deepEqual(
      plan.changes.map((c) => [c.action, (c.after ?? c.before).name]),
      [
        ['create', 'new.example.test'],
        ['delete', 'old.example.test'],
      ],
    );
  });

  it('is empty once the zone holds what is desired and nothing deleted is left', () => {
    const plan = planWithRemovals(
      { zone, desired: [a('x.example.test', '192.0.2.5')], removals: [], prune: false },
      [observedA('x.example.test', '192.0.2.5')],
    );
    assert.deepEqual(plan.changes, []);
  });
});

describe('retiredGlue', () => {
  const zoneOwner = 'DNSZone/ns/example';
  const ns = (...hosts: string[]) => ({
    name: 'example.test',
    type: 'NS' as const,
    ttl: 300,
    rdata: hosts.map((host) => ({ host })),
  });
  const served = [ns('ns1.example.test', 'ns2.example.test', 'ns.example.net')];
  const declared = [{ ...ns('ns1.example.test'), owner: zoneOwner }];

  it('removes the address RRsets of an in-zone name server the zone no longer declares', () => {
    const removed = retiredGlue('example.test', declared, served);
    assert.deepEqual(
      removed.map((r) => [r.name, r.type, r.owner]),
      [
        ['ns2.example.test', 'A', zoneOwner],
        ['ns2.example.test', 'AAAA', zoneOwner],
      ],
    );
  });

  it('leaves hosts outside the zone and hosts still declared alone', () => {
    const removed = retiredGlue('example.test', declared, served).map((r) => r.name);
    assert.ok(!removed.includes('ns.example.net'));
    assert.ok(!removed.includes('ns1.example.test'));
  });

  it('is nothing while the apex NS is as declared, or when named serves none', () => {
    assert.deepEqual(retiredGlue('example.test', declared, [ns('ns1.example.test')]), []);
    assert.deepEqual(retiredGlue('example.test', declared, []), []);
  });

  it('plans the glue removal with the NS change, and spares glue a record resource declares', () => {
    const observed: RRset[] = [
      ...served,
      observedA('ns1.example.test', '192.0.2.53'),
      observedA('ns2.example.test', '192.0.2.54'),
    ];
    const glue1 = { ...a('ns1.example.test', '192.0.2.53'), owner: zoneOwner };
    const input = { zone, desired: [...declared, glue1], removals: [], prune: false };
    const plan = planWithRemovals(input, observed);
    assert.deepEqual(
      plan.changes.map((c) => [c.action, (c.after ?? c.before)?.name, (c.after ?? c.before)?.type]),
      [
        ['update', 'example.test', 'NS'],
        ['delete', 'ns2.example.test', 'A'],
      ],
    );
    const kept = planWithRemovals(
      { ...input, desired: [...input.desired, a('ns2.example.test', '192.0.2.54')] },
      observed,
    );
    assert.ok(!kept.changes.some((c) => c.action === 'delete'));
  });
});

describe('soaChange', () => {
  const soa = (refresh: number, serial = 7): RRset => ({
    name: 'example.test',
    type: 'SOA',
    ttl: 300,
    rdata: [
      {
        mname: 'ns1.example.test',
        rname: 'h.example.test',
        serial,
        refresh,
        retry: 1,
        expire: 1,
        minimum: 1,
      },
    ],
  });

  it('is nothing while the SOA is as declared, whatever the serial', () => {
    assert.equal(soaChange([soa(1, 99)], zone), undefined);
  });

  it('replaces a changed SOA with the next serial', () => {
    const change = soaChange([soa(3600, 4294967295)], zone);
    assert.equal(change?.action, 'update');
    const after = change?.after;
    assert.ok(after?.type === 'SOA');
    assert.equal(after.rdata[0]?.refresh, 1);
    assert.equal(after.rdata[0]?.serial, 0, 'serial arithmetic wraps (RFC 1982)');
  });
});

describe('syncZone on a secondary', () => {
  const target = {
    id: 'ns/sec',
    role: 'secondary' as const,
    dns: { address: '127.0.0.1', port: 5300 },
    tsigKey: undefined as never,
    rndc: { endpoint: { address: '127.0.0.1', port: 9530 }, key: undefined as never },
    primaries: [{ address: '127.0.0.1', port: 53 }],
  };
  const log = { info: () => undefined } as never;

  /** A secondary serving `serial`; counts the transfers it is told to make. */
  function secondary(serial: number | undefined, ensured: EnsureResult = 'unchanged') {
    const calls = { retransfer: 0 };
    const backend = {
      ensureZone: async () => ensured,
      zoneSerial: async () => serial,
      retransfer: async () => {
        calls.retransfer++;
      },
    } as unknown as ZoneBackend;
    return { backend, calls };
  }
  const input = (serials?: number[]) => ({
    zone,
    desired: [],
    removals: [],
    prune: false,
    ...(serials === undefined ? {} : { primarySerials: serials }),
  });

  it('is in sync once it serves one of its primaries’ serials', async () => {
    const { backend, calls } = secondary(7);
    const r = await syncZone(backend, target, input([5, 7]), log);
    assert.ok(r.ok);
    assert.equal(r.transferPending, undefined);
    assert.equal(r.serial, 7);
    assert.equal(calls.retransfer, 0);
  });

  it('says transferPending and asks for a transfer while it serves another serial, or none', async () => {
    for (const serial of [4, undefined]) {
      const { backend, calls } = secondary(serial);
      const r = await syncZone(backend, target, input([5]), log);
      assert.ok(r.ok);
      assert.equal(r.transferPending, true);
      assert.equal(calls.retransfer, 1);
    }
  });

  it('waits for the first load of a zone just created without asking for a transfer', async () => {
    const { backend, calls } = secondary(undefined, 'created');
    const r = await syncZone(backend, target, input([5]), log);
    assert.ok(r.ok);
    assert.equal(r.transferPending, true);
    assert.equal(calls.retransfer, 0);
  });

  it('has nothing to wait for when no primary serial is known', async () => {
    const { backend, calls } = secondary(undefined);
    const r = await syncZone(backend, target, input([]), log);
    assert.ok(r.ok);
    assert.equal(r.transferPending, undefined);
    assert.equal(calls.retransfer, 0);
  });
});

describe('syncZone on a records-only instance', () => {
  const target = {
    id: 'ns/knot',
    role: 'primary' as const,
    dns: { address: '127.0.0.1', port: 5300 },
    tsigKey: undefined as never,
    recordsOnly: true,
  };
  const log = { info: () => undefined } as never;
  const soa: RRset = {
    name: 'example.test',
    type: 'SOA',
    ttl: 3600,
    rdata: [
      {
        mname: 'ns.provider.example',
        rname: 'admin.provider.example',
        serial: 2026010101,
        refresh: 7200,
        retry: 900,
        expire: 1209600,
        minimum: 600,
      },
    ],
  };
  const servedNs: RRset = {
    name: 'example.test',
    type: 'NS',
    ttl: 3600,
    rdata: [{ host: 'ns.provider.example' }],
  };
  const apexNs: DesiredRRset = {
    name: 'example.test',
    type: 'NS',
    ttl: 300,
    rdata: [{ host: 'ns1.example.test' }],
    owner: 'DNSZone/ns/example',
  };
  const glue = a('ns1.example.test', '192.0.2.53', 'DNSZone/ns/example');

  /** A server whose zone holds `observed`, or refuses it (`served: false`). */
  function server(observed: RRset[] | undefined) {
    const sent: Plan[] = [];
    const backend = {
      ensureZone: async () => assert.fail('a records-only zone is never ensured'),
      readZone: async () => {
        if (observed === undefined) throw new PermanentError('NOTAUTH', 'answered NOTAUTH');
        return observed;
      },
      zoneSerial: async () => (observed === undefined ? undefined : 2026010101),
      apply: async (_t: unknown, plan: Plan) => {
        sent.push(plan);
        return { applied: [...plan.changes], rejected: [], messages: 1 };
      },
    } as unknown as ZoneBackend;
    return { backend, sent };
  }
  const input = (manageApex?: boolean) => ({
    zone,
    desired: [apexNs, glue, a('www.example.test', '192.0.2.10')],
    removals: [],
    prune: true,
    ...(manageApex === undefined ? {} : { manageApex }),
  });

  it('leaves the SOA and apex NS as the server has them, and writes the records', async () => {
    const { backend, sent } = server([soa, servedNs]);
    const r = await syncZone(backend, target, input(), log);
    assert.ok(r.ok, String(!r.ok && r.error));
    assert.deepEqual(
      sent.flatMap((p) => p.changes.map((c) => `${c.action} ${(c.after ?? c.before).name}`)),
      ['create www.example.test'],
    );
  });

  it('writes the SOA and apex NS as declared when the zone says manageApex', async () => {
    const { backend, sent } = server([soa, servedNs]);
    const r = await syncZone(backend, target, input(true), log);
    assert.ok(r.ok);
    const types = sent.flatMap((p) => p.changes.map((c) => (c.after ?? c.before).type)).sort();
    assert.deepEqual(types, ['A', 'A', 'NS', 'SOA']);
  });

  it('reports a zone the server does not serve as ZoneNotServed (NOTAUTH), and sends nothing', async () => {
    const { backend, sent } = server(undefined);
    const r = await syncZone(backend, target, input(), log);
    assert.ok(!r.ok);
    assert.ok(r.error instanceof PermanentError);
    assert.equal(r.error.code, 'NOTAUTH');
    assert.match(r.error.message, /not served by ns\/knot.*provision it on the server/);
    assert.deepEqual(sent, []);
  });
});
