import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { controllerRequests, countsDelta } from './apiserver.ts';

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
    const { total, text } = countsDelta(before, after);
    assert.deepEqual(
      { total, text },
      { total: 70, text: 'POST arecords: 30, PATCH arecords: 20, PATCH arecords/status: 20' },
    );
  });
});

describe('requests made by the controller', () => {
  it('are the counts less the scenario’s own requests, without watches and lists', () => {
    const counted = new Map([
      ['POST arecords', 1000],
      ['PATCH arecords/status', 1000],
      ['PATCH dnszones/status', 12],
      ['WATCH arecords', 3],
      ['LIST arecords', 2],
      ['POST events', 1],
    ]);
    const own = new Map([['POST arecords', 1000]]);
    const { total, text } = controllerRequests(counted, own);
    assert.equal(total, 1013);
    assert.equal(text, 'PATCH arecords/status: 1000, PATCH dnszones/status: 12, POST events: 1');
  });
});
