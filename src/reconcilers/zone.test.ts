import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bind9Instance, DNSZone } from '../api/kinds.ts';
import { TransientError, TsigBadSigError } from '../dns/errors.ts';
import type { DesiredState } from './desired.ts';
import { recordReady, zoneConfigOf } from './zone.ts';

const instance = (name: string) =>
  ({ metadata: { name, namespace: 'ns' }, spec: { role: 'primary' } }) as unknown as Bind9Instance;
const ok = (name: string) => ({
  instance: instance(name),
  result: { ok: true as const, ensured: 'unchanged' as const, applied: [], rejected: [] },
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
