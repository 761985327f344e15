/**
 * Edge cases of the controller (issue #6, left open by the first rounds), each against a
 * real kube-apiserver and real named servers:
 * - a DNSZone edited into a spec the controller rejects, after records were written, and
 *   records or the zone deleted then;
 * - records renamed or moved to another zone before their status could record what they
 *   wrote (right after creation, or while one primary is down);
 * - a secondary that does not serve its primaries' serial yet.
 *
 * A "ghost" primary (a Bind9Instance whose DNS and rndc ports have no server behind them)
 * keeps records from ever becoming Ready, so their status never names what was written:
 * the situation of a quick rename, made deterministic.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import { freePort } from '../harness/ports.ts';
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

const ON_P1 = { matchLabels: { edge: 'p1' } };
const ON_P1_AND_GHOST = {
  matchExpressions: [{ key: 'edge', operator: 'In', values: ['p1', 'ghost'] }],
};

/** A record's status as the controller writes it. */
interface Pointer {
  fqdn?: string;
  recordType?: string;
  zone?: string;
}

describe('controller edges: invalid zones, quick renames and moves, secondaries catching up', {
  timeout: 900_000,
}, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let p1: NamedServer;
  let sec: NamedServer;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('edges'));
    p1 = await startNamed();
    // One TSIG key for both: the controller's key also signs the secondary's transfers.
    sec = await startNamed({ tsigKey: p1.tsigKey });
    await admin.instance('p1', p1, { edge: 'p1' });
    await admin.create(
      'Bind9Instance',
      'ghost',
      {
        role: 'primary',
        dns: { address: '127.0.0.1', port: await freePort() },
        rndc: { address: '127.0.0.1', port: await freePort(), keySecretRef: { name: 'p1-rndc' } },
        tsigKeySecretRef: { name: 'p1-tsig' },
        zoneFiles: { directory: { path: p1.zoneDir } },
      },
      { edge: 'ghost' },
    );
    ctl = await startController(user, admin.namespace);
  });

  after(async () => {
    if (process.env.CTRL_LOGS) console.error(ctl?.logs.join(''));
    await ctl?.stop();
    await Promise.all([p1?.stop(), sec?.stop()]);
    await cluster?.stop();
  });

  async function pointer(kind: string, name: string): Promise<Pointer> {
    return ((await admin.get(kind, name))?.status ?? {}) as Pointer;
  }

  async function gone(kind: string, name: string): Promise<true | undefined> {
    return (await admin.get(kind, name)) === undefined ? true : undefined;
  }

  /** Waits until `dig` at p1 answers exactly `want` (sorted lines). */
  async function served(name: string, type: string, want: string[]): Promise<void> {
    await waitFor(`${name} ${type} = [${want.join(', ')}] on p1`, async () =>
      (await dig(p1, name, type)).join() === want.join() ? true : undefined,
    );
  }

  it('removes a DNSZone edited into an invalid selector from every instance it was created on when it is deleted, with the RRsets of records deleted meanwhile', async () => {
    await admin.create('DNSZone', 'invsel', zoneSpec('invsel.test', ON_P1));
    await admin.create('ARecord', 'invsel-a', {
      zone: 'invsel',
      name: 'a',
      ipv4Addresses: ['192.0.2.1'],
    });
    await admin.create('ARecord', 'invsel-b', {
      zone: 'invsel',
      name: 'b',
      ipv4Addresses: ['192.0.2.2'],
    });
    await waitReady(admin, 'ARecord', 'invsel-a');
    await waitReady(admin, 'ARecord', 'invsel-b');

    // A label key the API server accepts and the controller rejects: the selector now
    // picks nothing, yet the zone is still on p1.
    await admin.patchSpec('DNSZone', 'invsel', {
      instanceSelector: { matchLabels: { edge: null, 'bad key': 'x' } },
    });
    await waitReady(admin, 'DNSZone', 'invsel', 'False', 'InvalidSpec');
    await waitReady(admin, 'ARecord', 'invsel-a', 'False', 'ZoneNotReady');

    // A record deleted now keeps its finalizer: nothing may be sent through this zone.
    await admin.remove('ARecord', 'invsel-b');
    await waitFor('the deleted record to say its deletion waits', async () => {
      const ready = await admin.ready('ARecord', 'invsel-b');
      return ready?.message.includes('deletion waits') === true ? ready : undefined;
    });
    assert.deepEqual(await dig(p1, 'b.invsel.test', 'A'), ['192.0.2.2']);

    await admin.remove('DNSZone', 'invsel');
    await waitFor('the DNSZone gone', () => gone('DNSZone', 'invsel'));
    await waitFor('the deleted record gone', () => gone('ARecord', 'invsel-b'));
    await assert.rejects(p1.showzone('invsel.test'), /not found/);
    assert.deepEqual(await dig(p1, 'a.invsel.test', 'A'), []);
    await waitReady(admin, 'ARecord', 'invsel-a', 'False', 'ZoneNotFound');
  });

  it('keeps a record deleted while its DNSZone is invalid until the zone is valid again, then removes its RRset and lets it go', async () => {
    await admin.create('DNSZone', 'invns', zoneSpec('invns.test', ON_P1));
    await admin.create('ARecord', 'held', {
      zone: 'invns',
      name: 'h',
      ipv4Addresses: ['192.0.2.3'],
    });
    await admin.create('ARecord', 'stays', {
      zone: 'invns',
      name: 's',
      ipv4Addresses: ['192.0.2.4'],
    });
    await waitReady(admin, 'ARecord', 'held');
    await waitReady(admin, 'ARecord', 'stays');

    // An in-zone name server without glue: valid for the schema, not for named.
    await admin.patchSpec('DNSZone', 'invns', { nameServers: [{ hostname: 'ns1' }] });
    await waitReady(admin, 'DNSZone', 'invns', 'False', 'InvalidSpec');
    await admin.remove('ARecord', 'held');
    await waitFor('the deleted record to say its deletion waits', async () => {
      const ready = await admin.ready('ARecord', 'held');
      return ready?.message.includes('deletion waits') === true ? ready : undefined;
    });
    assert.deepEqual(await dig(p1, 'h.invns.test', 'A'), ['192.0.2.3']);

    await admin.patchSpec('DNSZone', 'invns', {
      nameServers: [{ hostname: 'ns1', ipv4Address: '192.0.2.53' }],
    });
    await waitFor('the deleted record gone', () => gone('ARecord', 'held'));
    // Its finalizer went only once the RRset was off p1.
    assert.deepEqual(await dig(p1, 'h.invns.test', 'A'), []);
    await waitReady(admin, 'DNSZone', 'invns');
    await waitReady(admin, 'ARecord', 'stays');
    assert.deepEqual(await dig(p1, 's.invns.test', 'A'), ['192.0.2.4']);
  });

  it('removes the old RRset of a record renamed before its status could say what it wrote (a primary down)', async () => {
    await admin.create('DNSZone', 'rn', zoneSpec('rn.test', ON_P1_AND_GHOST));
    await admin.create('ARecord', 'rn1', {
      zone: 'rn',
      name: 'old',
      ipv4Addresses: ['192.0.2.10'],
    });
    await served('old.rn.test', 'A', ['192.0.2.10']);
    await waitReady(admin, 'ARecord', 'rn1', 'False', 'InstanceUnreachable');
    assert.equal((await pointer('ARecord', 'rn1')).fqdn, undefined, 'no status names the RRset');

    await admin.patchSpec('ARecord', 'rn1', { name: 'new' });
    await served('new.rn.test', 'A', ['192.0.2.10']);
    await served('old.rn.test', 'A', []);

    // Without the ghost the record is Ready, and its status names the new RRset.
    await admin.patchSpec('DNSZone', 'rn', {
      instanceSelector: { ...ON_P1, matchExpressions: null },
    });
    await waitReady(admin, 'ARecord', 'rn1');
    await waitFor('the status naming the new RRset', async () =>
      (await pointer('ARecord', 'rn1')).fqdn === 'new.rn.test.' ? true : undefined,
    );
    assert.deepEqual(await dig(p1, 'old.rn.test', 'A'), []);
  });

  it('removes the RRset from the old zone of a record moved to another zone before its status could say what it wrote (a primary down)', async () => {
    await admin.create('DNSZone', 'mfrom', zoneSpec('mfrom.test', ON_P1_AND_GHOST));
    await admin.create('DNSZone', 'mto', zoneSpec('mto.test', ON_P1));
    await waitReady(admin, 'DNSZone', 'mto');
    await admin.create('ARecord', 'hop', {
      zone: 'mfrom',
      name: 'h',
      ipv4Addresses: ['192.0.2.20'],
    });
    await served('h.mfrom.test', 'A', ['192.0.2.20']);
    await waitReady(admin, 'ARecord', 'hop', 'False', 'InstanceUnreachable');
    assert.equal((await pointer('ARecord', 'hop')).zone, undefined, 'no status names the zone');

    await admin.patchSpec('ARecord', 'hop', { zone: 'mto' });
    await served('h.mto.test', 'A', ['192.0.2.20']);
    await served('h.mfrom.test', 'A', []);
    await waitReady(admin, 'ARecord', 'hop');
    await waitFor('the status naming the new zone', async () => {
      const p = await pointer('ARecord', 'hop');
      return p.zone === 'mto' && p.fqdn === 'h.mto.test.' ? true : undefined;
    });
  });

  it('leaves no RRset behind when records are renamed or moved to another zone right after they are created', async () => {
    await admin.create('DNSZone', 'qa', zoneSpec('qa.test', ON_P1));
    await admin.create('DNSZone', 'qb', zoneSpec('qb.test', ON_P1));
    await waitReady(admin, 'DNSZone', 'qa');
    await waitReady(admin, 'DNSZone', 'qb');
    const names = ['q1', 'q2', 'q3', 'q4', 'q5', 'q6'];
    await Promise.all(
      names.map((n, i) =>
        admin.create('ARecord', n, { zone: 'qa', name: n, ipv4Addresses: [`192.0.2.${30 + i}`] }),
      ),
    );
    // No wait: each change lands while the creation is being reconciled, or just after.
    await Promise.all(
      names.map((n, i) =>
        admin.patchSpec('ARecord', n, i % 2 === 0 ? { name: `${n}-renamed` } : { zone: 'qb' }),
      ),
    );
    for (const [i, n] of names.entries()) {
      await waitReady(admin, 'ARecord', n);
      const where = i % 2 === 0 ? `${n}-renamed.qa.test` : `${n}.qb.test`;
      await served(where, 'A', [`192.0.2.${30 + i}`]);
    }
    for (const n of names) await served(`${n}.qa.test`, 'A', []);
  });

  it('reports a secondary that does not serve its primary’s serial as TransferPending, and Ready once it does', async () => {
    await admin.keySecret('sec-tsig', sec.tsigKey);
    await admin.keySecret('sec-rndc', sec.rndcKey);
    // Its primary's address, on a port where nothing answers: no transfer can succeed.
    await admin.create(
      'Bind9Instance',
      'sec',
      {
        role: 'secondary',
        dns: { address: sec.address, port: sec.dnsPort },
        rndc: { address: sec.address, port: sec.rndcPort, keySecretRef: { name: 'sec-rndc' } },
        tsigKeySecretRef: { name: 'sec-tsig' },
        primaries: [p1.address],
        primariesPort: await freePort(),
      },
      { edge: 'sec' },
    );
    await waitReady(admin, 'Bind9Instance', 'sec');
    const selector = { matchExpressions: [{ key: 'edge', operator: 'In', values: ['p1', 'sec'] }] };
    await admin.create('DNSZone', 'xfr', zoneSpec('xfr.test', selector));
    await admin.create('ARecord', 'xw', {
      zone: 'xfr',
      name: 'www',
      ipv4Addresses: ['192.0.2.40'],
    });
    const pending = await waitReady(admin, 'DNSZone', 'xfr', 'False', 'TransferPending');
    assert.match(pending.message, /^sec: transfer pending/);
    const zone = await admin.get('DNSZone', 'xfr');
    const onSec = zone?.status?.instances?.find((i) => i.name === 'sec');
    assert.equal(onSec?.inSync, false);
    // Records are Ready once on every primary; the secondary does not hold them back.
    await waitReady(admin, 'ARecord', 'xw');

    await admin.patchSpec('Bind9Instance', 'sec', { primariesPort: p1.dnsPort });
    await waitReady(admin, 'DNSZone', 'xfr');
    assert.deepEqual(await dig(sec, 'www.xfr.test', 'A'), ['192.0.2.40']);
    const serial = async (named: NamedServer) =>
      (await dig(named, 'xfr.test', 'SOA'))[0]?.split(' ')[2];
    assert.equal(await serial(sec), await serial(p1));
    const synced = (await admin.get('DNSZone', 'xfr'))?.status?.instances;
    assert.deepEqual(synced?.map((i) => [i.name, i.present, i.inSync]).sort(), [
      ['p1', true, true],
      ['sec', true, true],
    ]);
  });
});
