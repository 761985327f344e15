/**
 * Leader election hands over at once (issue #13's failover: "the other replica takes the
 * Lease"): a waiting candidate watches the Lease on the real API server, so when the holder
 * releases it (its pod deleted, a rolling update) the candidate takes it without waiting
 * for its next retry, before a freshly started process could. The candidates here retry
 * only every 60 s: a handover within the test's wait is the watch's doing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../src/kube/clock.ts';
import { LeaderElector } from '../../src/kube/lease.ts';
import { RestKube } from '../../src/kube/rest-kube.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';
import { waitFor } from './controller-helpers.ts';

describe('a waiting candidate and a released Lease', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let kube: RestKube;
  let namespace: string;

  before(async () => {
    cluster = await useCluster();
    kube = await RestKube.connect({ kubeconfig: cluster.kubeconfigPath });
    namespace = await cluster.createNamespace('lease');
  });
  after(async () => {
    kube?.close();
    await cluster?.stop();
  });

  function candidate(identity: string) {
    return new LeaderElector({
      kube,
      namespace,
      name: 'handover',
      identity,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      retryPeriodMs: 60_000,
    });
  }

  it('takes the Lease the moment its holder releases it, without waiting for its retry', async () => {
    const first = candidate('first');
    await first.acquire();
    assert.ok(first.leading);
    const second = candidate('second');
    let secondLeads = false;
    const acquired = second.acquire().then(() => {
      secondLeads = second.leading;
    });
    // The second has asked once and waits (its next try is a minute away).
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(secondLeads, false);
    const releasedAt = Date.now();
    await first.release();
    await waitFor(
      'the second candidate to lead',
      async () => (secondLeads ? true : undefined),
      30_000,
    );
    const tookMs = Date.now() - releasedAt;
    assert.ok(tookMs < 30_000, `took ${tookMs} ms`);
    const lease = await kube.readLease(namespace, 'handover');
    assert.equal(
      (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity,
      'second',
    );
    await acquired;
    await second.release();
  });
});
