import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectorMatches } from './selector.ts';

const primary = { role: 'primary', site: 'a' };
const secondary = { role: 'secondary', site: 'b' };

describe('selectorMatches', () => {
  it('selects everything with an empty selector', () => {
    assert.ok(selectorMatches({}, primary));
    assert.ok(selectorMatches(undefined, undefined));
  });

  it('needs every matchLabels pair', () => {
    assert.ok(selectorMatches({ matchLabels: { role: 'primary' } }, primary));
    assert.ok(!selectorMatches({ matchLabels: { role: 'primary', site: 'b' } }, primary));
  });

  it('applies In, NotIn, Exists and DoesNotExist like Kubernetes', () => {
    const inA = {
      matchExpressions: [{ key: 'site', operator: 'In' as const, values: ['a', 'c'] }],
    };
    assert.ok(selectorMatches(inA, primary));
    assert.ok(!selectorMatches(inA, secondary));
    const notInA = {
      matchExpressions: [{ key: 'site', operator: 'NotIn' as const, values: ['a'] }],
    };
    assert.ok(!selectorMatches(notInA, primary));
    assert.ok(selectorMatches(notInA, secondary));
    assert.ok(selectorMatches(notInA, {}), 'NotIn holds when the label is absent');
    const exists = { matchExpressions: [{ key: 'site', operator: 'Exists' as const }] };
    assert.ok(selectorMatches(exists, primary));
    assert.ok(!selectorMatches(exists, {}));
    const absent = { matchExpressions: [{ key: 'site', operator: 'DoesNotExist' as const }] };
    assert.ok(!selectorMatches(absent, primary));
    assert.ok(selectorMatches(absent, {}));
  });

  it('needs matchLabels and every expression together', () => {
    const both = {
      matchLabels: { role: 'primary' },
      matchExpressions: [{ key: 'site', operator: 'In' as const, values: ['b'] }],
    };
    assert.ok(!selectorMatches(both, primary));
    assert.ok(!selectorMatches(both, secondary));
  });
});
