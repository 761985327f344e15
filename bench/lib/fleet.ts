/**
 * What every controller scenario stands on: the real kube-apiserver (shared with the other
 * scenarios when bench/all.ts started one), the controller's RBAC-bound user, a fresh
 * namespace, a real named with its Bind9Instance, and helpers to create resources quickly,
 * watch them turn Ready and see named answer them.
 */
import { performance } from 'node:perf_hooks';
import { CustomObjectsApi, type KubernetesObject, makeInformer } from '@kubernetes/client-node';
import { RESOURCE_KINDS } from '../../src/api/kinds.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { KubeRest } from '../../src/kube/rest.ts';
import { type Cluster, useCluster } from '../../test/harness/cluster.ts';
import { type NamedServer, startNamed } from '../../test/harness/named.ts';
import { Admin, clusterWithRbac, zoneSpec } from '../../test/integration/controller-helpers.ts';
import { log } from './report.ts';

export const GROUP = 'dns.bind9-controller.io';
export const VERSION = 'v1alpha1';

export interface Fleet {
  readonly cluster: Cluster;
  /** Kubeconfig of the user bound only to deploy/'s ClusterRole: the controller's. */
  readonly controllerKubeconfig: string;
  readonly admin: Admin;
  readonly named: NamedServer;
  readonly namespace: string;
  readonly dns: DnsClient;
  /** Stops named and the DNS client; the cluster stays for the next fleet (see stopCluster). */
  stop(): Promise<void>;
}

/** Stops the cluster this process started (a no-op when attached to bench/all.ts's). */
export async function stopCluster(): Promise<void> {
  await (await useCluster()).stop();
}

/**
 * Right after CRDs are installed the API server answers 429 "storage is (re)initializing"
 * for a moment; a controller started then loses its first watch. Wait that out, so no
 * scenario measures it.
 */
async function waitServed(cluster: Cluster, namespace: string): Promise<void> {
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const plurals = Object.values(RESOURCE_KINDS as Readonly<Record<string, { plural: string }>>);
  for (const { plural } of plurals) {
    for (let attempt = 0; ; attempt++) {
      try {
        await custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural,
        });
        break;
      } catch (error) {
        if (attempt >= 60) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}

export async function startFleet(prefix: string, withInstance = true): Promise<Fleet> {
  const { cluster, kubeconfigPath } = await clusterWithRbac();
  const namespace = await cluster.createNamespace(prefix);
  await waitServed(cluster, namespace);
  const admin = new Admin(cluster, namespace);
  const named = await startNamed();
  if (withInstance) await admin.instance('bench', named, { role: 'primary' });
  const dns = new DnsClient({ timeoutMs: 10_000 });
  return {
    cluster,
    controllerKubeconfig: kubeconfigPath,
    admin,
    named,
    namespace,
    dns,
    async stop() {
      await dns.close();
      await named.stop();
    },
  };
}

export const zoneName = (z: number) => `z${String(z).padStart(3, '0')}.bench.test`;
export const zoneResource = (z: number) => `z${String(z).padStart(3, '0')}`;
/** A distinct address per (zone, host), and a second one for updates. */
export const address = (z: number, i: number, generation = 0) =>
  `10.${generation * 64 + (z & 63)}.${(i >> 8) & 255}.${i & 255}`;

/**
 * ms from `from` until `name` A is exactly `want` on named (our own UDP query, polled every
 * ~1 ms), or NaN after `boundMs`.
 */
export async function visibleAfter(
  fleet: Fleet,
  name: string,
  want: string,
  from: number,
  boundMs = 10_000,
): Promise<number> {
  const server = { address: fleet.named.address, port: fleet.named.dnsPort };
  while (performance.now() - from < boundMs) {
    const rrset = await fleet.dns.query(server, name, 'A').catch(() => undefined);
    const got = rrset?.type === 'A' ? rrset.rdata.map((d) => d.address) : [];
    if (got.length === 1 && got[0] === want) return performance.now() - from;
    await new Promise((r) => setTimeout(r, 1));
  }
  return Number.NaN;
}

export function zoneSpecFor(z: number) {
  return zoneSpec(zoneName(z), {});
}

export interface Creation {
  readonly kind: string;
  readonly name: string;
  readonly spec: unknown;
}

/** What creates the objects: the test Admin (client-node), or a KeepAliveCreator. */
export interface Creator {
  create(kind: string, name: string, spec: unknown): Promise<unknown>;
}

/**
 * Creates objects in one namespace as the admin, over one pool of keep-alive connections
 * (as kubectl or a GitOps tool applying a large change does). The Admin's client-node
 * client opens a new TLS connection for every request (KUBERNETES.md): a thousand creates
 * would cost the API server a thousand TLS handshakes that no controller causes.
 */
export class KeepAliveCreator implements Creator {
  readonly #rest: KubeRest;
  readonly #namespace: string;

  private constructor(rest: KubeRest, namespace: string) {
    this.#rest = rest;
    this.#namespace = namespace;
  }

  static async connect(cluster: Cluster, namespace: string): Promise<KeepAliveCreator> {
    const rest = await KubeRest.connect({ path: cluster.kubeconfigPath }, { maxSockets: 32 });
    return new KeepAliveCreator(rest, namespace);
  }

  async create(kind: string, name: string, spec: unknown): Promise<void> {
    const plural = `${kind.toLowerCase()}s`;
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${this.#namespace}/${plural}`;
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec };
    await this.#rest.request('POST', path, { body });
  }

  close(): void {
    this.#rest.close();
  }
}

function retryable(error: unknown): boolean {
  // client-node's ApiException has the status as `code`; KubeRest's errors as `status`.
  const e = error as { code?: unknown; status?: unknown };
  const status = typeof e.code === 'number' ? e.code : e.status;
  return typeof status !== 'number' || status === 429 || status >= 500;
}

/**
 * Creates every object with `concurrency` calls in flight: as fast as the API server
 * accepts. Throttled or failed calls are retried a bounded number of times.
 */
export async function createAll(
  admin: Creator,
  items: readonly Creation[],
  concurrency: number,
): Promise<{ startedAt: number; doneAt: number; retries: number }> {
  let next = 0;
  let retries = 0;
  const startedAt = performance.now();
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.create(item.kind, item.name, item.spec);
          break;
        } catch (error) {
          if (attempt >= 5 || !retryable(error)) throw error;
          retries++;
          await new Promise((r) => setTimeout(r, 100 * attempt));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { startedAt, doneAt: performance.now(), retries };
}

interface Conditioned extends KubernetesObject {
  metadata: { name: string; generation?: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

function isReady(obj: Conditioned): boolean {
  const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && obj.status?.observedGeneration === obj.metadata.generation;
}

/**
 * Watches one kind in the namespace (list + watch, like the controller does) and notes
 * when each object first reads Ready=True for its current generation.
 */
export class ReadyWatch {
  readonly #readyAt = new Map<string, number>();
  readonly #informer: ReturnType<typeof makeInformer<Conditioned>>;
  #waiters: (() => void)[] = [];
  #stopped = false;

  constructor(fleet: Fleet, plural: string) {
    const kc = fleet.cluster.kubeConfig;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${fleet.namespace}/${plural}`;
    const list = async () =>
      (await custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: fleet.namespace,
        plural,
      })) as { items: Conditioned[] };
    this.#informer = makeInformer<Conditioned>(kc, path, list);
    const seen = (obj: Conditioned) => {
      const name = obj.metadata.name;
      if (isReady(obj)) {
        if (!this.#readyAt.has(name)) this.#readyAt.set(name, performance.now());
      } else this.#readyAt.delete(name);
      for (const wake of this.#waiters.splice(0)) wake();
    };
    this.#informer.on('add', seen);
    this.#informer.on('update', seen);
    this.#informer.on('error', (error) => {
      if (this.#stopped) return;
      log(`ready watch on ${plural} failed (${String(error)}); restarting`);
      setTimeout(() => void this.#informer.start().catch(() => undefined), 500);
    });
  }

  start(): Promise<void> {
    return this.#informer.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#informer.stop();
  }

  /** Forgets earlier Ready marks (before an update, whose new generation is not Ready yet). */
  forget(name: string): void {
    this.#readyAt.delete(name);
  }

  readyCount(names: readonly string[]): number {
    return names.filter((n) => this.#readyAt.has(n)).length;
  }

  /** When the last of `names` turned Ready (performance.now() time), or undefined at timeout. */
  async allReady(names: readonly string[], timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (names.every((n) => this.#readyAt.has(n)))
        return Math.max(...names.map((n) => this.#readyAt.get(n)!));
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }
}

/** Host name → expected address, per zone (absolute names, as DnsClient returns them). */
export type Expected = Map<string, Map<string, string>>;

/**
 * Polls named until every zone holds exactly the expected A records: a cheap SOA query per
 * pending zone, and a signed AXFR only when its serial moved since the last look. Returns
 * the performance.now() time at which the transfer that completed the last zone started
 * (an upper bound of when it was all answered; resolution: one polling round).
 */
export async function allAnswered(
  fleet: Fleet,
  expected: Expected,
  timeoutMs: number,
  pauseMs = 20,
): Promise<number | undefined> {
  const server = { address: fleet.named.address, port: fleet.named.dnsPort };
  const pending = new Set(expected.keys());
  const checkedSerial = new Map<string, number>();
  const deadline = performance.now() + timeoutMs;
  let last = Number.NaN;
  while (pending.size > 0) {
    if (performance.now() > deadline) {
      log(`not answered in full after ${timeoutMs} ms: ${[...pending].slice(0, 20).join(', ')}`);
      return undefined;
    }
    for (const zone of [...pending]) {
      const soa = await fleet.dns.querySoa(server, zone).catch(() => undefined);
      const serial = soa?.rdata[0]?.serial;
      if (serial === undefined || checkedSerial.get(zone) === serial) continue;
      const started = performance.now();
      const rrsets = await fleet.dns.axfr(server, fleet.named.tsigKey, zone).catch(() => []);
      const soaNow = rrsets.find((r) => r.type === 'SOA');
      checkedSerial.set(zone, soaNow?.type === 'SOA' ? (soaNow.rdata[0]?.serial ?? -1) : -1);
      if (holdsExactly(rrsets, expected.get(zone)!)) {
        pending.delete(zone);
        last = started;
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
  return last;
}

function holdsExactly(
  rrsets: Awaited<ReturnType<DnsClient['axfr']>>,
  want: ReadonlyMap<string, string>,
): boolean {
  let found = 0;
  for (const r of rrsets) {
    if (r.type !== 'A' || !want.has(r.name)) continue;
    const got = r.rdata.map((d) => d.address);
    if (got.length !== 1 || got[0] !== want.get(r.name)) return false;
    found++;
  }
  return found === want.size;
}

/** Creates `zones` DNSZones and waits until each reads Ready; returns the ms it took. */
export async function provisionZones(
  fleet: Fleet,
  zones: readonly number[],
  timeoutMs: number,
): Promise<number> {
  const watch = new ReadyWatch(fleet, 'dnszones');
  await watch.start();
  try {
    const items = zones.map((z) => ({
      kind: 'DNSZone',
      name: zoneResource(z),
      spec: zoneSpecFor(z),
    }));
    const { startedAt } = await createAll(fleet.admin, items, 16);
    const at = await watch.allReady(zones.map(zoneResource), timeoutMs);
    if (at === undefined) throw new Error(`zones not Ready within ${timeoutMs} ms`);
    return at - startedAt;
  } finally {
    await watch.stop();
  }
}

/** The records of `zones` × `perZone` A records, and what named should then answer. */
export function recordSet(
  zones: readonly number[],
  perZone: number,
): { items: Creation[]; expected: Expected; names: string[] } {
  const items: Creation[] = [];
  const expected: Expected = new Map();
  for (const z of zones) {
    const want = new Map<string, string>();
    for (let i = 0; i < perZone; i++) {
      const name = `${zoneResource(z)}-h${i}`;
      items.push({
        kind: 'ARecord',
        name,
        spec: { zone: zoneResource(z), name: `h${i}`, ipv4Addresses: [address(z, i)] },
      });
      want.set(`h${i}.${zoneName(z)}`, address(z, i));
    }
    expected.set(zoneName(z), want);
  }
  // Interleave zones, as independent teams' changes would arrive.
  items.sort((a, b) => recordIndex(a.name) - recordIndex(b.name) || a.name.localeCompare(b.name));
  return { items, expected, names: items.map((i) => i.name) };
}

function recordIndex(name: string): number {
  return Number(name.slice(name.lastIndexOf('h') + 1));
}

export const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
