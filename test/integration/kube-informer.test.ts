/**
 * ResilientInformer on our REST client against the real kube-apiserver: list then watch,
 * resume after the server ends a watch, and relist on 410 Gone with the differences
 * reported as events (the server's own 410, provoked by watching from version 1).
 *
 *     node --test test/integration/kube-informer.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Kube, type KubeObject } from '../../src/kube/client.ts';
import { systemClock } from '../../src/kube/clock.ts';
import { type ChangeType, ResilientInformer } from '../../src/kube/informer.ts';
import type { WatchEvent, WatchOptions } from '../../src/kube/watch.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';

const API = 'dns.bind9-controller.io/v1alpha1';

/** The real client, counting lists and watches, and able to hold back its first watch. */
class ProbedKube extends Kube {
  lists = 0;
  watches = 0;
  /** When set, the first watch waits for it, then asks for version 1 (long compacted). */
  firstWatchGate: Promise<void> | undefined;

  override list<T extends KubeObject>(plural: string, namespace?: string) {
    this.lists++;
    return super.list<T>(plural, namespace);
  }

  override watch<T extends KubeObject>(
    plural: string,
    namespace: string | undefined,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    this.watches++;
    const gate = this.watches === 1 ? this.firstWatchGate : undefined;
    if (gate === undefined) return super.watch<T>(plural, namespace, options);
    const from = (o: WatchOptions) => super.watch<T>(plural, namespace, o);
    return (async function* () {
      await gate;
      yield* from({ ...options, resourceVersion: '1' });
    })();
  }
}

function record(name: string, address: string) {
  return {
    apiVersion: API,
    kind: 'ARecord',
    metadata: { name },
    spec: { zone: 'example', name, ipv4Addresses: [address] },
  };
}

/** Polls `check` for up to 60 s (generous: it costs only as long as the condition takes). */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let cluster: Cluster;
let kube: ProbedKube;
let ns: string;
const logs: string[] = [];
const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });

const path = (name?: string) =>
  `/apis/${API}/namespaces/${ns}/arecords${name === undefined ? '' : `/${name}`}`;

/**
 * Deletes a record at once: the admission policy put the controller's finalizer on it at
 * creation, and no controller runs here to take it off.
 */
async function remove(name: string): Promise<void> {
  const body = { metadata: { finalizers: null } };
  await kube.rest.request('PATCH', path(name), { body, contentType: 'merge-patch' });
  await kube.rest.request('DELETE', path(name));
}

before(async () => {
  cluster = await useCluster();
  ns = await cluster.createNamespace('kube-informer');
  const base = await Kube.connect({ kubeconfig: cluster.kubeconfigPath });
  kube = new ProbedKube(base.rest);
});
after(async () => {
  kube?.close();
  await cluster?.stop();
});

function informer(events: [ChangeType, string, string][], watchTimeoutSeconds?: number) {
  return new ResilientInformer<KubeObject<{ ipv4Addresses: string[] }>>({
    kube,
    plural: 'arecords',
    namespace: ns,
    clock: systemClock,
    log,
    onChange: (type, obj) =>
      events.push([type, obj.metadata.name, obj.spec.ipv4Addresses.join(',')]),
    ...(watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds }),
  });
}

describe('ResilientInformer against the real API server', () => {
  it('relists on 410 Gone and reports what changed meanwhile as delete, update and add', async () => {
    const rest = kube.rest;
    await rest.request('POST', path(), { body: record('gone', '192.0.2.1') });
    await rest.request('POST', path(), { body: record('kept', '192.0.2.2') });
    let open: () => void = () => {};
    kube.lists = 0;
    kube.watches = 0;
    kube.firstWatchGate = new Promise((r) => {
      open = r;
    });
    const events: [ChangeType, string, string][] = [];
    const inf = informer(events);
    const started = inf.start();
    try {
      await until('first list', () => inf.synced);
      assert.deepEqual(events.map(([t, n]) => `${t} ${n}`).sort(), ['add gone', 'add kept']);
      events.length = 0;
      await remove('gone');
      await rest.request('PATCH', path('kept'), {
        body: { spec: { ipv4Addresses: ['198.51.100.2'] } },
        contentType: 'merge-patch',
      });
      await rest.request('POST', path(), { body: record('new', '192.0.2.3') });
      open();
      await started;
      await until('relist', () => events.length >= 3);
      assert.equal(kube.lists, 2, 'one list, then one relist after 410');
      assert.deepEqual(events.sort(), [
        ['add', 'new', '192.0.2.3'],
        ['delete', 'gone', '192.0.2.1'],
        ['update', 'kept', '198.51.100.2'],
      ]);
      assert.deepEqual(
        inf
          .list(ns)
          .map((o) => o.metadata.name)
          .sort(),
        ['kept', 'new'],
      );
      assert.equal(inf.get(ns, 'gone'), undefined);
      assert.ok(
        logs.some((l) => l.includes('410 Gone')),
        'the relist is logged',
      );
      // The watch after the relist works: a change now arrives as an event.
      await remove('new');
      await until('delete event', () => events.some(([t, n]) => t === 'delete' && n === 'new'));
    } finally {
      await inf.stop();
      kube.firstWatchGate = undefined;
    }
  });

  it('resumes from the last version when the server ends a watch, losing nothing', async () => {
    kube.lists = 0;
    kube.watches = 0;
    const events: [ChangeType, string, string][] = [];
    const inf = informer(events, 1);
    await inf.start();
    try {
      await until('a second watch', () => kube.watches >= 2);
      await kube.rest.request('POST', path(), { body: record('late', '203.0.113.9') });
      await until('the event', () => events.some(([t, n]) => t === 'add' && n === 'late'));
      assert.equal(kube.lists, 1, 'a watch that timed out is resumed, not relisted');
      assert.equal(inf.get(ns, 'late')?.spec.ipv4Addresses[0], '203.0.113.9');
    } finally {
      await inf.stop();
    }
  });

  it('caches listed objects without their managedFields', async () => {
    const inf = informer([]);
    await inf.start();
    try {
      const cached = inf.get(ns, 'kept');
      assert.ok(cached, 'listed');
      const raw = await kube.rest.request<KubeObject>('GET', path('kept'));
      assert.ok(
        (raw.metadata as { managedFields?: unknown }).managedFields,
        'the server sends them',
      );
      assert.equal((cached.metadata as { managedFields?: unknown }).managedFields, undefined);
    } finally {
      await inf.stop();
    }
  });
});
