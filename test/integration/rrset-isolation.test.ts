/**
 * One RRset never blocks its zone (issue #18): a 101-address ARecord (named answers
 * SERVFAIL past its max-records-per-type of 100) and a 70 KiB TXTRecord (no DNS message
 * can carry it) sit in a zone with ordinary records. Every other record is answered, also
 * ones created afterwards; the two resources are Ready=False with reasons of their own.
 * Real kube-apiserver, real named.
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

describe('an RRset the server cannot take blocks nothing else of its zone', {
  timeout: 600_000,
}, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('isolation'));
    named = await startNamed();
    await admin.instance('p', named, { iso: 'p' });
    await admin.create('DNSZone', 'iso', zoneSpec('iso.test', { matchLabels: { iso: 'p' } }));
    ctl = await startController(user, admin.namespace);
    await waitReady(admin, 'DNSZone', 'iso');
  });

  after(async () => {
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  async function answered(name: string, type: string, want: string[]) {
    await waitFor(`${name} ${type} answered`, async () =>
      (await dig(named, name, type)).join() === want.join() ? true : undefined,
    );
  }

  it('serves every other record and gives the two their own reasons', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `198.51.100.${i + 1}`);
    const chunk = 'v'.repeat(14 * 1024);
    await admin.create('ARecord', 'many', { zone: 'iso', name: 'many', ipv4Addresses: many });
    await admin.create('TXTRecord', 'huge', {
      zone: 'iso',
      name: 'huge',
      values: Array.from({ length: 5 }, (_, i) => `${i}${chunk}`),
    });
    for (let i = 0; i < 5; i++) {
      await admin.create('ARecord', `ok${i}`, {
        zone: 'iso',
        name: `ok${i}`,
        ipv4Addresses: [`192.0.2.${i + 1}`],
      });
    }
    for (let i = 0; i < 5; i++) await answered(`ok${i}.iso.test`, 'A', [`192.0.2.${i + 1}`]);

    const tooMany = await waitReady(admin, 'ARecord', 'many', 'False', 'TooLarge');
    assert.match(tooMany.message, /101 records/);
    const tooBig = await waitReady(admin, 'TXTRecord', 'huge', 'False', 'TooLarge');
    assert.match(tooBig.message, /more than any DNS message can carry/);
    for (let i = 0; i < 5; i++) await waitReady(admin, 'ARecord', `ok${i}`);
    assert.deepEqual(await dig(named, 'many.iso.test', 'A'), []);

    // A neighbour created afterwards does not wait for them either.
    await admin.create('ARecord', 'later', {
      zone: 'iso',
      name: 'later',
      ipv4Addresses: ['192.0.2.50'],
    });
    await answered('later.iso.test', 'A', ['192.0.2.50']);
    await waitReady(admin, 'ARecord', 'later');
    const zone = await admin.ready('DNSZone', 'iso');
    assert.equal(zone?.status, 'True', 'the zone itself stays Ready');

    // Fixed: the ARecord comes down to 100 addresses and is served.
    await admin.patchSpec('ARecord', 'many', { ipv4Addresses: many.slice(0, 100) });
    await waitReady(admin, 'ARecord', 'many');
    assert.equal((await dig(named, 'many.iso.test', 'A')).length, 100);
  });

  it('refuses at admission a TXTRecord of more values than the CRD allows, naming the field', async () => {
    await assert.rejects(
      admin.create('TXTRecord', 'too-many-values', {
        zone: 'iso',
        name: 'x',
        values: Array.from({ length: 65 }, (_, i) => `v${i}`),
      }),
      (e: unknown) => /values/.test(String((e as { body?: unknown }).body ?? e)),
    );
  });
});
