import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sumCounter } from './controller-process.ts';

describe('reading the controller /metrics', () => {
  const text = [
    '# HELP bind9_controller_dns_updates_total RFC 2136 UPDATE messages sent.',
    '# TYPE bind9_controller_dns_updates_total counter',
    'bind9_controller_dns_updates_total{instance="ns/a",rcode="NOERROR"} 12',
    'bind9_controller_dns_updates_total{instance="ns/a",rcode="REFUSED"} 3',
    'bind9_controller_dns_updates_totalx 100',
    'nodejs_heap_size_used_bytes 2048',
  ].join('\n');

  it('sums every label set of a counter and nothing that merely starts with its name', () => {
    assert.equal(sumCounter(text, 'bind9_controller_dns_updates_total'), 15);
  });

  it('reads an unlabelled gauge, and 0 for a metric that is absent', () => {
    assert.equal(sumCounter(text, 'nodejs_heap_size_used_bytes'), 2048);
    assert.equal(sumCounter(text, 'bind9_controller_reconciles_total'), 0);
  });
});
