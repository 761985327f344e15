/**
 * The controller end to end (issue #6, Must show): a real kube-apiserver, real named
 * servers, the controller in-process as a user bound only to deploy/clusterrole.yaml.
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
  digAuthority,
  type RunningController,
  startController,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

describe('controller against a real API server and real named', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let a: NamedServer;
  let b: NamedServer;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    const ns = await cluster.createNamespace('ctrl');
    admin = new Admin(cluster, ns);
    [a, b] = await Promise.all([startNamed(), startNamed()]);
    await admin.instance('alpha', a, { site: 'a', tier: 'gold' });
    await admin.instance('beta', b, { site: 'b', tier: 'gold' });
    ctl = await startController(user, ns);
  });

  after(async () => {
    if (process.env.CTRL_LOGS) console.error(ctl?.logs.join(''));
    await ctl?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
    await cluster?.stop();
  });

  it('reports both instances Ready once rndc and signed DNS answer', async () => {
    await waitReady(admin, 'Bind9Instance', 'alpha');
    await waitReady(admin, 'Bind9Instance', 'beta');
  });

  it('creates a zone selected by matchExpressions on that instance only, with the SOA as declared', async () => {
    await admin.create(
      'DNSZone',
      'example',
      zoneSpec('example.test', {
        matchLabels: { tier: 'gold' },
        matchExpressions: [{ key: 'site', operator: 'In', values: ['a'] }],
      }),
    );
    const ready = await waitReady(admin, 'DNSZone', 'example');
    const zone = await admin.get('DNSZone', 'example');
    assert.equal(zone?.status?.observedGeneration, zone?.metadata.generation);
    assert.equal(ready.observedGeneration, zone?.metadata.generation);
    assert.deepEqual(await dig(a, 'example.test', 'SOA'), [
      'ns1.example.test. hostmaster.example.test. 2026010101 7200 600 1209600 120',
    ]);
    assert.deepEqual(await dig(a, 'example.test', 'NS'), ['ns1.example.test.']);
    assert.deepEqual(
      await dig(b, 'example.test', 'SOA'),
      [],
      'the other instance has no such zone',
    );
    assert.deepEqual(
      zone?.status?.instances?.map((i) => [i.name, i.present, i.inSync]),
      [['alpha', true, true]],
    );
  });

  it('keeps the SOA as declared when the DNSZone changes it', async () => {
    const zone = zoneSpec('example.test', {});
    await admin.patchSpec('DNSZone', 'example', {
      soaRecord: { ...zone.soaRecord, refresh: 3600 },
    });
    await waitFor('the new SOA timers', async () => {
      const [soa] = await dig(a, 'example.test', 'SOA');
      return soa === 'ns1.example.test. hostmaster.example.test. 2026010102 3600 600 1209600 120'
        ? true
        : undefined;
    });
  });

  it('keeps the apex NS and their glue as declared when the DNSZone changes its name servers', async () => {
    const servers = (...hosts: [string, string][]) =>
      hosts.map(([hostname, ipv4Address]) => ({ hostname, ipv4Address }));
    await admin.patchSpec('DNSZone', 'example', {
      nameServers: servers(['ns1', '192.0.2.53'], ['ns2', '192.0.2.54']),
    });
    await waitFor('both name servers at the apex', async () =>
      (await dig(a, 'example.test', 'NS')).join() === 'ns1.example.test.,ns2.example.test.'
        ? true
        : undefined,
    );
    assert.deepEqual(await dig(a, 'ns2.example.test', 'A'), ['192.0.2.54'], 'the glue is added');
    await admin.patchSpec('DNSZone', 'example', {
      nameServers: servers(['ns1', '192.0.2.53']),
    });
    await waitFor('ns2 gone from the apex', async () =>
      (await dig(a, 'example.test', 'NS')).join() === 'ns1.example.test.' ? true : undefined,
    );
    await waitFor('the glue of ns2 removed', async () =>
      (await dig(a, 'ns2.example.test', 'A')).length === 0 ? true : undefined,
    );
  });

  it('serves exactly the data of one resource of every record kind', async () => {
    const z = { zone: 'example' };
    await admin.create('ARecord', 'www', {
      ...z,
      name: 'www',
      ipv4Addresses: ['192.0.2.1', '192.0.2.2'],
    });
    await admin.create('AAAARecord', 'www6', { ...z, name: 'www', ipv6Addresses: ['2001:db8::1'] });
    await admin.create('CNAMERecord', 'alias', { ...z, name: 'alias', target: 'www' });
    await admin.create('TXTRecord', 'txt', {
      ...z,
      name: '@',
      ttl: 60,
      values: ['v=spf1 -all', 'hello world'],
    });
    await admin.create('MXRecord', 'mx', {
      ...z,
      name: '@',
      mailServers: [{ preference: 10, host: 'www' }],
    });
    await admin.create('NSRecord', 'sub', {
      ...z,
      name: 'sub',
      nameServers: ['ns.elsewhere.example.'],
    });
    await admin.create('SRVRecord', 'srv', {
      ...z,
      name: '_sip._tcp',
      services: [{ priority: 10, weight: 5, port: 5060, target: 'www' }],
    });
    await admin.create('CAARecord', 'caa', {
      ...z,
      name: '@',
      authorizations: [{ flags: 0, tag: 'issue', value: 'letsencrypt.org' }],
    });
    await admin.create('PTRRecord', 'ptr', {
      ...z,
      name: '1.host',
      targets: ['www.example.test.'],
    });
    for (const [kind, name] of [
      ['ARecord', 'www'],
      ['AAAARecord', 'www6'],
      ['CNAMERecord', 'alias'],
      ['TXTRecord', 'txt'],
      ['MXRecord', 'mx'],
      ['NSRecord', 'sub'],
      ['SRVRecord', 'srv'],
      ['CAARecord', 'caa'],
      ['PTRRecord', 'ptr'],
    ] as const) {
      await waitReady(admin, kind, name);
    }
    assert.deepEqual(await dig(a, 'www.example.test', 'A'), ['192.0.2.1', '192.0.2.2']);
    assert.deepEqual(await dig(a, 'www.example.test', 'AAAA'), ['2001:db8::1']);
    assert.deepEqual(await dig(a, 'alias.example.test', 'CNAME'), ['www.example.test.']);
    assert.deepEqual(await dig(a, 'example.test', 'TXT'), ['"hello world"', '"v=spf1 -all"']);
    assert.deepEqual(await dig(a, 'example.test', 'MX'), ['10 www.example.test.']);
    // A delegation: named answers with a referral, the NS RRset in the authority section.
    assert.deepEqual(await digAuthority(a, 'sub.example.test', 'NS'), [
      'sub.example.test. ns.elsewhere.example.',
    ]);
    assert.deepEqual(await dig(a, '_sip._tcp.example.test', 'SRV'), [
      '10 5 5060 www.example.test.',
    ]);
    assert.deepEqual(await dig(a, 'example.test', 'CAA'), ['0 issue "letsencrypt.org"']);
    assert.deepEqual(await dig(a, '1.host.example.test', 'PTR'), ['www.example.test.']);
  });

  it('replaces an RRset in one step: one UPDATE, and every answer during the change is the old or the new set', async () => {
    const old = ['192.0.2.1', '192.0.2.2'];
    const next = ['198.51.100.7'];
    // named raises the SOA serial once per UPDATE message that changes the zone (RFC 2136
    // §3.7), so the serial counts the messages the change took.
    const serial = async () => Number((await dig(a, 'example.test', 'SOA'))[0]?.split(' ')[2]);
    const before = await serial();
    const seen: string[][] = [];
    let done = false;
    const watcher = (async () => {
      while (!done) seen.push(await dig(a, 'www.example.test', 'A'));
    })();
    await admin.patchSpec('ARecord', 'www', { ipv4Addresses: next });
    await waitFor('the new A RRset', async () =>
      (await dig(a, 'www.example.test', 'A')).join() === next.join() ? true : undefined,
    );
    done = true;
    await watcher;
    assert.equal(await serial(), before + 1, 'the delete and the add went in one UPDATE');
    for (const answer of seen) {
      assert.ok(
        answer.join() === old.join() || answer.join() === next.join(),
        `unexpected answer ${answer.join()}`,
      );
    }
    const www = await admin.get('ARecord', 'www');
    await waitFor('observedGeneration to follow the change', async () => {
      const r = await admin.get('ARecord', 'www');
      return r?.status?.observedGeneration === www?.metadata.generation ? true : undefined;
    });
  });

  it('removes the RRset of a deleted resource, then lets the resource go', async () => {
    await admin.remove('PTRRecord', 'ptr');
    await waitFor('the PTR to go', async () =>
      (await dig(a, '1.host.example.test', 'PTR')).length === 0 ? true : undefined,
    );
    await waitFor('the PTRRecord to be deleted', async () =>
      (await admin.get('PTRRecord', 'ptr')) === undefined ? true : undefined,
    );
  });

  it('makes a record created before its zone Ready once the zone appears', async () => {
    await admin.create('ARecord', 'early', {
      zone: 'later',
      name: 'early',
      ipv4Addresses: ['192.0.2.99'],
    });
    await waitReady(admin, 'ARecord', 'early', 'False', 'ZoneNotFound');
    await admin.create('DNSZone', 'later', zoneSpec('later.test', { matchLabels: { site: 'b' } }));
    await waitReady(admin, 'ARecord', 'early');
    assert.deepEqual(await dig(b, 'early.later.test', 'A'), ['192.0.2.99']);
  });

  it('gives Conflict to the younger of two resources for one RRset, and the RRset to it once the older goes', async () => {
    await admin.create('ARecord', 'first', {
      zone: 'later',
      name: 'dup',
      ipv4Addresses: ['192.0.2.10'],
    });
    await waitReady(admin, 'ARecord', 'first');
    await admin.create('ARecord', 'second', {
      zone: 'later',
      name: 'dup',
      ipv4Addresses: ['192.0.2.20'],
    });
    await waitReady(admin, 'ARecord', 'second', 'False', 'Conflict');
    assert.deepEqual(await dig(b, 'dup.later.test', 'A'), ['192.0.2.10']);
    await admin.remove('ARecord', 'first');
    await waitReady(admin, 'ARecord', 'second');
    await waitFor('the younger data', async () =>
      (await dig(b, 'dup.later.test', 'A')).join() === '192.0.2.20' ? true : undefined,
    );
  });

  it('marks records InstanceUnreachable while named is down and recovers on its own', async () => {
    await b.halt();
    await waitReady(admin, 'ARecord', 'early', 'False', 'InstanceUnreachable');
    await waitReady(admin, 'Bind9Instance', 'beta', 'False', 'InstanceUnreachable');
    await b.restart();
    await waitReady(admin, 'ARecord', 'early');
    await waitReady(admin, 'Bind9Instance', 'beta');
  });

  it('restores every zone and record within 10 s after named restarts with an empty data directory', async () => {
    await b.halt();
    await b.restart({ wipe: true });
    const started = Date.now();
    await waitFor(
      'the records to be served again',
      async () => {
        const early = await dig(b, 'early.later.test', 'A');
        const dup = await dig(b, 'dup.later.test', 'A');
        return early.join() === '192.0.2.99' && dup.join() === '192.0.2.20' ? true : undefined;
      },
      10_000,
    );
    assert.ok(Date.now() - started <= 10_000);
  });

  it('removes a deleted zone from named with delzone', async () => {
    await admin.remove('DNSZone', 'later');
    await waitFor('the zone to leave named', async () =>
      (await dig(b, 'later.test', 'SOA')).length === 0 ? true : undefined,
    );
    await waitFor('the DNSZone to be deleted', async () =>
      (await admin.get('DNSZone', 'later')) === undefined ? true : undefined,
    );
    await waitReady(admin, 'ARecord', 'second', 'False', 'ZoneNotFound');
  });
  it('moves a zone when its selector changes: added where now selected, removed where no longer', async () => {
    await admin.patchSpec('DNSZone', 'example', {
      instanceSelector: { matchExpressions: [{ key: 'site', operator: 'NotIn', values: ['a'] }] },
    });
    await waitFor('the zone and its records on beta', async () =>
      (await dig(b, 'www.example.test', 'A')).join() === '198.51.100.7' ? true : undefined,
    );
    await waitFor('the zone to leave alpha', async () =>
      (await dig(a, 'example.test', 'SOA')).length === 0 ? true : undefined,
    );
    const zone = await waitFor('status to list beta only', async () => {
      const z = await admin.get('DNSZone', 'example');
      return z?.status?.instances?.map((i) => i.name).join() === 'beta' ? z : undefined;
    });
    assert.equal(zone.status?.instances?.[0]?.present, true);
  });
  it('makes a record Ready only once it is on every primary the zone selects', async () => {
    await admin.create('DNSZone', 'both', zoneSpec('both.test', { matchLabels: { tier: 'gold' } }));
    await waitReady(admin, 'DNSZone', 'both');
    await a.halt();
    await admin.create('ARecord', 'pair', {
      zone: 'both',
      name: 'pair',
      ipv4Addresses: ['192.0.2.77'],
    });
    await waitFor('the record on the primary that is up', async () =>
      (await dig(b, 'pair.both.test', 'A')).join() === '192.0.2.77' ? true : undefined,
    );
    const down = await waitReady(admin, 'ARecord', 'pair', 'False', 'InstanceUnreachable');
    assert.match(down.message, /^alpha: /);
    await a.restart();
    await waitReady(admin, 'ARecord', 'pair');
    assert.deepEqual(await dig(a, 'pair.both.test', 'A'), ['192.0.2.77']);
  });
});
