import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countsDelta } from './apiserver.ts';

describe('API server request counts', () => {
  it('reports only what grew, largest first, with the total', () => {
    const before = new Map([
      ['PATCH arecords', 5],
      ['POST arecords', 10],
      ['WATCH arecords', 2],
    ]);
    const after = new Map([
      ['PATCH arecords', 25],
      ['POST arecords', 40],
      ['WATCH arecords', 2],
      ['PATCH arecords/status', 20],
    ]);
    assert.deepEqual(countsDelta(before, after), {
      total: 70,
      text: 'POST arecords: 30, PATCH arecords: 20, PATCH arecords/status: 20',
    });
  });
});
