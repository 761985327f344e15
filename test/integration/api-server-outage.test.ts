/**
 * The API server killed for 20 s in the middle of a burst (issue #18): once it is back, the
 * zone is exactly what the resources declare — every record answered, nothing extra, every
 * record Ready — without anyone touching the controller. The delay from the API server's
 * return to that exact state is printed (the README and the issue's note quote it), not
 * asserted: tests never fail because the machine is slow.
 *
 * A control plane of its own (the kill would break every other test sharing one), a real
 * named, the controller in-process with deploy/'s RBAC; the burst's own creates are retried
 * by the test while the API server is gone, as a user's tooling would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DnsClient } from '../../src/dns/client.ts';
import type { Kube } from '../../src/kube/client.ts';
import { type Cluster, startCluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  type RunningController,
  startController,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

const RECORDS = 300;
const OUTAGE_MS = 20_000;

describe('the API server killed for 20 s mid-burst', { timeout: 900_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let ctl: RunningController;
  const dns = new DnsClient({ timeoutMs: 5_000 });

  before(async () => {
    ({ cluster, user } = await clusterWithRbac(await startCluster()));
    admin = new Admin(cluster, await cluster.createNamespace('outage'));
    named = await startNamed();
    await admin.instance('p', named, { outage: 'p' });
    await admin.create(
      'DNSZone',
      'burst',
      zoneSpec('burst.test', { matchLabels: { outage: 'p' } }),
    );
    ctl = await startController(user, admin.namespace);
    await waitReady(admin, 'DNSZone', 'burst');
  });

  after(async () => {
    if (process.env.CTRL_LOGS) console.error(ctl?.logs.join(''));
    await ctl?.stop();
    await dns.close();
    await named?.stop();
    await cluster?.stop();
  });

  /** Creates record i, retrying while the API server is gone (bounded: 10 minutes). */
  async function create(i: number): Promise<void> {
    const deadline = Date.now() + 600_000;
    for (;;) {
      try {
        await admin.create('ARecord', `r${i}`, {
          zone: 'burst',
          name: `r${i}`,
          ipv4Addresses: [address(i)],
        });
        return;
      } catch (error) {
        const body = String((error as { body?: unknown }).body ?? '');
        if (/AlreadyExists/.test(body)) return; // an earlier try was applied after all
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  const address = (i: number) => `10.${Math.floor(i / 250)}.${i % 250}.1`;

  /** True once the zone holds exactly the declared A RRsets, no more, no fewer. */
  async function exact(): Promise<true | undefined> {
    const rrsets = await dns.axfr(
      { address: named.address, port: named.dnsPort },
      named.tsigKey,
      'burst.test',
    );
    const served = rrsets
      .filter((r) => r.type === 'A' && /^r\d+\.burst\.test$/.test(r.name))
      .map((r) => `${r.name} ${(r.rdata as { address: string }[]).map((x) => x.address).join(',')}`)
      .sort();
    const want = Array.from({ length: RECORDS }, (_, i) => `r${i}.burst.test ${address(i)}`).sort();
    return served.join('\n') === want.join('\n') ? true : undefined;
  }

  it('ends exact, every record Ready, soon after the API server is back', async (t) => {
    assert.ok(cluster.restartApiServer !== undefined, 'a cluster of its own can be restarted');
    // Eight creators at once, as an apply of many manifests would send them.
    let next = 0;
    const creating = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < RECORDS) await create(next++);
      }),
    );
    await waitFor('a third of the burst created', async () =>
      (await admin.get('ARecord', `r${RECORDS / 3}`)) !== undefined ? true : undefined,
    );
    const { downAt, readyAt } = await cluster.restartApiServer(OUTAGE_MS);
    await creating;
    const createdAt = Date.now();
    await waitFor('the zone exactly as declared', exact, 300_000);
    const exactAt = Date.now();
    for (let i = 0; i < RECORDS; i++)
      await waitReady(admin, 'ARecord', `r${i}`, 'True', undefined, 300_000);
    const readyAllAt = Date.now();
    t.diagnostic(
      `API server down ${((readyAt - downAt) / 1000).toFixed(1)} s (killed, ${OUTAGE_MS / 1000} s, restart); ` +
        `burst done ${((createdAt - readyAt) / 1000).toFixed(1)} s after its return; ` +
        `zone exact ${((exactAt - readyAt) / 1000).toFixed(1)} s and all ${RECORDS} Ready ${((readyAllAt - readyAt) / 1000).toFixed(1)} s after its return ` +
        `(${((exactAt - createdAt) / 1000).toFixed(1)} s and ${((readyAllAt - createdAt) / 1000).toFixed(1)} s after the last create)`,
    );
    // The outage is the API server's: nothing of it is blamed on the BIND9 instance.
    assert.doesNotMatch(ctl.logs.join(''), /InstanceUnreachable/);
    // A restarted API server answers 429 "storage is (re)initializing" with Retry-After: 1
    // for its first seconds; no informer may sleep longer than that asks (the delays the
    // controller chose, from its log: a choice, not a timing). Before, one slept 26 s.
    const waits = ctl.logs
      .map((line) => JSON.parse(line) as { msg?: string; err?: string; retryInMs?: number })
      .filter((l) => l.msg === 'watch failed; restarting' && /HTTP 429/.test(l.err ?? ''))
      .map((l) => l.retryInMs ?? 0);
    t.diagnostic(`waits after a 429: ${waits.join(', ') || 'none'} ms`);
    assert.ok(
      waits.every((ms) => ms <= 2_000),
      `an informer waited ${Math.max(...waits)} ms after a 429`,
    );
  });
});
