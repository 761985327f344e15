import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bind9Instance } from '../api/kinds.ts';
import { TransientError, TsigBadSigError } from '../errors.ts';
import type { DesiredState } from './desired.ts';
import { recordReady } from './zone-status.ts';

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
