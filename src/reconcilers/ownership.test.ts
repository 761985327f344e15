import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_UNCONFIRMED_WRITES } from '../api/dnszone.ts';
import type { DNSZone, RecordResource } from '../api/kinds.ts';
import { desiredState } from './desired.ts';
import { Ownership, type ZoneOwners } from './ownership.ts';

const zone = {
  kind: 'DNSZone',
  metadata: { namespace: 'ns', name: 'z' },
  spec: {
    zoneName: 'z.test',
    instanceSelector: {},
    soaRecord: { primaryNs: 'ns.example.net.', adminEmail: 'h@z.test' },
    ttl: 300,
  },
} as unknown as DNSZone;

function a(name: string, owner: string, status?: { fqdn: string }): RecordResource {
  return {
    kind: 'ARecord',
    metadata: { namespace: 'ns', name, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { zone: 'z', name: owner, ipv4Addresses: ['192.0.2.1'] },
    ...(status === undefined ? {} : { status: { ...status, recordType: 'A', zone: 'z' } }),
  } as unknown as RecordResource;
}

const owners = (o: Partial<ZoneOwners>): ZoneOwners => ({
  live: [],
  held: [],
  deleting: [],
  departed: [],
  ...o,
});
const claimOf = (o: ZoneOwners) =>
  new Ownership().claim(zone, o, desiredState(zone, [...o.live, ...o.held]));

describe('Ownership.claim', () => {
  it('removes what a record wrote under its old name, and notes the new one before it is sent', () => {
    const claim = claimOf(owners({ live: [a('r', 'new', { fqdn: 'old.z.test.' })] }));
    assert.deepEqual(
      claim.removals.map((r) => `${r.owner} ${r.name}`),
      ['ARecord/ns/r old.z.test'],
    );
    assert.deepEqual(claim.unconfirmed, [{ owner: 'ARecord/ns/r', name: 'new.z.test', type: 'A' }]);
  });

  it('keeps what a refused record wrote (two records for one RRset: the younger declares nothing)', () => {
    const older = a('older', 'dup');
    const younger = {
      ...a('younger', 'www', { fqdn: 'www.z.test.' }),
      metadata: { namespace: 'ns', name: 'younger', creationTimestamp: '2026-02-01T00:00:00Z' },
      spec: { zone: 'z', name: 'dup', ipv4Addresses: ['192.0.2.2'] },
    } as unknown as RecordResource;
    const claim = claimOf(owners({ live: [older, younger] }));
    assert.deepEqual(claim.removals, []);
  });

  it('writes nothing for a held record and keeps what it declares; notes nothing for the zone’s own RRsets', () => {
    const claim = claimOf(owners({ held: [a('held', 'h')] }));
    assert.deepEqual(claim.keep, [{ name: 'h.z.test', type: 'A' }]);
    assert.ok(!claim.desired.some((r) => r.owner === 'ARecord/ns/held'));
    assert.deepEqual(claim.unconfirmed, []);
  });

  it('holds back new records past what the zone status can list, for the next round', () => {
    const many = Array.from({ length: MAX_UNCONFIRMED_WRITES + 3 }, (_, i) => a(`r${i}`, `h${i}`));
    const claim = claimOf(owners({ live: many }));
    assert.equal(claim.unconfirmed.length, MAX_UNCONFIRMED_WRITES);
    assert.equal(claim.heldBack.size, 3);
    assert.equal(claim.keep.length, 3);
  });
});
