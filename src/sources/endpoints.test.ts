import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/client.ts';
import { readAnnotations } from './annotations.ts';
import { type EndpointOptions, endpointsOf, intersect } from './endpoints.ts';

const OURS = 'dns.bind9-controller.io/';
const THEIRS = 'external-dns.alpha.kubernetes.io/';

function obj(
  kind: string,
  body: { annotations?: Record<string, string>; spec?: unknown; status?: unknown },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind,
    metadata: {
      name: 'x',
      namespace: 'ns',
      ...(body.annotations ? { annotations: body.annotations } : {}),
    },
    spec: body.spec ?? {},
    ...(body.status === undefined ? {} : { status: body.status }),
  };
}

const options = (
  gateways: Record<string, KubeObject> = {},
  externalDns = false,
): EndpointOptions => ({
  externalDns,
  gateways: { gateway: (ns, name) => gateways[`${ns}/${name}`] },
});

const lb = (...entries: object[]) => ({ loadBalancer: { ingress: entries } });

const show = (kind: string, o: KubeObject, opts = options()) =>
  endpointsOf(kind as never, o, opts).endpoints.map(
    (e) =>
      `${e.hostname} ${[...e.targets.ipv4, ...e.targets.ipv6, ...e.targets.hosts].join(',')}${e.ttl === undefined ? '' : ` ttl=${e.ttl}`}`,
  );

describe('annotations', () => {
  it("reads ours, and external-dns's only when asked, ours winning where both are set", () => {
    const a = { [`${THEIRS}hostname`]: 'old.example.com', [`${THEIRS}ttl`]: '60' };
    assert.deepEqual(readAnnotations(a, false).annotations.hostnames, []);
    assert.deepEqual(readAnnotations(a, true).annotations.hostnames, ['old.example.com']);
    const both = { ...a, [`${OURS}hostname`]: 'New.Example.com., b.example.com' };
    const read = readAnnotations(both, true).annotations;
    assert.deepEqual(read.hostnames, ['b.example.com', 'new.example.com']);
    assert.equal(read.ttl, 60);
  });

  it('takes a TTL in seconds or as a duration, and names the annotation of a bad value', () => {
    assert.equal(readAnnotations({ [`${OURS}ttl`]: '1m30s' }, false).annotations.ttl, 90);
    assert.equal(readAnnotations({ [`${OURS}ttl`]: '300' }, false).annotations.ttl, 300);
    const bad = readAnnotations(
      {
        [`${OURS}ttl`]: 'soon',
        [`${OURS}hostname`]: 'ok.example.com,bad..name',
        [`${OURS}target`]: '10.0.0.256',
      },
      false,
    );
    assert.equal(bad.annotations.ttl, undefined);
    assert.deepEqual(bad.annotations.hostnames, ['ok.example.com']);
    assert.deepEqual(bad.problems.map((p) => `${p.reason} ${p.field}`).sort(), [
      `InvalidAnnotation metadata.annotations['${OURS}hostname']`,
      `InvalidAnnotation metadata.annotations['${OURS}target']`,
      `InvalidAnnotation metadata.annotations['${OURS}ttl']`,
    ]);
  });
});

describe('what a source asks to publish', () => {
  it("publishes a LoadBalancer Service's status and external IPs, and a ClusterIP only under internal-hostname", () => {
    const svc = obj('Service', {
      annotations: {
        [`${OURS}hostname`]: 'www.example.com',
        [`${OURS}internal-hostname`]: 'web.internal.example.com',
      },
      spec: { type: 'LoadBalancer', clusterIPs: ['10.0.0.5'], externalIPs: ['198.51.100.5'] },
      status: lb({ ip: '192.0.2.1' }, { ip: '2001:DB8::0:1' }),
    });
    assert.deepEqual(show('Service', svc), [
      'web.internal.example.com 10.0.0.5',
      'www.example.com 192.0.2.1,198.51.100.5,2001:db8::1',
    ]);
    const clusterIp = obj('Service', {
      annotations: { [`${OURS}hostname`]: 'www.example.com' },
      spec: { type: 'ClusterIP', clusterIP: '10.0.0.5' },
    });
    assert.deepEqual(show('Service', clusterIp), [], 'a ClusterIP is not published unless asked');
    const headless = obj('Service', {
      annotations: { [`${OURS}internal-hostname`]: 'db.example.com' },
      spec: { clusterIP: 'None' },
    });
    assert.deepEqual(show('Service', headless), []);
  });

  it('lets the target annotation replace the addresses, and keeps a CNAME alone at its name', () => {
    const svc = (target: string) =>
      obj('Service', {
        annotations: {
          [`${OURS}hostname`]: 'www.example.com',
          [`${OURS}target`]: target,
          [`${OURS}ttl`]: '60',
        },
        spec: { type: 'LoadBalancer' },
        status: lb({ ip: '192.0.2.1' }),
      });
    assert.deepEqual(show('Service', svc('203.0.113.9')), ['www.example.com 203.0.113.9 ttl=60']);
    assert.deepEqual(show('Service', svc('edge.example.net.')), [
      'www.example.com edge.example.net ttl=60',
    ]);
    const mixed = endpointsOf('Service', svc('203.0.113.9,edge.example.net'), options());
    assert.deepEqual(
      mixed.endpoints.map((e) => e.targets.hosts),
      [[]],
    );
    assert.equal(mixed.problems[0]?.reason, 'TargetLeftOut');
    const two = endpointsOf('Service', svc('b.example.net,a.example.net'), options());
    assert.deepEqual(
      two.endpoints.map((e) => e.targets.hosts),
      [['a.example.net']],
    );
  });

  it("publishes an Ingress's rule hosts, or the annotation's names instead", () => {
    const ing = (annotations?: Record<string, string>) =>
      obj('Ingress', {
        ...(annotations ? { annotations } : {}),
        spec: { rules: [{ host: 'a.example.com' }, { host: '*.b.example.com' }, {}] },
        status: lb({ hostname: 'lb.example.net' }),
      });
    assert.deepEqual(show('Ingress', ing()), [
      '*.b.example.com lb.example.net',
      'a.example.com lb.example.net',
    ]);
    assert.deepEqual(show('Ingress', ing({ [`${OURS}hostname`]: 'c.example.com' })), [
      'c.example.com lb.example.net',
    ]);
    assert.deepEqual(
      show('Ingress', obj('Ingress', { spec: { rules: [{ host: 'a.example.com' }] } })),
      [],
      'no address yet',
    );
  });

  it('intersects route and listener hostnames as the Gateway API defines', () => {
    assert.equal(intersect('a.example.com', undefined), 'a.example.com');
    assert.equal(intersect('a.example.com', '*.example.com'), 'a.example.com');
    assert.equal(intersect('a.b.example.com', '*.example.com'), 'a.b.example.com');
    assert.equal(intersect('*.example.com', 'a.example.com'), 'a.example.com');
    assert.equal(intersect('example.com', '*.example.com'), undefined);
    assert.equal(intersect('a.example.com', 'b.example.com'), undefined);
  });

  it('publishes a route only through the listeners of Gateways that accepted it', () => {
    const gw = obj('Gateway', {
      spec: { listeners: [{ name: 'public', hostname: '*.example.com' }, { name: 'any' }] },
      status: {
        addresses: [
          { value: '192.0.2.80' },
          { type: 'Hostname', value: 'gw.example.net' },
          { type: 'NamedAddress', value: 'x' },
        ],
      },
    });
    const gateways = { 'infra/gw': gw };
    const route = (
      sectionName: string | undefined,
      accepted: boolean,
      hostnames = ['a.example.com', 'a.other.org'],
    ) => {
      const ref = { name: 'gw', namespace: 'infra', ...(sectionName ? { sectionName } : {}) };
      return obj('HTTPRoute', {
        spec: { hostnames, parentRefs: [ref] },
        status: {
          parents: [
            {
              parentRef: ref,
              conditions: [{ type: 'Accepted', status: accepted ? 'True' : 'False' }],
            },
          ],
        },
      });
    };
    const opts = options(gateways);
    assert.deepEqual(show('HTTPRoute', route('public', false), opts), []);
    // Addresses and a host name: the CNAME is left out.
    assert.deepEqual(show('HTTPRoute', route('public', true), opts), ['a.example.com 192.0.2.80']);
    assert.deepEqual(show('HTTPRoute', route('any', true), opts), [
      'a.example.com 192.0.2.80',
      'a.other.org 192.0.2.80',
    ]);
    // No hostnames of its own: the route takes what its listener takes.
    assert.deepEqual(show('HTTPRoute', route('public', true, []), opts), [
      '*.example.com 192.0.2.80',
    ]);
    assert.deepEqual(show('HTTPRoute', route('any', true, []), opts), []);
  });
});
