import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.ts';
import { parseConfig, parseDuration } from './config.ts';

describe('parseConfig', () => {
  it('gives a 5 minute resync, 4 workers and no leader election by default', () => {
    const c = parseConfig([], {});
    assert.equal(c.resyncMs, 300_000);
    assert.equal(c.concurrency, 4);
    assert.equal(c.leaderElect, false);
    assert.deepEqual(c.namespaces, []);
    assert.equal(c.metricsAddress, '0.0.0.0:8080');
  });

  it('reads the flags the shipped Deployment passes', () => {
    const c = parseConfig(
      ['--leader-elect', '--leader-election-namespace=ctl', '--metrics-address=0.0.0.0:9090'],
      { POD_NAME: 'pod-1' },
    );
    assert.equal(c.leaderElect, true);
    assert.equal(c.leaderElectionNamespace, 'ctl');
    assert.equal(c.metricsAddress, '0.0.0.0:9090');
    assert.equal(c.identity, 'pod-1');
  });

  it('prefers flags over environment and splits namespace lists', () => {
    const env = { BIND9_CONTROLLER_NAMESPACES: 'a,b', BIND9_CONTROLLER_RESYNC: '1m' };
    assert.deepEqual(parseConfig([], env).namespaces, ['a', 'b']);
    assert.equal(parseConfig([], env).resyncMs, 60_000);
    const c = parseConfig(['--namespace', 'x,y', '--namespace', 'z', '--resync', '30s'], env);
    assert.deepEqual(c.namespaces, ['x', 'y', 'z']);
    assert.equal(c.resyncMs, 30_000);
  });

  it('generates records from no source unless asked, and expands gateway to its two route kinds', () => {
    assert.deepEqual(parseConfig([], {}).sources, []);
    assert.equal(parseConfig([], {}).externalDnsAnnotations, false);
    const c = parseConfig(['--sources', 'gateway,service', '--sources=gateway-tlsroute'], {});
    assert.deepEqual(c.sources, ['Service', 'HTTPRoute', 'GRPCRoute', 'TLSRoute']);
    const env = {
      BIND9_CONTROLLER_SOURCES: 'ingress',
      BIND9_CONTROLLER_EXTERNAL_DNS_ANNOTATIONS: 'true',
    };
    assert.deepEqual(parseConfig([], env).sources, ['Ingress']);
    assert.equal(parseConfig([], env).externalDnsAnnotations, true);
    assert.throws(() => parseConfig(['--sources', 'service,pods'], {}), /unknown source "pods"/);
  });

  it('refuses bad numbers and durations and unknown flags', () => {
    assert.throws(() => parseConfig(['--concurrency', '0'], {}), ValidationError);
    assert.throws(() => parseConfig(['--resync', 'soon'], {}), ValidationError);
    assert.throws(() => parseConfig(['--bogus'], {}));
  });
});

describe('parseDuration', () => {
  it('understands ms, s, m, h and bare milliseconds', () => {
    assert.equal(parseDuration('250ms', 'd'), 250);
    assert.equal(parseDuration('1.5s', 'd'), 1500);
    assert.equal(parseDuration('2m', 'd'), 120_000);
    assert.equal(parseDuration('1h', 'd'), 3_600_000);
    assert.equal(parseDuration('42', 'd'), 42);
  });
});
