import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atMost, formatTable, met, percentile, summarize } from './report.ts';

describe('benchmark report', () => {
  it('takes nearest-rank percentiles, so p50 of 1..10 is 5 and p99 of 1..100 is 99', () => {
    const ten = Array.from({ length: 10 }, (_, i) => i + 1);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(ten, 50), 5);
    assert.equal(percentile(hundred, 99), 99);
    assert.equal(percentile(hundred, 100), 100);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('summarizes unsorted samples by sorting them first', () => {
    const s = summarize([30, 10, 20]);
    assert.deepEqual(s, { n: 3, p50: 20, p90: 30, p99: 30, max: 30 });
  });

  it('calls a figure above its maximum a miss, and one without a target neither', () => {
    const row = { scenario: 's', metric: 'm', unit: 'ms', target: atMost(20) };
    assert.equal(met({ ...row, value: 20 }), true);
    assert.equal(met({ ...row, value: 20.1 }), false);
    assert.equal(met({ scenario: 's', metric: 'm', unit: 'ms', value: 5 }), undefined);
    assert.equal(met({ ...row, value: Number.NaN }), undefined);
  });

  it('prints MISSED beside a missed target and keeps ratios at two decimals', () => {
    const text = formatTable([
      { scenario: 'x', metric: 'ratio', value: 1.004, unit: 'x', target: atMost(1) },
    ]);
    assert.match(text, /1\.00 x/);
    assert.match(text, /MISSED/);
  });
});
