import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SecretKey } from '../dns/keyfile.ts';
import { type RRset, rrsetKey, sameRRset } from '../dns/rrset.ts';
import { messagesOf } from './executor.ts';
import {
  type Change,
  changeShare,
  cnameClashes,
  type DesiredRRset,
  groupByName,
  isApexGlue,
  isApexNs,
  isOutsideZone,
  isSoa,
  mayPrune,
  planZone,
  tooMuchChange,
  updateRequestFor,
} from './plan.ts';
import { formatNsupdateScript, nsupdateLines } from './script.ts';

const zone = 'example.com';
const soa: RRset = {
  name: zone,
  type: 'SOA',
  ttl: 300,
  rdata: [
    {
      mname: 'ns1.example.com',
      rname: 'hostmaster.example.com',
      serial: 7,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 60,
    },
  ],
};
const apexNs: RRset = { name: zone, type: 'NS', ttl: 300, rdata: [{ host: 'ns1.example.com' }] };

function a(name: string, ...addresses: string[]): RRset {
  return { name, type: 'A', ttl: 300, rdata: addresses.map((address) => ({ address })) };
}
function want(rrset: RRset, owner = `Record/default/${rrset.name}`): DesiredRRset {
  return { ...rrset, owner } as DesiredRRset;
}

/**
 * What a server does with a plan, as a pure function: the reference for the properties.
 * Deletions go first (as `updateRequestFor` orders them); an add of a CNAME beside other
 * data, or of data beside a CNAME, is silently ignored as RFC 2136 §3.4.2.2 says.
 */
function applyChanges(observed: readonly RRset[], changes: readonly Change[]): RRset[] {
  const zoneData = new Map(observed.map((o) => [rrsetKey(o), o]));
  for (const c of changes) if (c.action !== 'create') zoneData.delete(rrsetKey(c.before));
  for (const c of changes) {
    if (c.after === undefined) continue;
    const others = [...zoneData.values()].filter((r) => r.name === c.after.name);
    if (others.some((r) => r.type === 'CNAME') || (c.after.type === 'CNAME' && others.length > 0))
      continue;
    zoneData.set(rrsetKey(c.after), c.after);
  }
  return [...zoneData.values()];
}

describe('safety rules', () => {
  it('isSoa recognises the SOA and nothing else', () => {
    assert.equal(isSoa(soa), true);
    assert.equal(isSoa(apexNs), false);
  });

  it('isApexNs holds for NS at the apex only, ignoring case and a final dot', () => {
    assert.equal(isApexNs({ name: 'Example.COM.', type: 'NS' }, zone), true);
    assert.equal(isApexNs({ name: 'sub.example.com', type: 'NS' }, zone), false);
    assert.equal(isApexNs({ name: zone, type: 'A' }, zone), false);
  });

  it('mayPrune refuses without prune, and refuses SOA, apex NS and glue even with it', () => {
    const rule = { zone, prune: true, apexHosts: new Set(['ns1.example.com']) };
    assert.equal(mayPrune(a('www.example.com', '192.0.2.1'), { ...rule, prune: false }), false);
    assert.equal(mayPrune(a('www.example.com', '192.0.2.1'), rule), true);
    assert.equal(mayPrune(soa, rule), false);
    assert.equal(mayPrune(apexNs, rule), false);
    assert.equal(mayPrune(a('ns1.example.com', '127.0.0.1'), rule), false);
    assert.equal(mayPrune({ name: 'ns1.example.com', type: 'TXT' }, rule), true);
    assert.equal(mayPrune({ name: 'sub.example.com', type: 'NS' }, rule), true);
  });

  it('isApexGlue holds for A and AAAA of apex name servers only', () => {
    const hosts = new Set(['ns1.example.com']);
    assert.equal(isApexGlue({ name: 'NS1.example.com.', type: 'AAAA' }, hosts), true);
    assert.equal(isApexGlue({ name: 'ns2.example.com', type: 'A' }, hosts), false);
    assert.equal(isApexGlue({ name: 'ns1.example.com', type: 'MX' }, hosts), false);
  });

  it('isOutsideZone accepts the apex and names below it, refuses look-alikes', () => {
    assert.equal(isOutsideZone({ name: zone }, zone), false);
    assert.equal(isOutsideZone({ name: 'a.b.example.com' }, zone), false);
    assert.equal(isOutsideZone({ name: 'badexample.com' }, zone), true);
    assert.equal(isOutsideZone({ name: 'example.org' }, zone), true);
  });

  it('cnameClashes holds for a CNAME beside anything and anything beside a CNAME', () => {
    assert.equal(cnameClashes('CNAME', []), false);
    assert.equal(cnameClashes('CNAME', ['TXT']), true);
    assert.equal(cnameClashes('A', ['CNAME']), true);
    assert.equal(cnameClashes('A', ['TXT', 'MX']), false);
  });
});

describe('planZone', () => {
  it('creates what is missing and leaves what matches alone', () => {
    const plan = planZone({
      zone,
      desired: [want(a('www.example.com', '192.0.2.1')), want(a('ns1.example.com', '127.0.0.1'))],
      observed: [soa, apexNs, a('ns1.example.com', '127.0.0.1')],
      prune: false,
    });
    assert.deepEqual(plan.changes, [
      {
        action: 'create',
        after: a('www.example.com', '192.0.2.1'),
        owner: 'Record/default/www.example.com',
      },
    ]);
  });

  it('treats a TTL change as an update', () => {
    const plan = planZone({
      zone,
      desired: [want({ ...a('www.example.com', '192.0.2.1'), ttl: 60 })],
      observed: [a('www.example.com', '192.0.2.1')],
      prune: false,
    });
    assert.equal(plan.changes.length, 1);
    assert.equal(plan.changes[0]?.action, 'update');
    assert.equal(plan.changes[0]?.after?.ttl, 60);
  });

  it('ignores record order and duplicates when comparing', () => {
    const plan = planZone({
      zone,
      desired: [want(a('www.example.com', '192.0.2.2', '192.0.2.1', '192.0.2.1'))],
      observed: [a('www.example.com', '192.0.2.1', '192.0.2.2')],
      prune: false,
    });
    assert.deepEqual(plan.changes, []);
  });

  it('leaves undeclared RRsets alone unless asked to prune', () => {
    const observed = [soa, apexNs, a('old.example.com', '192.0.2.9')];
    assert.deepEqual(planZone({ zone, desired: [], observed, prune: false }).changes, []);
    const pruned = planZone({ zone, desired: [], observed, prune: true });
    assert.deepEqual(pruned.changes, [
      { action: 'delete', before: a('old.example.com', '192.0.2.9') },
    ]);
  });

  it('never touches the SOA, even when a resource declares one', () => {
    const changedSoa = { ...soa, ttl: 10 } as RRset;
    const plan = planZone({ zone, desired: [want(changedSoa)], observed: [soa], prune: true });
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.skipped[0]?.reason, 'Soa');
  });

  it('keeps the glue of the apex name servers when pruning, but not glue of replaced ones', () => {
    const glue = a('ns1.example.com', '127.0.0.1');
    const kept = planZone({ zone, desired: [], observed: [soa, apexNs, glue], prune: true });
    assert.deepEqual(kept.changes, []);
    const ns2: RRset = { ...apexNs, rdata: [{ host: 'ns.example.net' }] };
    const moved = planZone({
      zone,
      desired: [want(ns2)],
      observed: [soa, apexNs, glue],
      prune: true,
    });
    assert.deepEqual(
      moved.changes.map((c) => c.action),
      ['update', 'delete'],
    );
  });

  it('updates the apex NS when declared, but never prunes it', () => {
    const ns2 = { ...apexNs, rdata: [{ host: 'ns1.example.com' }, { host: 'ns2.example.com' }] };
    const plan = planZone({ zone, desired: [want(ns2 as RRset)], observed: [apexNs], prune: true });
    assert.equal(plan.changes[0]?.action, 'update');
    assert.deepEqual(planZone({ zone, desired: [], observed: [apexNs], prune: true }).changes, []);
  });

  it('skips names outside the zone, empty RRsets, a CNAME of two records and a second owner of one RRset', () => {
    const plan = planZone({
      zone,
      desired: [
        want(a('www.example.org', '192.0.2.1')),
        want(a('empty.example.com')),
        want({
          name: 'two.example.com',
          type: 'CNAME',
          ttl: 300,
          rdata: [{ target: 'a.example.net' }, { target: 'b.example.net' }],
        }),
        want(a('www.example.com', '192.0.2.1'), 'first'),
        want(a('www.example.com', '192.0.2.2'), 'second'),
      ],
      observed: [],
      prune: false,
    });
    assert.deepEqual(
      plan.skipped.map((s) => [s.rrset.owner, s.reason]),
      [
        ['Record/default/empty.example.com', 'Empty'],
        ['Record/default/two.example.com', 'SingleRecordType'],
        ['second', 'Duplicate'],
        ['Record/default/www.example.org', 'NameOutsideZone'],
      ],
    );
    assert.deepEqual(
      plan.changes.map((c) => c.owner),
      ['first'],
    );
  });

  it('refuses a CNAME beside data that stays, and data beside a CNAME that stays', () => {
    const txt: RRset = {
      name: 'www.example.com',
      type: 'TXT',
      ttl: 300,
      rdata: [{ strings: ['x'] }],
    };
    const cname: RRset = {
      name: 'www.example.com',
      type: 'CNAME',
      ttl: 300,
      rdata: [{ target: 'a.example.net' }],
    };
    const first = planZone({ zone, desired: [want(cname)], observed: [txt], prune: false });
    assert.deepEqual(first.changes, []);
    assert.equal(first.skipped[0]?.reason, 'CnameConflict');
    // With prune the TXT goes, in the same plan, so the CNAME may come.
    const pruned = planZone({ zone, desired: [want(cname)], observed: [txt], prune: true });
    assert.deepEqual(pruned.changes.map((c) => c.action).sort(), ['create', 'delete']);
    const second = planZone({ zone, desired: [want(txt)], observed: [cname], prune: false });
    assert.deepEqual(second.changes, []);
    assert.equal(second.skipped[0]?.reason, 'CnameConflict');
  });

  it('sorts changes by name, labels right to left, then type', () => {
    const plan = planZone({
      zone,
      desired: [
        want(a('b.example.com', '192.0.2.1')),
        want(a('a.b.example.com', '192.0.2.1')),
        want({
          name: 'a.example.com',
          type: 'AAAA',
          ttl: 300,
          rdata: [{ address: '2001:db8::1' }],
        }),
        want(a('a.example.com', '192.0.2.1')),
      ],
      observed: [],
      prune: false,
    });
    assert.deepEqual(
      plan.changes.map((c) => `${c.after?.name} ${c.after?.type}`),
      ['a.example.com A', 'a.example.com AAAA', 'b.example.com A', 'a.b.example.com A'],
    );
  });
});

describe('planZone properties', () => {
  const names = fc.constantFrom(zone, 'www.example.com', 'mail.example.com', 'a.b.example.com');
  const rdataFor = {
    A: fc.constantFrom('192.0.2.1', '192.0.2.2', '198.51.100.7').map((address) => ({ address })),
    TXT: fc.constantFrom('x', 'y').map((s) => ({ strings: [s] })),
    MX: fc.constantFrom(10, 20).map((preference) => ({ preference, exchange: 'mail.example.com' })),
    NS: fc.constantFrom('ns1.example.com', 'ns2.example.net').map((host) => ({ host })),
    CNAME: fc.constantFrom('x.example.net', 'y.example.net').map((target) => ({ target })),
  };
  const rrsetArb = fc
    .record({
      name: names,
      type: fc.constantFrom('A', 'TXT', 'MX', 'NS', 'CNAME') as fc.Arbitrary<keyof typeof rdataFor>,
      ttl: fc.constantFrom(60, 300),
    })
    .chain(({ name, type, ttl }) =>
      fc
        .array(rdataFor[type] as fc.Arbitrary<object>, { minLength: 0, maxLength: 3 })
        .map((rdata) => ({ name, type, ttl, rdata }) as RRset),
    );
  /** A zone as a server can hold it: one RRset per key, no CNAME beside other data. */
  const observedArb = fc.array(rrsetArb, { maxLength: 8 }).map((list) => {
    const byKey = new Map<string, RRset>();
    for (const r of list) if (r.rdata.length > 0) byKey.set(rrsetKey(r), r);
    const cnames = new Set(
      [...byKey.values()].filter((r) => r.type === 'CNAME').map((r) => r.name),
    );
    return [soa, ...[...byKey.values()].filter((r) => r.type === 'CNAME' || !cnames.has(r.name))];
  });
  const desiredArb = fc
    .array(fc.tuple(rrsetArb, fc.constantFrom('o1', 'o2', 'o3')), { maxLength: 8 })
    .map((list) => list.map(([r, owner]) => want(r, owner)));

  it('applying a plan and planning again gives an empty plan', () => {
    fc.assert(
      fc.property(desiredArb, observedArb, fc.boolean(), (desired, observed, prune) => {
        const plan = planZone({ zone, desired, observed, prune });
        const after = applyChanges(observed, plan.changes);
        assert.deepEqual(planZone({ zone, desired, observed: after, prune }).changes, []);
      }),
      { numRuns: 500 },
    );
  });

  it('never touches the SOA, never deletes apex NS, deletes only when pruning', () => {
    fc.assert(
      fc.property(desiredArb, observedArb, fc.boolean(), (desired, observed, prune) => {
        for (const c of planZone({ zone, desired, observed, prune }).changes) {
          const subject = c.after ?? c.before;
          assert.notEqual(subject.type, 'SOA');
          if (c.action === 'delete') {
            assert.equal(prune, true);
            assert.equal(isApexNs(c.before, zone), false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('after applying, every desired RRset that was not skipped is in the zone exactly', () => {
    fc.assert(
      fc.property(desiredArb, observedArb, fc.boolean(), (desired, observed, prune) => {
        const plan = planZone({ zone, desired, observed, prune });
        const after = new Map(applyChanges(observed, plan.changes).map((r) => [rrsetKey(r), r]));
        for (const d of desired) {
          if (plan.skipped.some((s) => s.rrset === d)) continue;
          const held = after.get(rrsetKey(d));
          assert.ok(held !== undefined && sameRRset(held, { ...d }), rrsetKey(d));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('UPDATE requests and nsupdate scripts', () => {
  it('guards every change with a prerequisite and deletes before it adds', () => {
    const before = a('www.example.com', '192.0.2.1');
    const after = a('www.example.com', '192.0.2.2');
    const request = updateRequestFor(zone, [
      { action: 'update', before, after },
      { action: 'create', after: a('new.example.com', '192.0.2.3') },
    ]);
    assert.deepEqual(request.prerequisites, [
      { kind: 'rrsetEquals', rrset: before },
      { kind: 'rrsetAbsent', name: 'new.example.com', type: 'A' },
    ]);
    assert.deepEqual(
      request.updates.map((u) => u.kind),
      ['deleteRRset', 'add', 'add'],
    );
  });

  it('replaces the apex NS by adding first and deleting old records one by one', () => {
    // RFC 2136 §3.4.2.3: a delete-RRset of the apex NS would be silently ignored.
    const after: RRset = { ...apexNs, rdata: [{ host: 'ns2.example.com' }] };
    const request = updateRequestFor(zone, [{ action: 'update', before: apexNs, after }]);
    assert.deepEqual(request.updates, [
      { kind: 'add', rrset: after },
      { kind: 'deleteRecords', rrset: apexNs },
    ]);
  });

  it('keeps all changes of one name in one message', () => {
    const changes: Change[] = [
      { action: 'create', after: a('a.example.com', '192.0.2.1') },
      { action: 'delete', before: a('b.example.com', '192.0.2.1') },
      {
        action: 'create',
        after: { name: 'b.example.com', type: 'CNAME', ttl: 1, rdata: [{ target: 'x.net' }] },
      },
      { action: 'create', after: a('c.example.com', '192.0.2.1') },
    ];
    const groups = groupByName(changes);
    assert.deepEqual(
      groups.map((g) => g.length),
      [1, 2, 1],
    );
  });
});

describe('RRsets to keep', () => {
  it('never prunes, changes or creates an RRset the caller says to keep', () => {
    const served = a('held.example.com', '192.0.2.1');
    const plan = planZone({
      zone,
      desired: [want(a('held.example.com', '192.0.2.9')), want(a('new.example.com', '192.0.2.2'))],
      observed: [soa, apexNs, served, a('unowned.example.com', '192.0.2.3')],
      prune: true,
      keep: [
        { name: 'held.example.com', type: 'A' },
        { name: 'new.example.com', type: 'A' },
      ],
    });
    assert.deepEqual(
      plan.changes.map((c) => [c.action, (c.after ?? c.before).name]),
      [['delete', 'unowned.example.com']],
    );
  });

  it('counts a kept RRset as staying at its name, so no CNAME is planned beside it', () => {
    const cname: RRset = {
      name: 'x.example.com',
      type: 'CNAME',
      ttl: 300,
      rdata: [{ target: 'y.net' }],
    };
    const plan = planZone({
      zone,
      desired: [want(cname)],
      observed: [soa, apexNs, a('x.example.com', '192.0.2.1')],
      prune: true,
      keep: [{ name: 'x.example.com', type: 'A' }],
    });
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.skipped[0]?.reason, 'CnameConflict');
  });
});

describe('change threshold', () => {
  const existing = Array.from({ length: 10 }, (_, i) => a(`h${i}.example.com`, '192.0.2.1'));

  it('counts updates and deletes of existing RRsets, not creates, and not the SOA', () => {
    const desired = [
      want(a('h0.example.com', '192.0.2.2')),
      want(a('new.example.com', '192.0.2.2')),
      ...existing.slice(1, 9).map((r) => want(r)),
    ];
    const plan = planZone({ zone, desired, observed: [soa, ...existing], prune: true });
    assert.deepEqual(changeShare(plan, [soa, ...existing]), { changed: 2, existing: 10 });
  });

  it('refuses more than the share of a zone with enough RRsets, and exempts small zones', () => {
    assert.equal(tooMuchChange({ changed: 3, existing: 10 }), false);
    assert.equal(tooMuchChange({ changed: 4, existing: 10 }), true);
    assert.equal(tooMuchChange({ changed: 9, existing: 9 }), false);
    assert.equal(tooMuchChange({ changed: 4, existing: 10 }, 50), false);
  });
});

describe('nsupdate scripts', () => {
  it('renders prerequisites and updates in nsupdate syntax', () => {
    const txt: RRset = {
      name: 'www.example.com',
      type: 'TXT',
      ttl: 60,
      rdata: [{ strings: ['a "b"', 'c'] }],
    };
    const lines = nsupdateLines(
      updateRequestFor(zone, [
        {
          action: 'update',
          before: a('www.example.com', '192.0.2.1'),
          after: a('www.example.com', '192.0.2.2'),
        },
        { action: 'create', after: txt },
      ]),
    );
    assert.deepEqual(lines, [
      'prereq yxrrset www.example.com. IN A 192.0.2.1',
      'prereq nxrrset www.example.com. IN TXT',
      'update delete www.example.com. IN A',
      'update add www.example.com. 300 IN A 192.0.2.2',
      'update add www.example.com. 60 IN TXT "a \\"b\\"" "c"',
    ]);
  });

  it('prints a script that names the resource behind each change and ends messages with send', () => {
    const plan = planZone({
      zone,
      desired: [want(a('www.example.com', '192.0.2.1'), 'ARecord/default/www')],
      observed: [soa, apexNs],
      prune: false,
    });
    const script = formatNsupdateScript(plan, { address: '127.0.0.1', port: 5353 }, 'ctrl-key');
    assert.match(script, /^server 127\.0\.0\.1 5353$/m);
    assert.match(script, /^zone example\.com\.$/m);
    assert.match(script, /^; create www\.example\.com\. A: ARecord\/default\/www$/m);
    assert.match(script, /^send$/m);
  });

  it('prints only comments when there is nothing to change', () => {
    const plan = planZone({ zone, desired: [], observed: [soa, apexNs], prune: false });
    const script = formatNsupdateScript(plan, { address: '127.0.0.1', port: 53 });
    assert.ok(script.split('\n').every((line) => line === '' || line.startsWith(';')));
  });

  it('sends exactly the messages the executor would send, each after its changes', () => {
    const desired = Array.from({ length: 450 }, (_, i) =>
      want(a(`h${i}.example.com`, '192.0.2.1')),
    );
    const plan = planZone({ zone, desired, observed: [soa, apexNs], prune: false });
    const key = new SecretKey('ctrl-key', 'hmac-sha256', Buffer.alloc(32, 1));
    const script = formatNsupdateScript(plan, { address: '127.0.0.1', port: 53 }, key.name, {
      key,
    });
    const sends = script.split('\n').filter((l) => l === 'send').length;
    const messages = messagesOf(plan, key);
    assert.equal(messages.length, 3, 'the executor sends at most 200 changes a message');
    assert.equal(sends, messages.length);
  });
});
