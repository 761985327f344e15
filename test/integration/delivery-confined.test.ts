/**
 * Base files go only where the controller may write them (issue #18): `directory` delivery
 * below the roots the operator gave it (`--zone-file-root`), never over or instead of a
 * file it did not write; `configMap` delivery only into ConfigMaps it created. Real
 * kube-apiserver, real named, the controller in-process with deploy/'s RBAC.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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
  instanceSpec,
  type RunningController,
  startController,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

const run = promisify(execFile);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('base files go only where the controller may write them', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let root: string;
  let outside: string;
  let inRoot: NamedServer;
  let elsewhere: NamedServer;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('delivery'));
    root = await mkdtemp(join(tmpdir(), 'zone-root-'));
    outside = await mkdtemp(join(tmpdir(), 'not-a-root-'));
    inRoot = await startNamed({ dir: join(root, 'named') });
    elsewhere = await startNamed({ dir: join(outside, 'named') });
    await admin.instance('in-root', inRoot, { delivery: 'in-root' });
    await admin.instance('elsewhere', elsewhere, { delivery: 'elsewhere' });
    // The helpers' own root is replaced: this controller may write below `root` only.
    ctl = await startController(user, admin.namespace, ['--zone-file-root', root]);
  });

  after(async () => {
    await ctl?.stop();
    await Promise.all([inRoot?.stop(), elsewhere?.stop()]);
    await Promise.all([
      rm(root, { recursive: true, force: true }),
      rm(outside, { recursive: true, force: true }),
    ]);
    await cluster?.stop();
  });

  it('refuses directory delivery outside the roots, writing nothing there', async () => {
    await waitReady(admin, 'Bind9Instance', 'elsewhere', 'False', 'DeliveryRefused');
    await admin.create(
      'DNSZone',
      'far',
      zoneSpec('far.test', { matchLabels: { delivery: 'elsewhere' } }),
    );
    const ready = await waitReady(admin, 'DNSZone', 'far', 'False', 'DeliveryRefused');
    assert.match(ready.message, /outside the roots/);
    assert.equal(await exists(join(elsewhere.zoneDir, 'far.test.db')), false);
    assert.deepEqual(await dig(elsewhere, 'far.test', 'SOA'), []);
  });

  it('writes, marks and removes its own files below a root, also after named rewrote the base file', async () => {
    await admin.create(
      'DNSZone',
      'ours',
      zoneSpec('ours.test', { matchLabels: { delivery: 'in-root' } }),
    );
    await waitReady(admin, 'DNSZone', 'ours');
    await admin.create('ARecord', 'ours-www', {
      zone: 'ours',
      name: 'www',
      ipv4Addresses: ['192.0.2.7'],
    });
    await waitReady(admin, 'ARecord', 'ours-www');
    const file = join(inRoot.zoneDir, 'ours.test.db');
    assert.ok(await exists(`${file}.bind9-controller`), 'the mark is beside the base file');
    // named dumps a dynamic zone into its base file: our header is gone, the mark is not.
    await run('rndc', [
      '-s',
      inRoot.address,
      '-p',
      String(inRoot.rndcPort),
      '-k',
      inRoot.rndcKeyFile,
      'sync',
      'ours.test',
    ]);
    await waitFor('named rewrote the base file', async () =>
      (await readFile(file, 'utf8')).includes('192.0.2.7') ? true : undefined,
    );
    await admin.remove('DNSZone', 'ours');
    await admin.remove('ARecord', 'ours-www');
    await waitFor('the base file and its mark removed', async () =>
      !(await exists(file)) && !(await exists(`${file}.bind9-controller`)) ? true : undefined,
    );
  });

  it('neither replaces nor removes a base file or journal it did not write', async () => {
    const file = join(inRoot.zoneDir, 'important.test.db');
    await mkdir(inRoot.zoneDir, { recursive: true });
    await writeFile(file, '; precious, written by hand\n');
    await writeFile(`${file}.jnl`, 'a journal that is not ours');
    await admin.create(
      'DNSZone',
      'important',
      zoneSpec('important.test', { matchLabels: { delivery: 'in-root' } }),
    );
    const ready = await waitReady(admin, 'DNSZone', 'important', 'False', 'DeliveryRefused');
    assert.match(ready.message, /was not written by bind9-controller/);
    await admin.remove('DNSZone', 'important');
    await waitFor('the DNSZone gone', async () =>
      (await admin.get('DNSZone', 'important')) === undefined ? true : undefined,
    );
    assert.equal(await readFile(file, 'utf8'), '; precious, written by hand\n');
    assert.equal(await readFile(`${file}.jnl`, 'utf8'), 'a journal that is not ours');
  });

  it('refuses a directory that leaves the root through a symbolic link', async () => {
    await symlink(outside, join(root, 'escape'));
    await admin.keySecret('escape-tsig', inRoot.tsigKey);
    await admin.keySecret('escape-rndc', inRoot.rndcKey);
    const throughLink = { zoneFiles: { directory: { path: join(root, 'escape', 'zones') } } };
    await admin.create('Bind9Instance', 'escape', instanceSpec(inRoot, 'escape', throughLink));
    const ready = await waitReady(admin, 'Bind9Instance', 'escape', 'False', 'DeliveryRefused');
    assert.match(ready.message, /outside the roots/);
  });

  it('refuses configMap delivery into a ConfigMap it did not create, leaving it untouched', async () => {
    await admin.core.createNamespacedConfigMap({
      namespace: admin.namespace,
      body: { metadata: { name: 'app-config' }, data: { 'settings.json': '{"debug":false}' } },
    });
    const before = await admin.core.readNamespacedConfigMap({
      namespace: admin.namespace,
      name: 'app-config',
    });
    await admin.keySecret('cm-tsig', inRoot.tsigKey);
    await admin.keySecret('cm-rndc', inRoot.rndcKey);
    const instance = (name: string, configMap: string) => {
      const zoneFiles = { configMap: { name: configMap, mountPath: '/etc/bind/zones' } };
      return admin.create('Bind9Instance', name, instanceSpec(inRoot, 'cm', { zoneFiles }), {
        delivery: name,
      });
    };
    await instance('foreign-cm', 'app-config');
    await instance('own-cm', 'bind9-zones');
    await admin.create(
      'DNSZone',
      'cm-foreign',
      zoneSpec('cm-foreign.test', { matchLabels: { delivery: 'foreign-cm' } }),
    );
    await admin.create(
      'DNSZone',
      'cm-own',
      zoneSpec('cm-own.test', { matchLabels: { delivery: 'own-cm' } }),
    );
    const ready = await waitReady(admin, 'DNSZone', 'cm-foreign', 'False', 'DeliveryRefused');
    assert.match(ready.message, /ConfigMap .*app-config was not created by bind9-controller/);
    // The controller's own ConfigMap is created, labelled, with the zone's base file.
    const own = await waitFor('ConfigMap bind9-zones created', async () =>
      admin.core
        .readNamespacedConfigMap({ namespace: admin.namespace, name: 'bind9-zones' })
        .catch(() => undefined),
    );
    assert.equal(own.metadata?.labels?.['app.kubernetes.io/managed-by'], 'bind9-controller');
    assert.ok(own.data?.['cm-own.test.db']?.includes('cm-own.test'));
    await admin.remove('DNSZone', 'cm-foreign');
    await waitFor('cm-foreign gone', async () =>
      (await admin.get('DNSZone', 'cm-foreign')) === undefined ? true : undefined,
    );
    const afterwards = await admin.core.readNamespacedConfigMap({
      namespace: admin.namespace,
      name: 'app-config',
    });
    assert.deepEqual(afterwards.data, before.data);
    assert.equal(afterwards.metadata?.resourceVersion, before.metadata?.resourceVersion);
  });
});
