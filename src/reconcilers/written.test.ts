import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DesiredRRset } from '../bind/plan.ts';
import { WrittenLedger } from './written.ts';

const Z = 'ns/zone';
const a = (name: string, owner: string): DesiredRRset => ({
  name,
  type: 'A',
  ttl: 300,
  rdata: [{ address: '192.0.2.1' }],
  owner,
});
const names = (rs: readonly DesiredRRset[]) => rs.map((r) => `${r.owner} ${r.name} ${r.type}`);

describe('WrittenLedger', () => {
  it('removes the RRset a record was given under its old name once it declares another', () => {
    const ledger = new WrittenLedger();
    const live = new Set(['A/ns/x']);
    ledger.intend(Z, [a('old.z.test', 'A/ns/x')], live);
    const now = [a('new.z.test', 'A/ns/x')];
    assert.deepEqual(names(ledger.stale(Z, now, live)), ['A/ns/x old.z.test A']);
  });

  it('removes everything of a record that is no longer live in the zone (moved, deleted, gone)', () => {
    const ledger = new WrittenLedger();
    ledger.intend(
      Z,
      [a('h.z.test', 'A/ns/x'), a('k.z.test', 'A/ns/y')],
      new Set(['A/ns/x', 'A/ns/y']),
    );
    const live = new Set(['A/ns/y']);
    assert.deepEqual(names(ledger.stale(Z, [a('k.z.test', 'A/ns/y')], live)), [
      'A/ns/x h.z.test A',
    ]);
  });

  it('keeps what a live record was given while it is refused (declares nothing now)', () => {
    const ledger = new WrittenLedger();
    const live = new Set(['A/ns/x']);
    ledger.intend(Z, [a('h.z.test', 'A/ns/x')], live);
    assert.deepEqual(ledger.stale(Z, [], live), []);
    assert.equal(ledger.holds(Z, 'A/ns/x'), true);
  });

  it('notes nothing for owners that are not live records (the zone owns its NS and glue)', () => {
    const ledger = new WrittenLedger();
    ledger.intend(Z, [a('ns1.z.test', 'DNSZone/ns/zone')], new Set());
    assert.equal(ledger.size, 0);
  });

  it('keeps old names until settled, then only what is declared now; forgets owners gone', () => {
    const ledger = new WrittenLedger();
    const live = new Set(['A/ns/x', 'A/ns/y']);
    ledger.intend(Z, [a('old.z.test', 'A/ns/x'), a('y.z.test', 'A/ns/y')], live);
    const now = [a('new.z.test', 'A/ns/x')];
    ledger.intend(Z, now, live);
    // Not settled (a primary failed): the old name is still removed by the next plan.
    assert.deepEqual(names(ledger.stale(Z, now, new Set(['A/ns/x']))), [
      'A/ns/x old.z.test A',
      'A/ns/y y.z.test A',
    ]);
    ledger.settle(Z, now, new Set(['A/ns/x']));
    assert.deepEqual(ledger.stale(Z, now, new Set(['A/ns/x'])), []);
    assert.equal(ledger.holds(Z, 'A/ns/y'), false);
    assert.equal(ledger.size, 1);
  });

  it('keeps zones apart, and forgetZone drops one zone only', () => {
    const ledger = new WrittenLedger();
    const live = new Set(['A/ns/x']);
    ledger.intend('ns/one', [a('h.one.test', 'A/ns/x')], live);
    ledger.intend('ns/two', [a('h.two.test', 'A/ns/x')], live);
    assert.deepEqual(ledger.stale('ns/two', [a('h.two.test', 'A/ns/x')], live), []);
    assert.deepEqual(names(ledger.stale('ns/one', [], new Set())), ['A/ns/x h.one.test A']);
    ledger.forgetZone('ns/one');
    assert.equal(ledger.holds('ns/one', 'A/ns/x'), false);
    assert.equal(ledger.holds('ns/two', 'A/ns/x'), true);
  });
});
