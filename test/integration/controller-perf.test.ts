/**
 * Work the controller does per change (issue #9, bench/RESULTS.md "Propagation latency"),
 * counted by its own metrics against a real kube-apiserver and a real named: the status it
 * writes comes back as a watch event, and that event must not wake the zone again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Controller } from '../../src/controller/controller.ts';
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

/** Sum of a counter's values whose labels include `labels`. */
async function counter(
  controller: Controller,
  name: string,
  labels: Readonly<Record<string, string>>,
): Promise<number> {
  const metric = controller.metrics.registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

const zoneReconciles = (c: Controller) =>
  counter(c, 'bind9_controller_reconciles_total', { kind: 'zone' });
const recordEvents = (c: Controller, action?: string) =>
  counter(c, 'bind9_controller_watch_events_total', {
    kind: 'ARecord',
    ...(action === undefined ? {} : { action }),
  });

describe('controller work per change', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let admin: Admin;
  let named: NamedServer;
  let ctl: RunningController;

  before(async () => {
    const setup = await clusterWithRbac();
    cluster = setup.cluster;
    admin = new Admin(cluster, await cluster.createNamespace('perf'));
    named = await startNamed();
    await admin.instance('alpha', named, { site: 'a' });
    ctl = await startController(setup.user, admin.namespace);
    await admin.create('DNSZone', 'example', zoneSpec('perf.test', { matchLabels: { site: 'a' } }));
    await waitReady(admin, 'DNSZone', 'example');
  });

  after(async () => {
    if (process.env.CTRL_LOGS) console.error(ctl?.logs.join(''));
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  /** Waits until the controller has seen `events` ARecord events and has nothing left to run. */
  async function settled(events: number): Promise<void> {
    await waitFor(`${events} ARecord watch events`, async () =>
      (await recordEvents(ctl.controller)) >= events ? true : undefined,
    );
    await ctl.controller.queue.onIdle();
  }

  it('reconciles the zone once for a record update, skipping the status write it caused', async () => {
    const spec = { zone: 'example', name: 'www', ipv4Addresses: ['192.0.2.1'] };
    await admin.create('ARecord', 'www', spec);
    await waitReady(admin, 'ARecord', 'www');
    // The create's events: the add (the finalizer came with it, set at admission by
    // deploy/admission-policy.yaml) and our status (Ready and the RRset pointer).
    await settled(2);

    const reconciles = await zoneReconciles(ctl.controller);
    const events = await recordEvents(ctl.controller);
    const skipped = await recordEvents(ctl.controller, 'skipped');
    await admin.patchSpec('ARecord', 'www', { ...spec, ipv4Addresses: ['192.0.2.2'] });
    await waitFor('the new address served', async () =>
      (await dig(named, 'www.perf.test', 'A')).join() === '192.0.2.2' ? true : undefined,
    );
    await waitFor('Ready for the new generation', async () => {
      const r = await admin.get('ARecord', 'www');
      return r?.status?.observedGeneration === r?.metadata.generation ? true : undefined;
    });
    // The spec change, then the status write that observed it.
    await settled(events + 2);

    assert.equal((await zoneReconciles(ctl.controller)) - reconciles, 1);
    assert.equal(await recordEvents(ctl.controller, 'skipped'), skipped + 1);
  });

  it('asks named for the zone (rndc showzone) no more once it was ensured on the unchanged instance', async () => {
    // Counted in a log that has caught up with named: a showzone the controller sent could
    // otherwise still be in the pipe and look like one it did not send.
    const showzones = async () =>
      (await named.logCaughtUp()).match(/showzone perf\.test/g)?.length ?? 0;
    assert.ok((await showzones()) > 0, 'named logs the showzone commands it receives');
    // The health poll (every 3 s) must first see the zone count the zone's creation made;
    // until then each reconcile asks again. Bounded: 100 changes (waitFor paces them).
    let address = 10;
    await waitFor(
      'a record change reconciled without a showzone',
      async () => {
        const before = await showzones();
        const ip = `192.0.2.${address++}`;
        const spec = { zone: 'example', name: 'www', ipv4Addresses: [ip] };
        await admin.patchSpec('ARecord', 'www', spec);
        await waitFor('served', async () =>
          (await dig(named, 'www.perf.test', 'A')).join() === ip ? true : undefined,
        );
        await ctl.controller.queue.onIdle();
        if (address > 110) throw new Error('every change still asked named');
        return (await showzones()) === before ? true : undefined;
      },
      60_000,
    );
  });

  it('still reconciles when a record is renamed, and removes the old name', async () => {
    await admin.patchSpec('ARecord', 'www', {
      zone: 'example',
      name: 'web',
      ipv4Addresses: ['192.0.2.2'],
    });
    await waitFor('the new name served and the old one gone', async () => {
      const [now, old] = await Promise.all([
        dig(named, 'web.perf.test', 'A'),
        dig(named, 'www.perf.test', 'A'),
      ]);
      return now.join() === '192.0.2.2' && old.length === 0 ? true : undefined;
    });
    await waitFor('the status pointer moved to the new name', async () => {
      const r = (await admin.get('ARecord', 'www')) as { status?: { fqdn?: string } } | undefined;
      return r?.status?.fqdn === 'web.perf.test.' ? true : undefined;
    });
  });
});
