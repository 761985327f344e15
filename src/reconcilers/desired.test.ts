import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DNSZoneSpec } from '../api/dnszone.ts';
import { resourceKey } from '../api/ids.ts';
import type { DNSZone } from '../api/kinds.ts';
import type { RecordSpec } from '../api/records.ts';
import {
  belongsToZone,
  desiredState,
  olderFirst,
  type RecordObject,
  type ZoneObject,
  zoneConfigOf,
  zoneOwnedRRsets,
} from './desired.ts';

function zoneObject(spec: Partial<DNSZoneSpec> = {}): ZoneObject {
  return {
    metadata: { name: 'example', namespace: 'dns' },
    spec: {
      zoneName: 'example.com',
      instanceSelector: {},
      soaRecord: {
        primaryNs: 'ns1',
        adminEmail: 'hostmaster@example.com',
        serial: 1,
        refresh: 3600,
        retry: 900,
        expire: 1209600,
        negativeTtl: 300,
      },
      ttl: 600,
      prune: false,
      ...spec,
    },
  };
}

function record(
  kind: string,
  name: string,
  spec: Partial<RecordSpec> & Record<string, unknown>,
  created?: string,
): RecordObject {
  return {
    kind,
    metadata: {
      name,
      namespace: 'dns',
      ...(created === undefined ? {} : { creationTimestamp: created }),
    },
    spec: { zone: 'example', name: 'www', ...spec } as RecordSpec,
  };
}

describe('zoneOwnedRRsets', () => {
  it('declares the apex NS from the SOA primary NS when nameServers is not set', () => {
    const [ns, ...rest] = zoneOwnedRRsets(zoneObject());
    assert.deepEqual(ns, {
      name: 'example.com',
      type: 'NS',
      ttl: 600,
      rdata: [{ host: 'ns1.example.com' }],
      owner: 'DNSZone/dns/example',
    });
    assert.deepEqual(rest, []);
  });

  it('declares glue only for name servers inside the zone', () => {
    const rrsets = zoneOwnedRRsets(
      zoneObject({
        nameServers: [
          { hostname: 'ns1', ipv4Address: '192.0.2.53', ipv6Address: '2001:DB8:0::53' },
          { hostname: 'ns.example.net.', ipv4Address: '198.51.100.53' },
        ],
      }),
    );
    assert.deepEqual(
      rrsets.map((r) => [r.name, r.type, r.rdata]),
      [
        ['example.com', 'NS', [{ host: 'ns1.example.com' }, { host: 'ns.example.net' }]],
        ['ns1.example.com', 'A', [{ address: '192.0.2.53' }]],
        ['ns1.example.com', 'AAAA', [{ address: '2001:db8::53' }]],
      ],
    );
  });
});

describe('desiredState', () => {
  it('turns each record resource into its RRset, TTL defaulting to the zone ttl', () => {
    const state = desiredState(zoneObject(), [
      record('ARecord', 'www', { ipv4Addresses: ['192.0.2.1'] }),
      record('TXTRecord', 'txt', { name: 'txt', ttl: 60, values: ['hello'] }),
    ]);
    assert.equal(state.zone, 'example.com');
    const www = state.rrsets.find((r) => r.owner === 'ARecord/dns/www');
    assert.deepEqual(www, {
      name: 'www.example.com',
      type: 'A',
      ttl: 600,
      rdata: [{ address: '192.0.2.1' }],
      owner: 'ARecord/dns/www',
    });
    assert.equal(state.rrsets.find((r) => r.type === 'TXT')?.ttl, 60);
    assert.deepEqual([...state.outcomes.values()], [{ ok: true }, { ok: true }]);
  });

  it('gives an RRset to the oldest resource and Conflict to the younger', () => {
    const state = desiredState(zoneObject(), [
      record('ARecord', 'young', { ipv4Addresses: ['192.0.2.2'] }, '2026-01-02T00:00:00Z'),
      record('ARecord', 'old', { ipv4Addresses: ['192.0.2.1'] }, '2026-01-01T00:00:00Z'),
    ]);
    assert.deepEqual(state.outcomes.get('ARecord/dns/old'), { ok: true });
    const young = state.outcomes.get('ARecord/dns/young');
    assert.equal(young?.ok === false && young.reason, 'Conflict');
    assert.match(young?.ok === false ? young.message : '', /ARecord\/dns\/old/);
    const www = state.rrsets.filter((r) => r.name === 'www.example.com');
    assert.deepEqual(
      www.map((r) => r.rdata),
      [[{ address: '192.0.2.1' }]],
    );
  });

  it('refuses the younger of a CNAME and other data at one name, whichever type it is', () => {
    const cnameFirst = desiredState(zoneObject(), [
      record('CNAMERecord', 'c', { target: 'elsewhere.example.net.' }, '2026-01-01T00:00:00Z'),
      record('TXTRecord', 't', { values: ['x'] }, '2026-01-02T00:00:00Z'),
    ]);
    const t = cnameFirst.outcomes.get('TXTRecord/dns/t');
    assert.equal(t?.ok === false && t.reason, 'CnameConflict');
    const dataFirst = desiredState(zoneObject(), [
      record('CNAMERecord', 'c', { target: 'elsewhere.example.net.' }, '2026-01-02T00:00:00Z'),
      record('TXTRecord', 't', { values: ['x'] }, '2026-01-01T00:00:00Z'),
    ]);
    const c = dataFirst.outcomes.get('CNAMERecord/dns/c');
    assert.equal(c?.ok === false && c.reason, 'CnameConflict');
    assert.deepEqual(
      dataFirst.rrsets.filter((r) => r.type === 'CNAME'),
      [],
    );
  });

  it('lets the zone keep its apex NS and glue ahead of any record resource', () => {
    const state = desiredState(
      zoneObject({ nameServers: [{ hostname: 'ns1', ipv4Address: '192.0.2.53' }] }),
      [
        record(
          'NSRecord',
          'apex',
          { name: '@', nameServers: ['other.example.net.'] },
          '2000-01-01T00:00:00Z',
        ),
        record(
          'ARecord',
          'glue',
          { name: 'ns1', ipv4Addresses: ['192.0.2.99'] },
          '2000-01-01T00:00:00Z',
        ),
      ],
    );
    const glue = state.outcomes.get('ARecord/dns/glue');
    assert.equal(glue?.ok === false && glue.reason, 'Conflict');
    // An apex NSRecord is refused before ownership is even asked (semantics.ts).
    const apex = state.outcomes.get('NSRecord/dns/apex');
    assert.equal(apex?.ok === false && apex.reason, 'InvalidSpec');
    assert.equal(apex?.ok === false && apex.field, 'spec.name');
  });

  it('refuses what only the controller can judge (CNAME at the apex, null MX beside others) as InvalidSpec naming the field, and gives the rest their RRsets', () => {
    const state = desiredState(zoneObject(), [
      record('CNAMERecord', 'apex', { name: '@', target: 'www.example.net.' }),
      record('MXRecord', 'mx', {
        name: 'mail',
        mailServers: [
          { preference: 0, host: '.' },
          { preference: 10, host: 'mx.example.net.' },
        ],
      }),
      record('ARecord', 'ok', { name: 'www', ipv4Addresses: ['192.0.2.1'] }),
    ]);
    const cname = state.outcomes.get('CNAMERecord/dns/apex');
    assert.deepEqual(cname?.ok === false && [cname.reason, cname.field], [
      'InvalidSpec',
      'spec.name',
    ]);
    assert.match(
      cname?.ok === false ? cname.message : '',
      /^spec\.name: a CNAME cannot be at the zone apex/,
    );
    const mx = state.outcomes.get('MXRecord/dns/mx');
    assert.deepEqual(mx?.ok === false && [mx.reason, mx.field], [
      'InvalidSpec',
      'spec.mailServers[0]',
    ]);
    assert.deepEqual(
      state.rrsets.filter((r) => !r.owner.startsWith('DNSZone/')).map((r) => r.owner),
      ['ARecord/dns/ok'],
    );
  });

  it('refuses names outside the zone and points at spec.name', () => {
    const state = desiredState(zoneObject(), [
      record('ARecord', 'out', { name: 'www.example.org.', ipv4Addresses: ['192.0.2.1'] }),
    ]);
    assert.deepEqual(state.outcomes.get('ARecord/dns/out'), {
      ok: false,
      reason: 'NameOutsideZone',
      field: 'spec.name',
      message: 'www.example.org. is not in zone example.com.',
    });
    assert.equal(state.rrsets.length, 1);
  });

  it('marks a spec that cannot be turned into records InvalidSpec', () => {
    const state = desiredState(zoneObject(), [
      record('AAAARecord', 'bad', { ipv6Addresses: ['not-an-address'] }),
    ]);
    const bad = state.outcomes.get('AAAARecord/dns/bad');
    assert.equal(bad?.ok === false && bad.reason, 'InvalidSpec');
  });

  it('ignores records of other zones and other namespaces', () => {
    const other = record('ARecord', 'o', { zone: 'other', ipv4Addresses: ['192.0.2.1'] });
    const elsewhere = {
      ...record('ARecord', 'e', { ipv4Addresses: ['192.0.2.1'] }),
      metadata: { name: 'e', namespace: 'x' },
    };
    assert.equal(belongsToZone(other, zoneObject()), false);
    assert.equal(belongsToZone(elsewhere, zoneObject()), false);
    assert.equal(desiredState(zoneObject(), [other, elsewhere]).outcomes.size, 0);
  });
});

describe('olderFirst', () => {
  it('orders by creation time, then namespace/name; objects without a time come last', () => {
    const a = record('ARecord', 'b', {}, '2026-01-01T00:00:00Z');
    const b = record('ARecord', 'a', {}, '2026-01-02T00:00:00Z');
    const c = record('ARecord', 'a', {});
    const d = record('ARecord', 'c', {});
    assert.deepEqual(
      [d, c, b, a].sort(olderFirst).map((r) => r.metadata.name),
      ['b', 'a', 'a', 'c'],
    );
    assert.equal(resourceKey(c), 'ARecord/dns/a');
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
