/**
 * The controller repairs and protects (issue #6, Must show): hand edits are put back on
 * resync, unmanaged RRsets are left alone unless the zone prunes, a wrong TSIG secret is
 * reported without leaking it, and a controller killed mid-burst ends exact.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { formatKeyFile, SecretKey } from '../../src/dns/keyfile.ts';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  dig,
  nsupdate,
  type RunningController,
  spawnControllerChild,
  startController,
  stopChild,
  waitExactA,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

/** The fields of the controller's pino lines these tests read. */
interface LogLine {
  msg: string;
  time: number;
  key?: string;
  cause?: string;
  name?: string;
}

describe('controller repairs drift and keeps secrets', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let kubeconfigPath: string;
  let named: NamedServer;
  let admin: Admin;
  let ctl: RunningController | undefined;

  before(async () => {
    ({ cluster, user, kubeconfigPath } = await clusterWithRbac());
    named = await startNamed();
    admin = new Admin(cluster, await cluster.createNamespace('drift'));
    await admin.instance('gamma', named, { role: 'primary' });
    // A short resync so "the next resync" comes within the test.
    ctl = await startController(user, admin.namespace, ['--resync', '2s']);
  });

  after(async () => {
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  it('puts a record edited with nsupdate back on the next resync, with no Kubernetes event to trigger it', async (t) => {
    await admin.create('DNSZone', 'drift', zoneSpec('drift.test', {}));
    await admin.create('ARecord', 'api', {
      zone: 'drift',
      name: 'api',
      ipv4Addresses: ['192.0.2.1'],
    });
    await waitReady(admin, 'ARecord', 'api');
    const key = `zone/${admin.namespace}/drift`;
    const runsOf = (from: number) =>
      ctl!.logs
        .slice(from)
        .map((l) => JSON.parse(l) as LogLine)
        .filter((l) => l.key === key && (l.msg === 'reconciled' || l.msg === 'reconcile failed'));
    // Quiet first: two runs in a row started by the resync timer mean the status writes
    // that followed Ready have been seen and nothing else is coming.
    const settled = ctl!.logs.length;
    await waitFor('two resync runs in a row', async () =>
      runsOf(settled)
        .slice(-2)
        .filter((r) => r.cause === 'resync').length === 2
        ? true
        : undefined,
    );
    const mark = ctl!.logs.length;
    const editedAt = Date.now();
    await nsupdate(
      named,
      'zone drift.test\nupdate delete api.drift.test A\nupdate add api.drift.test 300 A 203.0.113.66',
    );
    // nsupdate exits non-zero unless named applied the edit; the controller may already
    // have put it back by the time dig would look, so there is no read here.
    await waitFor('the declared data back', async () =>
      (await dig(named, 'api.drift.test', 'A')).join() === '192.0.2.1' ? true : undefined,
    );
    const repairedMs = Date.now() - editedAt;
    // dig can see the repair before the run that made it has logged its end (the status
    // writes come after the UPDATE), so wait for that line rather than race it.
    const logged = () => ctl!.logs.slice(mark).map((l) => JSON.parse(l) as LogLine);
    const isRepair = (l: LogLine) => l.msg === 'rrset changed' && l.name === 'api.drift.test';
    const isRunEnd = (l: LogLine) =>
      l.key === key && (l.msg === 'reconciled' || l.msg === 'reconcile failed');
    await waitFor('the repairing run to log its end', async () => {
      const lines = logged();
      const at = lines.findIndex(isRepair);
      return at >= 0 && lines.slice(at).some(isRunEnd) ? true : undefined;
    });
    const after = logged();
    const fix = after.findIndex(isRepair);
    assert.ok(fix >= 0, 'the repair is logged');
    const repairRun = after.slice(fix).find(isRunEnd);
    assert.equal(repairRun?.cause, 'resync', 'the run that put the record back was the resync');
    const eventRuns = after
      .slice(0, fix)
      .filter((l) => l.key === key && l.cause === 'event' && l.msg !== 'rrset changed');
    assert.deepEqual(eventRuns, [], 'no run started by an event came between edit and repair');
    t.diagnostic(`hand edit put back ${repairedMs} ms after nsupdate, with --resync 2s`);
  });

  it('leaves an RRset no resource declares alone, and removes it once the zone prunes', async () => {
    await nsupdate(named, 'zone drift.test\nupdate add manual.drift.test 300 TXT "by hand"');
    // Two more resyncs of the zone after the hand edit, counted by the reconcile metric.
    const count = async () => {
      const metric = await ctl!.controller.metrics.reconciles.get();
      return metric.values.filter((v) => v.labels.kind === 'zone').reduce((n, v) => n + v.value, 0);
    };
    const start = await count();
    await waitFor('two resyncs', async () => ((await count()) >= start + 2 ? true : undefined));
    assert.deepEqual(await dig(named, 'manual.drift.test', 'TXT'), ['"by hand"']);
    await admin.patchSpec('DNSZone', 'drift', { prune: true });
    await waitFor('the unmanaged RRset to be pruned', async () =>
      (await dig(named, 'manual.drift.test', 'TXT')).length === 0 ? true : undefined,
    );
    assert.deepEqual(await dig(named, 'api.drift.test', 'A'), ['192.0.2.1']);
    assert.deepEqual(
      await dig(named, 'drift.test', 'NS'),
      ['ns1.drift.test.'],
      'apex NS is never pruned',
    );
  });

  it('reports TsigBadSig for a wrong TSIG secret without the secret showing anywhere', async () => {
    const wrong = new SecretKey(named.tsigKey.name, named.tsigKey.algorithm, randomBytes(32));
    const secretText = wrong.secret.toString('base64');
    await admin.replaceSecret('gamma-tsig', formatKeyFile(wrong));
    await admin.create('ARecord', 'mail', {
      zone: 'drift',
      name: 'mail',
      ipv4Addresses: ['192.0.2.25'],
    });
    await waitReady(admin, 'ARecord', 'mail', 'False', 'TsigBadSig', 90_000);
    await waitReady(admin, 'Bind9Instance', 'gamma', 'False', 'TsigBadSig', 90_000);
    // The Event is written after the status that says TsigBadSig (src/reconcilers/context.ts
    // writeReady): seeing the status does not mean the Event is there yet.
    const events = await waitFor('the TsigBadSig Event of ARecord/mail', async () => {
      const all = await admin.events();
      return all.some((e) => e.startsWith('ARecord/mail Warning TsigBadSig')) ? all : undefined;
    });
    const everything = [
      ...ctl!.logs,
      ...events,
      JSON.stringify(await admin.get('ARecord', 'mail')),
      JSON.stringify(await admin.get('Bind9Instance', 'gamma')),
      JSON.stringify(await admin.get('DNSZone', 'drift')),
    ].join('\n');
    assert.ok(!everything.includes(secretText), 'the wrong secret leaked');
    assert.ok(
      !everything.includes(named.tsigKey.secret.toString('base64')),
      'the right secret leaked',
    );
    // Fixing the Secret is enough: the rejected key is re-read.
    await admin.replaceSecret('gamma-tsig', formatKeyFile(named.tsigKey));
    await waitReady(admin, 'ARecord', 'mail', 'True', undefined, 90_000);
    assert.deepEqual(await dig(named, 'mail.drift.test', 'A'), ['192.0.2.25']);
  });

  it('reports TsigBadKey for a key named differently from the one named knows, and recovers', async () => {
    const stranger = new SecretKey('stranger-key', 'hmac-sha256', randomBytes(32));
    await admin.replaceSecret('gamma-tsig', formatKeyFile(stranger));
    await waitReady(admin, 'Bind9Instance', 'gamma', 'False', 'TsigBadKey', 90_000);
    await admin.replaceSecret('gamma-tsig', formatKeyFile(named.tsigKey));
    await waitReady(admin, 'Bind9Instance', 'gamma', 'True', undefined, 90_000);
  });

  it('ends exact after being killed in the middle of a burst of hundreds of records', async (t) => {
    await ctl?.stop();
    ctl = undefined;
    await admin.create('DNSZone', 'burst', zoneSpec('burst.test', {}));
    const spawnChild = (): ChildProcess =>
      spawnControllerChild(kubeconfigPath, ['--namespace', admin.namespace]);
    let child = spawnChild();
    // Whichever child runs when the test ends goes, failed assertion or not: a live child
    // would keep this file from ending.
    t.after(() => stopChild(child));
    const total = 300;
    const ip = (i: number) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const create = async (from: number, to: number) => {
      for (let i = from; i < to; i += 25) {
        await Promise.all(
          Array.from({ length: Math.min(25, to - i) }, (_, k) =>
            admin.create('ARecord', `h${i + k}`, {
              zone: 'burst',
              name: `h${i + k}`,
              ipv4Addresses: [ip(i + k)],
            }),
          ),
        );
      }
    };
    await create(0, 150);
    // Killed while it works through the burst: no chance to finish anything.
    await waitFor('some records on named', async () =>
      (await dig(named, 'h0.burst.test', 'A')).length > 0 ? true : undefined,
    );
    await stopChild(child, 'SIGKILL');
    await create(150, total);
    const deleted = Array.from({ length: 30 }, (_, k) => k * 5);
    await Promise.all(deleted.map((i) => admin.remove('ARecord', `h${i}`)));
    child = spawnChild();
    const restarted = Date.now();
    try {
      const expected = new Map<string, string>();
      for (let i = 0; i < total; i++)
        if (!deleted.includes(i)) expected.set(`h${i}.burst.test`, ip(i));
      await waitExactA(named, 'burst.test', /^h/, expected, 120_000);
      t.diagnostic(
        `exact ${Date.now() - restarted} ms after the restart (${expected.size} records)`,
      );
      await waitFor('deleted resources to be released', async () => {
        for (const i of deleted)
          if ((await admin.get('ARecord', `h${i}`)) !== undefined) return undefined;
        return true;
      });
    } finally {
      await stopChild(child);
    }
  });
});
