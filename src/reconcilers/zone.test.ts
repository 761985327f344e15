import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bind9Instance, DNSZone, RecordResource } from '../api/kinds.ts';
import { TransientError, TsigBadSigError } from '../errors.ts';
import type { DesiredState } from './desired.ts';
import { zoneConfigOf } from './desired.ts';
import { recordReady, renamedRemovals, serialsFor } from './zone.ts';

const instance = (name: string) =>
  ({ metadata: { name, namespace: 'ns' }, spec: { role: 'primary' } }) as unknown as Bind9Instance;
const ok = (name: string) => ({
  instance: instance(name),
  result: {
    ok: true as const,
    ensured: 'unchanged' as const,
    applied: [],
    rejected: [],
    messages: 0,
  },
});
const desired = (
  outcomes: [string, DesiredState['outcomes'] extends Map<string, infer O> ? O : never][],
) => ({ zone: 'example.test', rrsets: [], outcomes: new Map(outcomes) }) as DesiredState;

describe('recordReady', () => {
  it('is True only when every primary took the zone', () => {
    const d = desired([['ARecord/ns/www', { ok: true }]]);
    assert.equal(recordReady('ARecord/ns/www', d, [ok('a'), ok('b')]).status, 'True');
    const down = {
      instance: instance('b'),
      result: { ok: false as const, error: new TransientError('TIMEOUT', 'timed out') },
    };
    const r = recordReady('ARecord/ns/www', d, [ok('a'), down]);
    assert.deepEqual([r.status, r.reason], ['False', 'InstanceUnreachable']);
    assert.match(r.message, /^b: /);
  });

  it('reports the conflict the desired state found, before anything about instances', () => {
    const d = desired([['ARecord/ns/young', { ok: false, reason: 'Conflict', message: 'taken' }]]);
    const r = recordReady('ARecord/ns/young', d, []);
    assert.deepEqual([r.status, r.reason], ['False', 'Conflict']);
  });

  it('reports a rejected key by name and NoInstances when nothing serves the zone', () => {
    const d = desired([['ARecord/ns/www', { ok: true }]]);
    const bad = {
      instance: instance('a'),
      result: { ok: false as const, error: new TsigBadSigError('BADSIG from server', 'server') },
    };
    assert.equal(recordReady('ARecord/ns/www', d, [bad]).reason, 'TsigBadSig');
    assert.equal(recordReady('ARecord/ns/www', d, []).reason, 'NoInstances');
  });
});

describe('zoneConfigOf', () => {
  it('makes relative name server names absolute in the zone and keeps glue', () => {
    const zone = {
      metadata: { name: 'z', namespace: 'ns' },
      spec: {
        zoneName: 'Example.Test',
        instanceSelector: {},
        soaRecord: {
          primaryNs: 'ns1',
          adminEmail: 'h@example.test',
          serial: 5,
          refresh: 1,
          retry: 2,
          expire: 3,
          negativeTtl: 4,
        },
        ttl: 60,
        nameServers: [
          { hostname: 'ns1', ipv4Address: '192.0.2.53' },
          { hostname: 'ns.other.example.' },
        ],
        prune: false,
      },
    } as unknown as DNSZone;
    const config = zoneConfigOf(zone);
    assert.equal(config.name, 'example.test');
    assert.equal(config.soa.primaryNs, 'ns1.example.test');
    assert.deepEqual(config.nameServers, [
      { hostname: 'ns1.example.test', ipv4Address: '192.0.2.53' },
      { hostname: 'ns.other.example' },
    ]);
  });
});

describe('renamedRemovals', () => {
  const record = (name: string, specName: string, status?: { fqdn: string; recordType: string }) =>
    ({
      kind: 'ARecord',
      metadata: { name, namespace: 'ns' },
      spec: { zone: 'z', name: specName, ipv4Addresses: ['192.0.2.1'] },
      ...(status === undefined ? {} : { status }),
    }) as unknown as RecordResource;
  const wants = (owner: string, name: string) =>
    ({
      zone: 'example.test',
      rrsets: [{ name, type: 'A', ttl: 300, rdata: [{ address: '192.0.2.1' }], owner }],
      outcomes: new Map(),
    }) as unknown as DesiredState;

  it('removes the RRset a record wrote under its old name once it declares another', () => {
    const r = record('mv', 'new', { fqdn: 'old.example.test.', recordType: 'A' });
    const out = renamedRemovals([r], wants('ARecord/ns/mv', 'new.example.test'));
    assert.deepEqual(
      out.map((x) => [x.name, x.type, x.owner]),
      [['old.example.test', 'A', 'ARecord/ns/mv']],
    );
  });

  it('removes nothing for a record that still declares what it wrote, never wrote, or is refused now', () => {
    const same = record('same', 'www', { fqdn: 'WWW.example.test.', recordType: 'A' });
    assert.deepEqual(renamedRemovals([same], wants('ARecord/ns/same', 'www.example.test')), []);
    const fresh = record('fresh', 'www');
    assert.deepEqual(renamedRemovals([fresh], wants('ARecord/ns/fresh', 'www.example.test')), []);
    const refused = record('refused', 'new', { fqdn: 'old.example.test.', recordType: 'A' });
    assert.deepEqual(renamedRemovals([refused], wants('ARecord/ns/other', 'x.example.test')), []);
  });
});

describe('serialsFor', () => {
  const primary = (name: string, address: string, port?: number) =>
    ({
      metadata: { name, namespace: 'ns' },
      spec: { role: 'primary', dns: { address, ...(port === undefined ? {} : { port }) } },
    }) as unknown as Bind9Instance;
  const secondary = (primaries: string[], primariesPort?: number) =>
    ({
      metadata: { name: 's', namespace: 'ns' },
      spec: { role: 'secondary', primaries, ...(primariesPort ? { primariesPort } : {}) },
    }) as unknown as Bind9Instance;
  const served = [
    { instance: primary('a', '10.0.0.1'), serial: 5 },
    { instance: primary('b', '10.0.0.2', 5300), serial: 9 },
  ];

  it('takes the serials of the primaries the secondary transfers from (address and port)', () => {
    assert.deepEqual(serialsFor(secondary(['10.0.0.1']), served), [5]);
    assert.deepEqual(serialsFor(secondary(['10.0.0.2'], 5300), served), [9]);
  });

  it('takes every primary’s serial when the secondary names none of them (a Service address)', () => {
    assert.deepEqual(serialsFor(secondary(['10.9.9.9']), served), [5, 9]);
    assert.deepEqual(serialsFor(secondary(['10.0.0.2']), served), [5, 9], 'port 53 is not 5300');
  });
});
