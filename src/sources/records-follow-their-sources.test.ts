/**
 * Generated records, source reconcile and zone reconcile together, in memory (fixtures/
 * source-world.ts): what a Service, an Ingress or a route asks for ends up served, changes
 * with it, and goes with it, under the zones' permission and the one ownership rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceWorld } from '../../test/fixtures/source-world.ts';

const HOST = 'dns.bind9-controller.io/hostname';

function lbService(name: string, hostnames: string, ips: string[], namespace = 'ns') {
  return {
    metadata: { name, namespace, annotations: { [HOST]: hostnames } },
    spec: { type: 'LoadBalancer', clusterIP: '10.0.0.9' },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  };
}

function world(): SourceWorld {
  const w = new SourceWorld();
  w.addInstance('primary');
  w.addZone('example', 'example.com');
  w.addNamespace('ns');
  return w;
}

const events = (w: SourceWorld, name: string) =>
  w.events.events.filter((e) => e.name === name).map((e) => `${e.type} ${e.reason}: ${e.message}`);

describe('records generated from sources', () => {
  it('publishes a LoadBalancer Service as A and AAAA, follows its status, and withdraws it with its annotation', async () => {
    const w = world();
    w.put('Service', lbService('web', 'www.example.com', ['192.0.2.10', '2001:db8::10']));
    await w.run();
    assert.deepEqual(w.served('example.com', 'www.example.com', 'A'), ['192.0.2.10']);
    assert.deepEqual(w.served('example.com', 'www.example.com', 'AAAA'), ['2001:db8::10']);
    assert.deepEqual(w.generatedRecords(), ['AAAARecord ns/www', 'ARecord ns/www']);
    const published = events(w, 'web').filter((e) => e.includes('Published'));
    assert.equal(published.length, 2);
    assert.match(published[0] ?? '', /www\.example\.com A+ published in DNSZone ns\/example/);

    const writes = w.writes.length;
    w.put('Service', lbService('web', 'www.example.com', ['192.0.2.11', '2001:db8::10']));
    await w.run();
    assert.deepEqual(w.served('example.com', 'www.example.com', 'A'), ['192.0.2.11']);
    assert.deepEqual(w.writes.slice(writes), [`apply ARecord/ns/${nameOf(w, 'ARecord')}`]);

    w.put('Service', { ...lbService('web', '', ['192.0.2.11']), metadata: { name: 'web' } });
    await w.run();
    assert.deepEqual(w.served('example.com', 'www.example.com', 'A'), []);
    assert.deepEqual(w.generatedRecords(), []);
    assert.ok(
      events(w, 'web').some((e) => /Normal Withdrawn: www\.example\.com A withdrawn/.test(e)),
    );
  });

  it('removes the records of a deleted Service, and of one deleted while the controller was down', async () => {
    const w = world();
    w.put('Service', lbService('a', 'a.example.com', ['192.0.2.1']));
    w.put('Service', lbService('b', 'b.example.com', ['192.0.2.2']));
    await w.run();
    assert.deepEqual(w.generatedRecords(), ['ARecord ns/a', 'ARecord ns/b']);
    w.drop('Service', 'a');
    await w.run();
    assert.deepEqual(w.generatedRecords(), ['ARecord ns/b']);
    assert.deepEqual(w.served('example.com', 'a.example.com', 'A'), []);

    // Down: b goes and no event reaches anyone; the new process finds b's record by label.
    w.sources.get('Service')?.objects.delete('ns/b');
    w.restart();
    const writes = w.writes.length;
    await w.run();
    assert.deepEqual(w.generatedRecords(), []);
    assert.deepEqual(w.served('example.com', 'b.example.com', 'A'), []);
    assert.equal(w.writes.slice(writes).filter((x) => x.startsWith('apply')).length, 0);
  });

  it('says so on the source when no zone covers a name, and writes nothing for it', async () => {
    const w = world();
    w.put('Service', lbService('web', 'www.example.com,www.elsewhere.org', ['192.0.2.10']));
    await w.run();
    assert.deepEqual(w.generatedRecords(), ['ARecord ns/www']);
    const warnings = events(w, 'web').filter((e) => e.startsWith('Warning NoAllowedZone'));
    assert.equal(warnings.length, 1, 'once, not on every round');
    assert.match(warnings[0] ?? '', /www\.elsewhere\.org is in no DNSZone/);
  });

  it("publishes into another namespace's zone only once that zone lets the namespace publish, without a restart", async () => {
    const w = world();
    w.addInstance('dns-primary', 'dns');
    w.addZone(
      'shared',
      'shared.test',
      { publish: { namespaceSelector: { matchLabels: { team: 'b' } } } },
      'dns',
    );
    w.addNamespace('team-a', { team: 'a' });
    w.put('Service', lbService('web', 'web.shared.test', ['192.0.2.7'], 'team-a'));
    await w.run();
    assert.deepEqual(w.generatedRecords(), []);
    assert.match(
      events(w, 'web').join('\n'),
      /web\.shared\.test is in no DNSZone that lets namespace team-a publish.*shared\.test \(DNSZone dns\/shared\)/,
    );

    w.patchSpec(
      'dnszones',
      'shared',
      { publish: { namespaceSelector: { matchLabels: { team: 'a' } } } },
      'dns',
    );
    w.touched('DNSZone', w.zones.get('dns', 'shared'));
    await w.run();
    assert.deepEqual(w.generatedRecords(), ['ARecord dns/web']);
    assert.deepEqual(w.served('shared.test', 'web.shared.test', 'A', 'dns/dns-primary'), [
      '192.0.2.7',
    ]);
    const record = w.records.get('ARecord')?.list('dns')[0];
    assert.equal(record?.metadata.labels?.['dns.bind9-controller.io/source-namespace'], 'team-a');
    assert.equal(
      (record?.metadata as { ownerReferences?: unknown } | undefined)?.ownerReferences,
      undefined,
      'no owner across namespaces',
    );

    // The leave taken back: withdrawn.
    w.patchSpec(
      'dnszones',
      'shared',
      { publish: { namespaceSelector: { matchLabels: { team: 'b' } } } },
      'dns',
    );
    w.touched('DNSZone', w.zones.get('dns', 'shared'));
    await w.run();
    assert.deepEqual(w.generatedRecords(), []);
    assert.deepEqual(w.served('shared.test', 'web.shared.test', 'A', 'dns/dns-primary'), []);
    assert.match(events(w, 'web').join('\n'), /withdrawn .*may no longer publish it there/);
  });

  it('leaves an older hand-written record its RRset, names it on the Service, and takes over once it goes', async () => {
    const w = world();
    w.addA('www', 'example', 'www', ['198.51.100.1']);
    await w.run();
    w.clock.advance(1000);
    w.put('Service', lbService('web', 'www.example.com', ['192.0.2.10']));
    await w.run();
    assert.deepEqual(w.served('example.com', 'www.example.com', 'A'), ['198.51.100.1']);
    const generated = nameOf(w, 'ARecord');
    assert.equal(w.ready(generated), 'False Conflict');
    assert.match(
      events(w, 'web').join('\n'),
      /Warning Conflict: www\.example\.com A not published .*already declared by ARecord\/ns\/www/,
    );

    w.remove('arecords', 'www');
    await w.run();
    assert.deepEqual(w.served('example.com', 'www.example.com', 'A'), ['192.0.2.10']);
    assert.equal(w.ready(generated), 'True Synced');
    assert.match(events(w, 'web').join('\n'), /Normal Published: www\.example\.com A published/);
  });

  it('names the Service another generated record came from, when two Services ask for one name', async () => {
    const w = world();
    w.put('Service', lbService('first', 'www.example.com', ['192.0.2.1']));
    await w.run();
    w.clock.advance(1000);
    w.put('Service', lbService('second', 'www.example.com', ['192.0.2.2']));
    await w.run();
    assert.deepEqual(w.served('example.com', 'www.example.com', 'A'), ['192.0.2.1']);
    assert.match(events(w, 'second').join('\n'), /Conflict.*\(generated from Service ns\/first\)/);
  });

  it('publishes each host of an Ingress in the zone that covers it, the longest suffix first', async () => {
    const w = world();
    w.addZone('sub', 'sub.example.com');
    w.addZone('other', 'other.test');
    w.put('Ingress', {
      metadata: { name: 'shop' },
      spec: { rules: [{ host: 'shop.sub.example.com' }, { host: 'shop.other.test' }] },
      status: { loadBalancer: { ingress: [{ hostname: 'lb.cloud.example.net' }] } },
    });
    await w.run();
    assert.deepEqual(w.served('sub.example.com', 'shop.sub.example.com', 'CNAME'), [
      'lb.cloud.example.net',
    ]);
    assert.deepEqual(w.served('other.test', 'shop.other.test', 'CNAME'), ['lb.cloud.example.net']);
    assert.deepEqual(w.served('example.com', 'shop.sub.example.com', 'CNAME'), []);
  });

  it("publishes an HTTPRoute's hostnames at its Gateway's addresses once the Gateway accepted it", async () => {
    const w = world();
    w.put('Gateway', {
      metadata: { name: 'gw' },
      spec: { listeners: [{ name: 'web', hostname: '*.example.com' }] },
      status: { addresses: [{ type: 'IPAddress', value: '192.0.2.80' }] },
    });
    const route = {
      metadata: { name: 'app' },
      spec: { hostnames: ['app.example.com', 'app.elsewhere.org'], parentRefs: [{ name: 'gw' }] },
    };
    w.put('HTTPRoute', route);
    await w.run();
    assert.deepEqual(w.generatedRecords(), [], 'not accepted yet');
    const accepted = {
      parents: [{ parentRef: { name: 'gw' }, conditions: [{ type: 'Accepted', status: 'True' }] }],
    };
    w.put('HTTPRoute', { ...route, status: accepted });
    await w.run();
    assert.deepEqual(w.served('example.com', 'app.example.com', 'A'), ['192.0.2.80']);
    assert.deepEqual(
      w.generatedRecords(),
      ['ARecord ns/app'],
      'the listener takes only *.example.com',
    );

    w.put('Gateway', {
      metadata: { name: 'gw' },
      spec: { listeners: [{ name: 'web', hostname: '*.example.com' }] },
      status: { addresses: [{ type: 'IPAddress', value: '192.0.2.81' }] },
    });
    await w.run();
    assert.deepEqual(w.served('example.com', 'app.example.com', 'A'), ['192.0.2.81']);
  });
});

function nameOf(w: SourceWorld, kind: 'ARecord' | 'AAAARecord'): string {
  const r = w.records
    .get(kind)
    ?.list()
    .find((x) => x.metadata.labels?.['app.kubernetes.io/managed-by']);
  return r?.metadata.name ?? '';
}
