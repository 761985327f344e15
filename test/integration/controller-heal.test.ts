/**
 * Self-healing when the health poll cannot see the loss (bench/RESULTS.md, self-healing
 * gap): a named wiped and restarted after the controller's baseline reading and long before
 * its next poll. One zone's reconcile finds its zone gone and has to create it again; the
 * controller takes that as data loss on the instance and restores every zone at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  dig,
  type RunningController,
  startController,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

const ZONES = 4;
const PER_ZONE = 5;

const zoneName = (z: number) => `heal${z}.test`;
const address = (z: number, r: number) => `192.0.2.${z * 10 + r + 1}`;

/** Zones and hosts named does not answer as declared right now. */
async function missing(named: NamedServer): Promise<string[]> {
  const out: string[] = [];
  for (let z = 0; z < ZONES; z++) {
    for (let r = 0; r < PER_ZONE; r++) {
      const host = `h${r}.${zoneName(z)}`;
      if ((await dig(named, host, 'A')).join() !== address(z, r)) out.push(host);
    }
  }
  return out;
}

describe('controller heals a named wiped before its next health poll', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let named: NamedServer;
  let admin: Admin;
  let ctl: RunningController | undefined;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    named = await startNamed();
    admin = new Admin(cluster, await cluster.createNamespace('heal'));
    await admin.instance('delta', named, { role: 'primary' });
    for (let z = 0; z < ZONES; z++) {
      await admin.create('DNSZone', `heal${z}`, zoneSpec(zoneName(z), {}));
      for (let r = 0; r < PER_ZONE; r++) {
        await admin.create('ARecord', `heal${z}-h${r}`, {
          zone: `heal${z}`,
          name: `h${r}`,
          ipv4Addresses: [address(z, r)],
        });
      }
    }
  });

  after(async () => {
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  it('takes its first reading of an instance at start, not one poll period later', async () => {
    // A poll period far beyond the test: only the start-up reading can set the gauge (the
    // wait below stops well before the first periodic poll could).
    ctl = await startController(user, admin.namespace, ['--health-poll', '60s']);
    const id = `${admin.namespace}/delta`;
    await waitFor(
      'the instance-up gauge for delta',
      async () => {
        const metric = await ctl!.controller.metrics.instancesUp.get();
        return metric.values.some((v) => v.labels.instance === id && v.value === 1)
          ? true
          : undefined;
      },
      45_000,
    );
  });

  it('restores every zone and record after a wipe once one zone finds its zone gone', async (t) => {
    for (let z = 0; z < ZONES; z++)
      await waitReady(admin, 'DNSZone', `heal${z}`, 'True', 'Synced', 60_000);
    await waitFor(
      'every record answered',
      async () => ((await missing(named)).length === 0 ? true : undefined),
      60_000,
    );
    const mark = ctl!.logs.length;
    await named.restart({ wipe: true });
    assert.equal((await dig(named, 'h0.heal0.test', 'A')).length, 0, 'the wipe took the data');
    // One change to one zone: nothing else wakes the others before the resync (5 min) or
    // the next poll (60 s).
    const wipedAt = Date.now();
    await admin.patchSpec('ARecord', 'heal0-h0', { ttl: 120 });
    const left = await waitFor(
      'every zone and record answered again',
      async () => ((await missing(named)).length === 0 ? true : undefined),
      30_000,
    ).catch(async () => missing(named));
    if (left !== true && process.env.HEAL_LOG) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(process.env.HEAL_LOG, ctl!.logs.slice(mark).join(''));
    }
    assert.equal(left, true, `still not answered: ${String(left)}`);
    t.diagnostic(
      `all ${ZONES * PER_ZONE} records answered ${Date.now() - wipedAt} ms after the edit`,
    );
    const loss = ctl!.logs
      .slice(mark)
      .map((l) => JSON.parse(l) as { msg: string; zones?: number })
      .filter((l) => l.msg.includes('data lost'));
    assert.equal(loss.length, 1, 'the loss is detected and acted on once');
    assert.equal(loss[0]?.zones, ZONES);
  });
});
