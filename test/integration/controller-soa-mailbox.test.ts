/**
 * An SOA mailbox whose local part has a dot (`dns.admin@example.org`) is accepted and
 * served as RFC 1035 §8 writes it, `dns\.admin.example.org.`, in the base file and in
 * UPDATEs; read back by AXFR it compares equal, so the controller never rewrites it.
 * Real kube-apiserver (its CRD schema used to refuse the address) and real named.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
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

const run = promisify(execFile);

describe('an SOA mailbox with a dot in its local part', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('mailbox'));
    named = await startNamed();
    await admin.instance('prim', named, { role: 'primary' });
    ctl = await startController(user, admin.namespace);
  });

  after(async () => {
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  async function soa(): Promise<string[]> {
    const args = ['+short', '+norec', '-p', String(named.dnsPort), `@${named.address}`];
    return (await run('dig', [...args, 'mail.test', 'SOA'])).stdout.trim().split(' ');
  }

  it('is served escaped, also after a change of the SOA, and is not rewritten on every round', async () => {
    const spec = zoneSpec('mail.test', { matchLabels: { role: 'primary' } });
    const soaRecord = { ...spec.soaRecord, adminEmail: 'dns.admin@example.org' };
    await admin.create('DNSZone', 'mail', { ...spec, soaRecord });
    await waitReady(admin, 'DNSZone', 'mail');
    assert.equal((await soa())[1], 'dns\\.admin.example.org.');

    await admin.patchSpec('DNSZone', 'mail', { soaRecord: { ...soaRecord, refresh: 9000 } });
    await waitFor('the new refresh served', async () =>
      (await soa())[3] === '9000' ? true : undefined,
    );
    assert.equal((await soa())[1], 'dns\\.admin.example.org.');
    const replaced = () =>
      ctl.logs.filter((l) => l.includes('"rrset changed"') && l.includes('"type":"SOA"')).length;
    const before = replaced();
    await admin.create('ARecord', 'www', {
      zone: 'mail',
      name: 'www',
      ipv4Addresses: ['192.0.2.1'],
    });
    await waitReady(admin, 'ARecord', 'www');
    assert.equal(replaced(), before, 'the SOA read back compares equal to the declared one');
  });
});
