import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretKey } from '../dns/keyfile.ts';
import type { RRset } from '../dns/rrset.ts';
import { PermanentError, TransientError, ValidationError } from '../errors.ts';
import { estimateUpdateSize, isPerRRsetRefusal, packGroups } from './executor.ts';
import { type Change, groupByName, updateRequestFor } from './plan.ts';

const key = new SecretKey('ctrl-key', 'hmac-sha256', Buffer.alloc(32, 1));
const zone = 'example.com';

function create(name: string, ...addresses: string[]): Change {
  const after: RRset = {
    name,
    type: 'A',
    ttl: 300,
    rdata: addresses.map((address) => ({ address })),
  };
  return { action: 'create', after };
}
const measure = (changes: readonly Change[]) =>
  estimateUpdateSize(updateRequestFor(zone, changes), key);

describe('estimateUpdateSize', () => {
  it('grows with every record added to the message', () => {
    const one = measure([create('a.example.com', '192.0.2.1')]);
    const two = measure([create('a.example.com', '192.0.2.1', '192.0.2.2')]);
    assert.ok(two > one);
    // One more A record: owner name (15) + type/class/TTL/length (10) + 4 address bytes.
    assert.equal(two - one, 15 + 10 + 4);
  });

  it('is not smaller than the header, zone section and TSIG of an empty message', () => {
    // 12 header + 13 zone name + 4 type/class, and a TSIG RR of at least 10 + 26 + 32.
    assert.ok(measure([]) >= 12 + 13 + 4 + 10 + 26 + 32);
  });
});

describe('packGroups', () => {
  const groups = groupByName([
    create('a.example.com', '192.0.2.1'),
    create('b.example.com', '192.0.2.1'),
    create('c.example.com', '192.0.2.1'),
    create('d.example.com', '192.0.2.1'),
  ]);

  it('puts everything in one batch when both bounds allow it', () => {
    assert.equal(packGroups(groups, { bytes: 65535, count: 100, measure }).length, 1);
  });

  it('starts a new batch when the count bound would be passed', () => {
    const batches = packGroups(groups, { bytes: 65535, count: 3, measure });
    assert.deepEqual(
      batches.map((b) => b.flat().length),
      [3, 1],
    );
  });

  it('starts a new batch when the size bound would be passed, and each batch fits it', () => {
    const limit = measure(groups.slice(0, 2).flat());
    const batches = packGroups(groups, { bytes: limit, count: 100, measure });
    assert.deepEqual(
      batches.map((b) => b.flat().length),
      [2, 2],
    );
    for (const batch of batches) assert.ok(measure(batch.flat()) <= limit);
  });

  it('sends a group larger than the bounds alone rather than dropping it', () => {
    const big = groupByName([create('x.example.com', '192.0.2.1', '192.0.2.2', '192.0.2.3')]);
    const limit = measure(groups[0] ?? []);
    const batches = packGroups([...groups.slice(0, 1), ...big], {
      bytes: limit,
      count: 9,
      measure,
    });
    for (const batch of batches) assert.equal(batch.length, 1);
    assert.deepEqual(
      batches.map((b) => b.flat().length),
      [1, 1],
    );
  });
});

describe('isPerRRsetRefusal', () => {
  it('holds for REFUSED, FORMERR, NOTZONE and our validation errors', () => {
    assert.equal(isPerRRsetRefusal(new PermanentError('REFUSED', 'refused')), true);
    assert.equal(isPerRRsetRefusal(new PermanentError('NOTZONE', 'not in zone')), true);
    assert.equal(isPerRRsetRefusal(new ValidationError('name', 'too long')), true);
  });

  it('does not hold for key failures or transient errors, which concern the whole server', () => {
    assert.equal(isPerRRsetRefusal(new PermanentError('BADSIG', 'bad sig')), false);
    assert.equal(isPerRRsetRefusal(new PermanentError('NOTAUTH', 'not auth')), false);
    assert.equal(isPerRRsetRefusal(new TransientError('REFUSED', 'odd')), false);
    assert.equal(isPerRRsetRefusal(new TypeError('x')), false);
  });
});
