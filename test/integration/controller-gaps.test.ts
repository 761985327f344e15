/**
 * Gaps left by the first controller round (issue #6's report), each against a real
 * kube-apiserver and real named servers: a secondary fed from a primary on another port,
 * configMap delivery with the base file on a read-only mount, the semantic rules only the
 * controller checks, two DNSZones for one zone name, and renamed records.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  dig,
  type ObjectWithStatus,
  type RunningController,
  startController,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

const run = promisify(execFile);
const PRIMARY = { matchLabels: { role: 'primary' } };

/** A record's status as this round writes it. */
interface WrittenStatus {
  fqdn?: string;
  recordType?: string;
  zone?: string;
}

async function written(admin: Admin, name: string): Promise<WrittenStatus> {
  return ((await admin.get('ARecord', name))?.status ?? {}) as WrittenStatus;
}

/** Waits until the wall clock is in a later second than `obj` was created (creation order). */
async function laterThan(admin: Admin, kind: string, name: string): Promise<void> {
  const created = (await admin.get(kind, name)) as { metadata: { creationTimestamp?: string } };
  const at = Date.parse(created.metadata.creationTimestamp ?? '');
  await waitFor('a later second', async () => (Date.now() >= at + 1000 ? true : undefined));
}

describe('controller gaps: secondaries, read-only base files, validation, duplicates, renames', {
  timeout: 600_000,
}, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let admin2: Admin;
  let primary: NamedServer;
  let secondary: NamedServer;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('gaps'));
    admin2 = new Admin(cluster, await cluster.createNamespace('gaps-other'));
    primary = await startNamed();
    // One TSIG key for both: the controller's key also signs the transfers.
    secondary = await startNamed({ tsigKey: primary.tsigKey });
    await admin.instance('prim', primary, { role: 'primary', serves: 'sec' });
    await admin2.instance('prim2', primary, { role: 'primary' });
    await admin.keySecret('second-tsig', secondary.tsigKey);
    await admin.keySecret('second-rndc', secondary.rndcKey);
    await admin.create(
      'Bind9Instance',
      'second',
      {
        role: 'secondary',
        dns: { address: secondary.address, port: secondary.dnsPort },
        rndc: {
          address: secondary.address,
          port: secondary.rndcPort,
          keySecretRef: { name: 'second-rndc' },
        },
        tsigKeySecretRef: { name: 'second-tsig' },
        primaries: [primary.address],
        primariesPort: primary.dnsPort,
      },
      { role: 'secondary', serves: 'sec' },
    );
    ctl = await startController(user, admin.namespace, ['--namespace', admin2.namespace]);
  });

  after(async () => {
    if (process.env.CTRL_LOGS) console.error(ctl?.logs.join(''));
    await ctl?.stop();
    await Promise.all([primary?.stop(), secondary?.stop()]);
    await cluster?.stop();
  });

  it('serves a zone from a secondary that transfers from a primary on another port, and follows each change', async () => {
    await admin.create('DNSZone', 'sec', zoneSpec('sec.test', { matchLabels: { serves: 'sec' } }));
    await admin.create('ARecord', 'www', {
      zone: 'sec',
      name: 'www',
      ipv4Addresses: ['192.0.2.10'],
    });
    await waitReady(admin, 'DNSZone', 'sec');
    await waitReady(admin, 'ARecord', 'www');
    await waitFor('the secondary to serve the record', async () =>
      (await dig(secondary, 'www.sec.test', 'A')).join() === '192.0.2.10' ? true : undefined,
    );
    // named here sends no NOTIFY (notify no): the controller has to make the secondary catch up.
    await admin.patchSpec('ARecord', 'www', { ipv4Addresses: ['192.0.2.11'] });
    await waitFor('the secondary to serve the change', async () =>
      (await dig(secondary, 'www.sec.test', 'A')).join() === '192.0.2.11' ? true : undefined,
    );
    // The zone's status is written by its own runs, which may still be catching up with
    // the secondary the answer above already shows.
    const present = (zone: ObjectWithStatus | undefined) =>
      JSON.stringify(zone?.status?.instances?.map((i) => [i.name, i.present]).sort());
    const want = JSON.stringify([
      ['prim', true],
      ['second', true],
    ]);
    const zone = await waitFor('the DNSZone status to list both instances', async () => {
      const got = await admin.get('DNSZone', 'sec');
      return present(got) === want ? got : undefined;
    }).catch(() => admin.get('DNSZone', 'sec'));
    assert.equal(present(zone), want);
  });

  it('keeps the journal of a configMap-delivered zone out of the read-only mount, so UPDATEs succeed', async (t) => {
    // The kubelet's part, played here: the ConfigMap's keys are copied into a directory that
    // named sees only through a read-only bind mount, as a ConfigMap volume is.
    const source = join(primary.dir, 'cm-source');
    const mount = join(primary.dir, 'cm-mount');
    await mkdir(source, { recursive: true });
    await mkdir(mount, { recursive: true });
    try {
      await run('mount', ['--bind', '-o', 'ro', source, mount]);
    } catch (error) {
      t.skip(`cannot make a read-only bind mount here: ${String(error)}`);
      return;
    }
    let syncing = true;
    const kubelet = (async () => {
      while (syncing) {
        try {
          const cm = await admin.core.readNamespacedConfigMap({
            namespace: admin.namespace,
            name: 'zones',
          });
          for (const [key, value] of Object.entries(cm.data ?? {})) {
            await writeFile(join(source, key), value);
          }
        } catch {
          // Not created yet.
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      await admin.keySecret('cmi-tsig', primary.tsigKey);
      await admin.keySecret('cmi-rndc', primary.rndcKey);
      await admin.create(
        'Bind9Instance',
        'cmi',
        {
          role: 'primary',
          dns: { address: primary.address, port: primary.dnsPort },
          rndc: {
            address: primary.address,
            port: primary.rndcPort,
            keySecretRef: { name: 'cmi-rndc' },
          },
          tsigKeySecretRef: { name: 'cmi-tsig' },
          zoneFiles: { configMap: { name: 'zones', mountPath: mount } },
        },
        { delivery: 'cm' },
      );
      await admin.create('DNSZone', 'cm', zoneSpec('cm.test', { matchLabels: { delivery: 'cm' } }));
      await admin.create('ARecord', 'cm-www', {
        zone: 'cm',
        name: 'www',
        ipv4Addresses: ['192.0.2.20'],
      });
      await waitReady(admin, 'ARecord', 'cm-www', 'True', undefined, 60_000);
      assert.deepEqual(await dig(primary, 'www.cm.test', 'A'), ['192.0.2.20']);
      const statement = await primary.showzone('cm.test');
      assert.match(statement, new RegExp(`file "${mount}/cm\\.test\\.db"`));
      assert.match(statement, /journal "cm\.test\.db\.jnl"/);
    } finally {
      syncing = false;
      await kubelet;
      await run('umount', [mount]);
    }
  });

  it('refuses what only the controller can judge as InvalidSpec naming the field, and still applies the rest of the zone', async () => {
    await admin.create('DNSZone', 'val', zoneSpec('val.test', PRIMARY));
    await admin.create('CNAMERecord', 'apex', {
      zone: 'val',
      name: '@',
      target: 'www.example.net.',
    });
    await admin.create('MXRecord', 'nullmx', {
      zone: 'val',
      name: 'mail',
      mailServers: [
        { preference: 0, host: '.' },
        { preference: 10, host: 'mx.example.net.' },
      ],
    });
    await admin.create('NSRecord', 'apexns', {
      zone: 'val',
      name: '@',
      nameServers: ['ns.example.net.'],
    });
    await admin.create('ARecord', 'fine', {
      zone: 'val',
      name: 'www',
      ipv4Addresses: ['192.0.2.30'],
    });
    await waitReady(admin, 'ARecord', 'fine');
    const cname = await waitReady(admin, 'CNAMERecord', 'apex', 'False', 'InvalidSpec');
    assert.match(cname.message, /^spec\.name: a CNAME cannot be at the zone apex/);
    const mx = await waitReady(admin, 'MXRecord', 'nullmx', 'False', 'InvalidSpec');
    assert.match(mx.message, /^spec\.mailServers\[0\]: /);
    const ns = await waitReady(admin, 'NSRecord', 'apexns', 'False', 'InvalidSpec');
    assert.match(ns.message, /^spec\.name: /);
    await waitFor('the InvalidSpec Events', async () => {
      const events = await admin.events();
      const want = [
        'CNAMERecord/apex Warning InvalidSpec: spec.name',
        'MXRecord/nullmx Warning InvalidSpec: spec.mailServers[0]',
        'NSRecord/apexns Warning InvalidSpec: spec.name',
      ];
      return want.every((w) => events.some((e) => e.startsWith(w))) ? true : undefined;
    });
    assert.deepEqual(await dig(primary, 'val.test', 'CNAME'), []);
    assert.deepEqual(await dig(primary, 'mail.val.test', 'MX'), []);
    assert.deepEqual(await dig(primary, 'val.test', 'NS'), ['ns1.val.test.']);
    assert.deepEqual(await dig(primary, 'www.val.test', 'A'), ['192.0.2.30']);
  });

  it('refuses a DNSZone whose in-zone name server has no glue as InvalidSpec, and creates nothing', async () => {
    await admin.create(
      'DNSZone',
      'noglue',
      zoneSpec('noglue.test', PRIMARY, { nameServers: [{ hostname: 'ns1' }] }),
    );
    await admin.create('ARecord', 'ng', {
      zone: 'noglue',
      name: 'a',
      ipv4Addresses: ['192.0.2.40'],
    });
    const ready = await waitReady(admin, 'DNSZone', 'noglue', 'False', 'InvalidSpec');
    assert.match(ready.message, /^spec\.nameServers\[0\]: needs ipv4Address or ipv6Address/);
    await waitReady(admin, 'ARecord', 'ng', 'False', 'ZoneNotReady');
    // The Event follows the status write (src/reconcilers/context.ts writeReady), and the
    // record's status comes from another run: neither says the Event is written yet.
    await waitFor('the InvalidSpec Event of DNSZone/noglue', async () =>
      (await admin.events()).some((e) =>
        e.startsWith('DNSZone/noglue Warning InvalidSpec: spec.nameServers[0]'),
      )
        ? true
        : undefined,
    );
    await assert.rejects(primary.showzone('noglue.test'), /not found/);
  });

  it('gives Conflict to the younger of two DNSZones for one zone name, hands over when the older goes, and never delzones for a younger one', async () => {
    await admin.create('DNSZone', 'a-dup', zoneSpec('dup.test', PRIMARY));
    await admin.create('ARecord', 'x', {
      zone: 'a-dup',
      name: 'x',
      ipv4Addresses: ['192.0.2.101'],
    });
    await waitReady(admin, 'ARecord', 'x');
    await laterThan(admin, 'DNSZone', 'a-dup');
    await admin2.create('DNSZone', 'b-dup', zoneSpec('dup.test', PRIMARY));
    await admin2.create('ARecord', 'y', {
      zone: 'b-dup',
      name: 'x',
      ipv4Addresses: ['192.0.2.102'],
    });
    const conflict = await waitReady(admin2, 'DNSZone', 'b-dup', 'False', 'Conflict');
    assert.ok(conflict.message.includes(`${admin.namespace}/a-dup`), conflict.message);
    await waitReady(admin2, 'ARecord', 'y', 'False', 'ZoneNotReady');
    assert.deepEqual(await dig(primary, 'x.dup.test', 'A'), ['192.0.2.101']);

    await admin.remove('DNSZone', 'a-dup');
    await waitReady(admin2, 'DNSZone', 'b-dup');
    await waitReady(admin2, 'ARecord', 'y');
    assert.deepEqual(await dig(primary, 'x.dup.test', 'A'), ['192.0.2.102']);

    const delzones = () => primary.log().match(/via delzone/g)?.length ?? 0;
    const before = delzones();
    await laterThan(admin2, 'DNSZone', 'b-dup');
    await admin2.create('DNSZone', 'c-dup', zoneSpec('dup.test', PRIMARY));
    await admin2.create('ARecord', 'cx', {
      zone: 'c-dup',
      name: 'cx',
      ipv4Addresses: ['192.0.2.103'],
    });
    const third = await waitReady(admin2, 'DNSZone', 'c-dup', 'False', 'Conflict');
    assert.ok(third.message.includes(`${admin2.namespace}/b-dup`), third.message);
    await admin2.remove('DNSZone', 'c-dup');
    // The controller has handled the deletion once the record says its zone is gone.
    await waitReady(admin2, 'ARecord', 'cx', 'False', 'ZoneNotFound');
    assert.equal(delzones(), before, 'a younger DNSZone deleted the zone from named');
    assert.deepEqual(await dig(primary, 'x.dup.test', 'A'), ['192.0.2.102']);
    assert.equal((await admin2.ready('DNSZone', 'b-dup'))?.status, 'True');
  });

  it('removes the old RRset in the same change when a record is renamed, unless another resource declares it', async () => {
    await admin.create('DNSZone', 'ren', zoneSpec('ren.test', PRIMARY));
    await admin.create('ARecord', 'mv', {
      zone: 'ren',
      name: 'old',
      ipv4Addresses: ['192.0.2.50'],
    });
    await waitReady(admin, 'ARecord', 'mv');
    const first = await written(admin, 'mv');
    assert.deepEqual([first.fqdn, first.recordType], ['old.ren.test.', 'A']);

    await admin.patchSpec('ARecord', 'mv', { name: 'new' });
    await waitFor('the renamed RRset', async () =>
      (await dig(primary, 'new.ren.test', 'A')).join() === '192.0.2.50' ? true : undefined,
    );
    await waitFor('the old RRset gone', async () =>
      (await dig(primary, 'old.ren.test', 'A')).length === 0 ? true : undefined,
    );
    await waitFor('status naming the new RRset', async () =>
      (await written(admin, 'mv')).fqdn === 'new.ren.test.' ? true : undefined,
    );

    // A younger resource waiting (Conflict) for the name takes it over instead.
    await admin.create('ARecord', 'first', {
      zone: 'ren',
      name: 'dup',
      ipv4Addresses: ['192.0.2.61'],
    });
    await waitReady(admin, 'ARecord', 'first');
    await laterThan(admin, 'ARecord', 'first');
    await admin.create('ARecord', 'second', {
      zone: 'ren',
      name: 'dup',
      ipv4Addresses: ['192.0.2.62'],
    });
    await waitReady(admin, 'ARecord', 'second', 'False', 'Conflict');
    await admin.patchSpec('ARecord', 'first', { name: 'moved' });
    await waitReady(admin, 'ARecord', 'second');
    await waitFor('both RRsets where their resources say', async () => {
      const dup = (await dig(primary, 'dup.ren.test', 'A')).join();
      const moved = (await dig(primary, 'moved.ren.test', 'A')).join();
      return dup === '192.0.2.62' && moved === '192.0.2.61' ? true : undefined;
    });

    // Deletion removes what the status says was written.
    await admin.remove('ARecord', 'mv');
    await waitFor('the renamed RRset removed on deletion', async () =>
      (await dig(primary, 'new.ren.test', 'A')).length === 0 ? true : undefined,
    );
  });

  it('removes the RRset from the old zone when a record moves to another zone (spec.zone)', async () => {
    await admin.create('DNSZone', 'mva', zoneSpec('mva.test', PRIMARY));
    await admin.create('DNSZone', 'mvb', zoneSpec('mvb.test', PRIMARY));
    await admin.create('ARecord', 'hop', { zone: 'mva', name: 'h', ipv4Addresses: ['192.0.2.80'] });
    await waitReady(admin, 'ARecord', 'hop');
    assert.equal((await written(admin, 'hop')).zone, 'mva');
    await admin.patchSpec('ARecord', 'hop', { zone: 'mvb' });
    await waitFor('the RRset in the new zone only', async () => {
      const there = (await dig(primary, 'h.mvb.test', 'A')).join();
      const gone = (await dig(primary, 'h.mva.test', 'A')).length === 0;
      return there === '192.0.2.80' && gone ? true : undefined;
    });
    await waitFor('status naming the new zone', async () => {
      const w = await written(admin, 'hop');
      return w.zone === 'mvb' && w.fqdn === 'h.mvb.test.' ? true : undefined;
    });
  });

  it('replaces an A by a CNAME at one name when one resource is deleted and another kind created for it', async () => {
    await admin.create('DNSZone', 'kind', zoneSpec('kind.test', PRIMARY));
    await admin.create('ARecord', 'swap-a', {
      zone: 'kind',
      name: 'swap',
      ipv4Addresses: ['192.0.2.70'],
    });
    await waitReady(admin, 'ARecord', 'swap-a');
    await admin.remove('ARecord', 'swap-a');
    await admin.create('CNAMERecord', 'swap-c', {
      zone: 'kind',
      name: 'swap',
      target: 'www.example.net.',
    });
    await waitReady(admin, 'CNAMERecord', 'swap-c');
    await waitFor('the resource gone', async () =>
      (await admin.get('ARecord', 'swap-a')) === undefined ? true : undefined,
    );
    assert.deepEqual(await dig(primary, 'swap.kind.test', 'CNAME'), ['www.example.net.']);
    // A query for A at a CNAME follows it; named is not recursive, so only the CNAME comes back.
    assert.deepEqual(await dig(primary, 'swap.kind.test', 'A'), ['www.example.net.']);
  });
});
