import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretKey } from '../dns/keyfile.ts';
import type { RRset } from '../dns/rrset.ts';
import type { DnsEndpoint, UpdateRequest } from '../dns/update-request.ts';
import { KeyRefusedError, PermanentError, TransientError, ValidationError } from '../errors.ts';
import {
  applyPlan,
  estimateUpdateSize,
  isPerRRsetRefusal,
  noOpRequestFor,
  packGroups,
} from './executor.ts';
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

/** Answers each UPDATE as `answer` says, keeping what it was sent. */
function scriptedSender(answer: (request: UpdateRequest) => Error | undefined) {
  const sent: UpdateRequest[] = [];
  return {
    sent,
    async update(_server: DnsEndpoint, _key: SecretKey, request: UpdateRequest): Promise<void> {
      sent.push(request);
      const error = answer(request);
      if (error !== undefined) throw error;
    },
  };
}

const server = { address: '127.0.0.1', port: 53 };
const refused = () => new PermanentError('REFUSED', 'answered REFUSED');
const thousand = Array.from({ length: 1000 }, (_, i) => create(`h${i}.example.com`, '192.0.2.1'));
const plan = (changes: Change[]) => ({ zone, changes, skipped: [] });
const addsNothing = (request: UpdateRequest) => request.updates.every((u) => u.kind !== 'add');

describe('applyPlan with a key the server may refuse', () => {
  it('stops after two messages with KeyRefusedError when even a change that changes nothing is refused', async () => {
    const sender = scriptedSender(refused);
    const error = await applyPlan(sender, server, key, plan(thousand)).catch((e: unknown) => e);
    assert.ok(error instanceof KeyRefusedError, String(error));
    assert.equal(error.operation, 'update');
    assert.match(error.message, /changes nothing .*policy does not let this key update/);
    assert.equal(sender.sent.length, 2);
    assert.ok(addsNothing(sender.sent[1]!), 'the second message is the no-op');
  });

  it('still bisects to the one refused RRset when the no-op is accepted, and asks only once', async () => {
    const bad = create('mx.example.com', '192.0.2.99');
    const sender = scriptedSender((request) =>
      request.updates.some((u) => u.kind === 'add' && u.rrset.name === bad.after?.name)
        ? refused()
        : undefined,
    );
    const changes = [...thousand.slice(0, 9), bad];
    const result = await applyPlan(sender, server, key, plan(changes));
    assert.deepEqual(
      result.rejected.map((r) => r.change.after?.name),
      ['mx.example.com'],
    );
    assert.equal(result.applied.length, 9);
    assert.equal(sender.sent.filter(addsNothing).length, 1);
    assert.equal(result.messages, sender.sent.length);
  });

  it('sends a key error that is not about one RRset as it came, after one message', async () => {
    const sender = scriptedSender(() => new KeyRefusedError('update', 'unsigned REFUSED'));
    const error = await applyPlan(sender, server, key, plan(thousand)).catch((e: unknown) => e);
    assert.ok(error instanceof KeyRefusedError);
    assert.equal(sender.sent.length, 1);
  });
});

describe('noOpRequestFor', () => {
  const www: RRset = {
    name: 'www.example.com',
    type: 'A',
    ttl: 60,
    rdata: [{ address: '192.0.2.1' }],
  };

  it('deletes the RRset a create expects absent, under the same prerequisite', () => {
    const request = noOpRequestFor(zone, { action: 'create', after: www });
    assert.deepEqual(request.prerequisites, [{ kind: 'rrsetAbsent', name: www.name, type: 'A' }]);
    assert.deepEqual(request.updates, [{ kind: 'deleteRRset', name: www.name, type: 'A' }]);
  });

  it('adds again exactly the records an update or a delete expects present', () => {
    for (const change of [
      { action: 'update' as const, before: www, after: { ...www, ttl: 300 } },
      { action: 'delete' as const, before: www },
    ]) {
      const request = noOpRequestFor(zone, change);
      assert.deepEqual(request.prerequisites, [{ kind: 'rrsetEquals', rrset: www }]);
      assert.deepEqual(request.updates, [{ kind: 'add', rrset: www }]);
    }
  });
});

describe('applyPlan with one RRset the server cannot take', () => {
  const servfail = () => new TransientError('SERVFAIL', 'answered SERVFAIL');
  const many = create('many.example.com', ...Array.from({ length: 101 }, (_, i) => `192.0.2.${i}`));
  const adds = (request: UpdateRequest, name: string) =>
    request.updates.some((u) => u.kind === 'add' && u.rrset.name === name);

  it('isolates the RRset a healthy server answers SERVFAIL for, applies the rest, and calls it TooLarge past 100 records', async () => {
    const sender = scriptedSender((request) =>
      adds(request, 'many.example.com') ? servfail() : undefined,
    );
    const result = await applyPlan(sender, server, key, plan([...thousand.slice(0, 9), many]));
    assert.equal(result.applied.length, 9);
    assert.equal(result.rejected.length, 1);
    const [rejected] = result.rejected;
    assert.equal(rejected?.change.after?.name, 'many.example.com');
    assert.equal(rejected?.error.code, 'TOO_LARGE');
    assert.equal(rejected?.error.disposition, 'permanent');
    assert.match(rejected?.error.message ?? '', /101 records.*max-records-per-type/);
    assert.ok(sender.sent.length <= 10, `${sender.sent.length} messages`);
  });

  it('asks a no-op first when nothing else was accepted, and throws the SERVFAIL of a server failing everything after two messages', async () => {
    const sender = scriptedSender(servfail);
    const error = await applyPlan(sender, server, key, plan(thousand)).catch((e: unknown) => e);
    assert.ok(error instanceof TransientError && error.code === 'SERVFAIL', String(error));
    assert.equal(sender.sent.length, 2);
  });

  it('rejects a change no DNS message can carry without sending it, and sends the others', async () => {
    const huge: Change = {
      action: 'create',
      after: {
        name: 'txt.example.com',
        type: 'TXT',
        ttl: 60,
        rdata: Array.from({ length: 5 }, () => ({
          strings: Array.from({ length: 60 }, () => 'y'.repeat(240)),
        })),
      },
    };
    const small = create('txt.example.com', '192.0.2.1');
    const sender = scriptedSender(() => undefined);
    const result = await applyPlan(
      sender,
      server,
      key,
      plan([huge, small, ...thousand.slice(0, 3)]),
      {
        measure: estimateUpdateSize,
      },
    );
    assert.deepEqual(
      result.rejected.map((r) => [r.change.after?.type, r.error.code]),
      [['TXT', 'TOO_LARGE']],
    );
    assert.match(result.rejected[0]?.error.message ?? '', /more than any DNS message can carry/);
    assert.equal(result.applied.length, 4, 'the A at the same name and the others');
    assert.ok(
      sender.sent.every(
        (r) =>
          !adds(r, 'txt.example.com') ||
          r.updates.every((u) => u.kind !== 'add' || u.rrset.type !== 'TXT'),
      ),
    );
  });
});
