import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonEqual, kubeTime, setCondition } from './conditions.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

describe('setCondition', () => {
  it('stamps a new condition with the current time', () => {
    const list = setCondition(
      undefined,
      { type: 'Ready', status: 'True', reason: 'Ok', message: '' },
      T0,
    );
    assert.deepEqual(list, [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ok',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ]);
  });

  it('keeps the transition time when only the reason or message changes', () => {
    const a = setCondition(
      undefined,
      { type: 'Ready', status: 'False', reason: 'A', message: 'a' },
      T0,
    );
    const b = setCondition(
      a,
      { type: 'Ready', status: 'False', reason: 'B', message: 'b' },
      T0 + 60_000,
    );
    assert.equal(b[0]!.lastTransitionTime, kubeTime(T0));
    assert.equal(b[0]!.reason, 'B');
  });

  it('moves the transition time when the status flips', () => {
    const a = setCondition(
      undefined,
      { type: 'Ready', status: 'False', reason: 'A', message: '' },
      T0,
    );
    const b = setCondition(
      a,
      { type: 'Ready', status: 'True', reason: 'Ok', message: '' },
      T0 + 60_000,
    );
    assert.equal(b[0]!.lastTransitionTime, kubeTime(T0 + 60_000));
  });

  it('leaves other condition types alone', () => {
    const a = setCondition(
      undefined,
      { type: 'Other', status: 'True', reason: 'X', message: '' },
      T0,
    );
    const b = setCondition(
      a,
      { type: 'Ready', status: 'True', reason: 'Ok', message: '' },
      T0 + 1000,
    );
    assert.equal(b.length, 2);
    assert.deepEqual(b[0], a[0]);
  });
});

describe('jsonEqual', () => {
  it('ignores key order and undefined members but not array order', () => {
    assert.ok(jsonEqual({ a: 1, b: [1, 2], c: undefined }, { b: [1, 2], a: 1 }));
    assert.ok(!jsonEqual({ b: [2, 1] }, { b: [1, 2] }));
    assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: 0 }));
  });
});
