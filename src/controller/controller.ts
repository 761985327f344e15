/**
 * The controller: informers → keyed work queue → reconcilers, plus the per-instance health
 * poll, leader election, health/metrics endpoints and a clean stop.
 *
 * Event handlers only map objects to keys (STYLE.md habit 6); reconcilers read the caches.
 */
import type { Logger } from 'pino';
import { objectId, parseObjectId, resourceKey } from '../api/ids.ts';
import type { Bind9Instance, DNSZone, RecordResource } from '../api/kinds.ts';
import type { ZoneBackend } from '../bind/backend.ts';
import { BindBackend } from '../bind/bind-backend.ts';
import { EnsuredCache } from '../bind/ensured.ts';
import { confinedDirectoryStore } from '../bind/files.ts';
import { KeyRefusals } from '../bind/refusals.ts';
import { ServedSerials } from '../bind/served.ts';
import { isRenderedBaseFile } from '../bind/zone-file.ts';
import { DnsClient } from '../dns/client.ts';
import { normalizeName } from '../dns/rrset.ts';
import type { Kube, KubeObject } from '../kube/client.ts';
import { type Clock, systemClock, type TimerHandle } from '../kube/clock.ts';
import { configMapStore } from '../kube/configmap-store.ts';
import { KubeEventRecorder } from '../kube/events.ts';
import type { ChangeType } from '../kube/informer.ts';
import { LeaderElector } from '../kube/lease.ts';
import { SecretKeyCache } from '../kube/secrets.ts';
import type { ReconcileContext } from '../reconcilers/context.ts';
import { type HealthState, isUnreachable } from '../reconcilers/health.ts';
import {
  type Probe,
  probeInstance,
  reconcileInstance,
  writeInstanceStatus,
} from '../reconcilers/instance.ts';
import type { Outcome } from '../reconcilers/outcome.ts';
import { Ownership } from '../reconcilers/ownership.ts';
import { reasonFor } from '../reconcilers/reasons.ts';
import { selectorMatches } from '../reconcilers/selector.ts';
import { StatusMemory } from '../reconcilers/status-memory.ts';
import { resolveTarget } from '../reconcilers/target.ts';
import { reconcileZone } from '../reconcilers/zone.ts';
import { ClusterWiring } from './clusters.ts';
import type { ControllerConfig } from './config.ts';
import { type HealthServer, startHealthServer } from './health.ts';
import { instanceKey, keysFor, parseKey, type Seen, zoneKey } from './keys.ts';
import { Metrics } from './metrics.ts';
import { type RunCause, WorkQueue } from './queue.ts';
import { wakesReconcile, watchedState } from './relevance.ts';
import { SourceWiring, sourceInformers } from './sources.ts';
import { type Informers, makeInformers } from './stores.ts';

export interface ControllerOptions {
  readonly kube: Kube;
  readonly config: ControllerConfig;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Default: the real BIND9 backend over a DnsClient of our own. */
  readonly backend?: ZoneBackend;
  readonly metrics?: Metrics;
  /** Called when the process must stop (leadership lost). Default: nothing. */
  readonly onFatal?: (why: string) => void;
}

interface PolledHealth {
  up: boolean;
  bootTime?: string;
  zoneCount?: number;
  /** Why it is down: the probe's error, or the one a reconcile met (health.ts). */
  error?: unknown;
}

/**
 * A ConfigMap an older controller made for base files (before it labelled them): every key
 * `<zone>.db`, every value one of our rendered base files. Anything else is not adopted.
 */
function onlyOurBaseFiles(data: Readonly<Record<string, string>>): boolean {
  return Object.entries(data).every(([k, v]) => k.endsWith('.db') && isRenderedBaseFile(v));
}

export class Controller {
  readonly metrics: Metrics;
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions;
  readonly #clock: Clock;
  readonly #informers: Informers;
  readonly #ctx: ReconcileContext;
  readonly #clusters: ClusterWiring;
  readonly #sources: SourceWiring;
  readonly #dns: DnsClient;
  /** Zones ensured per instance fingerprint; only around the real backend. */
  readonly #ensured: EnsuredCache | undefined;
  readonly #health = new Map<string, PolledHealth>();
  /** Serials of records-only zones, as the controller left them (served.ts). */
  readonly #served = new ServedSerials();
  /** By uid: what the last event showed (relevance.ts), so updates can be compared. */
  readonly #seen = new Map<string, Seen>();
  #elector: LeaderElector | undefined;
  #informersStarting: Promise<unknown> | undefined;
  #server: HealthServer | undefined;
  #pollTimer: TimerHandle | undefined;
  #started = false;
  #stopping = false;

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? new Metrics({ defaultMetrics: true });
    this.#dns = new DnsClient({ clock: () => this.#clock.now() });
    const { kube, log, config } = options;
    this.#informers = makeInformers({
      kube,
      namespaces: config.namespaces,
      clock: this.#clock,
      log,
      onChange: (kind, type, obj) => this.#onChange(kind, type, obj),
      onRecovered: () => this.#apiRecovered(),
      extra: sourceInformers(config.sources),
    });
    // The default backend skips showzone for zones already ensured on an unchanged
    // instance (ensured.ts); an injected one is used as it is.
    this.#ensured =
      options.backend === undefined
        ? new EnsuredCache({
            inner: new BindBackend({
              dns: this.#dns,
              served: this.#served,
              refusals: new KeyRefusals({
                now: () => this.#clock.now(),
                maxAgeMs: config.resyncMs,
              }),
              onUpdate: (instance, rcode) => this.metrics.updates.inc({ instance, rcode }),
            }),
            fingerprint: (id) => this.#fingerprintOf(id),
            now: () => this.#clock.now(),
            maxAgeMs: config.resyncMs,
            wasPresent: (id, zoneName) => this.#statusSaysPresent(id, zoneName),
            onDataLoss: (id, zoneName) => this.#onDataLoss(id, zoneName),
          })
        : undefined;
    const backend = options.backend ?? (this.#ensured as ZoneBackend);
    this.#ctx = {
      caches: this.#informers.caches,
      writer: kube,
      events: new KubeEventRecorder(kube, this.#clock, log),
      keys: new SecretKeyCache(kube, this.#clock, config.resyncMs),
      files: {
        configMap: (namespace, cm) =>
          configMapStore({ kube, namespace, ...cm, adoptable: onlyOurBaseFiles }),
        directory: (path) => confinedDirectoryStore(path, config.zoneFileRoots),
      },
      backend,
      clock: this.#clock,
      log,
      deletionTimeoutMs: config.deletionTimeoutMs,
      ownership: new Ownership(),
      health: {
        state: (id) => this.#healthState(id),
        markDown: (id, error) => this.#markDown(id, error),
      },
      statuses: new StatusMemory(() => this.#clock.now()),
    };
    this.#clusters = new ClusterWiring({
      ...this.#ctx,
      kube,
      clusters: this.#informers.clusters,
      instances: this.#informers.caches.instances,
      dns: this.#dns,
      controllerNamespace: config.controllerNamespace,
    });
    this.#sources = new SourceWiring({
      kube,
      kinds: config.sources,
      externalDns: config.externalDnsAnnotations,
      caches: this.#informers.caches,
      stores: this.#informers.extra,
      events: this.#ctx.events,
      log,
    });
    this.queue = new WorkQueue({
      handler: (key) => this.#reconcile(key),
      clock: this.#clock,
      concurrency: config.concurrency,
      resyncMs: config.resyncMs,
      onDone: (key, outcome, ms, cause) => this.#onDone(key, outcome, ms, cause),
    });
  }

  /** True once every informer has listed (the caches are complete). */
  get synced(): boolean {
    return this.#informers.all.every((i) => i.synced);
  }

  /** Starts serving health, waits for the lease if configured, then starts working. */
  async start(): Promise<void> {
    const { config, log } = this.#o;
    if (config.metricsAddress !== '') {
      this.#server = await startHealthServer(
        config.metricsAddress,
        {
          live: () => !this.#stopping,
          ready: () =>
            !this.#stopping &&
            (this.synced || (this.#elector !== undefined && !this.#elector.leading)),
        },
        this.metrics,
      );
      log.info({ port: this.#server.port }, 'serving /healthz, /readyz, /metrics');
    }
    if (config.leaderElect) await this.#lead();
    if (this.#stopping) return;
    this.#informersStarting = Promise.all(this.#informers.all.map((i) => i.start()));
    await this.#informersStarting;
    if (this.#stopping) return;
    this.#started = true;
    log.info(
      { namespaces: config.namespaces.length === 0 ? 'all' : config.namespaces },
      'controller started',
    );
    this.#queueEverything();
    // The first reading is the baseline every later one is compared with: taken now, a
    // named wiped a moment after start shows as a change at the next poll (bench/RESULTS.md).
    this.#pollAll();
    this.#schedulePoll();
  }

  get healthPort(): number | undefined {
    return this.#server?.port;
  }

  /** Stops taking work, lets reconciles in flight finish, releases the lease. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#pollTimer?.cancel();
    await this.queue.shutdown();
    // An informer stopped in the middle of its first list would still open its watch
    // afterwards (and hold the process for the watch timeout): let the start finish first.
    await this.#informersStarting;
    await Promise.all(this.#informers.all.map((i) => i.stop()));
    await this.#elector?.release();
    await this.#server?.close();
    await this.#dns.close();
    this.#o.log.info('controller stopped');
  }

  async #lead(): Promise<void> {
    const { kube, config, log } = this.#o;
    this.#elector = new LeaderElector({
      kube,
      namespace: config.leaderElectionNamespace,
      name: config.leaderElectionId,
      identity: config.identity,
      clock: this.#clock,
      log,
    });
    this.#elector.onLost(() => {
      this.metrics.leader.set(0);
      this.#o.onFatal?.('leader lease lost');
    });
    log.info(
      { lease: config.leaderElectionId, identity: config.identity },
      'waiting for leadership',
    );
    await this.#elector.acquire();
    this.metrics.leader.set(this.#elector.leading ? 1 : 0);
  }

  // ------------------------------------------------------------------------------------
  // Events → keys

  #onChange(kind: string, type: ChangeType, obj: KubeObject): void {
    // The cache holds this version now: a status write of ours it shows is remembered no more.
    this.#ctx.statuses.observed(obj, type === 'delete');
    // Records generated from Services, Ingresses and routes (src/sources): their sources
    // wake only source keys; zones, namespaces and generated records wake both kinds.
    const sourceKeys = this.#sources.keysFor(kind, type, obj, this.#started);
    for (const key of sourceKeys) this.queue.add(key);
    if (this.#sources.handles(kind)) return;
    const isRecord = !['Bind9Instance', 'DNSZone', 'Bind9Cluster', 'Namespace'].includes(kind);
    const { previous, state } = this.#remember(kind, type, obj, isRecord);
    // Until every cache has listed, a reconcile would see part of a zone; start() queues
    // every key once they have.
    if (!this.#started) return;
    // A cluster's instance wakes its cluster on every change, its Ready status included.
    const cluster = kind === 'Bind9Instance' ? this.#clusters.keyForInstance(obj) : undefined;
    if (cluster !== undefined) this.queue.add(cluster);
    // The cache already holds the new object; only the wake-up is skipped (relevance.ts).
    const wakes = wakesReconcile(type, previous?.state, state);
    this.metrics.watchEvents.inc({ kind, action: wakes ? 'queued' : 'skipped' });
    if (!wakes) return;
    if (kind === 'Bind9Instance') this.#instanceChanged(type, obj as Bind9Instance);
    const zones = this.#informers.caches.zones;
    for (const key of keysFor(kind, obj, previous, { zones: (ns) => zones.list(ns) })) {
      this.queue.add(key);
    }
  }

  /** A changed or new instance: ask named about every zone again; a new one is probed now. */
  #instanceChanged(type: ChangeType, instance: Bind9Instance): void {
    const id = objectId(instance.metadata);
    if (type === 'delete') {
      this.#health.delete(id);
      this.#served.forget(id);
      this.#ensured?.dropInstance(id);
    }
    // A changed spec (endpoint, role, files) or a new instance: ask named about every zone.
    this.#ensured?.forgetInstance(id);
    // A new instance gets its baseline reading now, not one poll period later.
    if (type === 'add') this.#pollOne(instance);
  }

  /** Remembers what this event shows of the object; returns what the one before showed. */
  #remember(
    kind: string,
    type: ChangeType,
    obj: KubeObject,
    isRecord: boolean,
  ): { previous: Seen | undefined; state: string } {
    // Objects from the API server always carry a uid (a recreated object gets a new one).
    const uid = obj.metadata.uid ?? resourceKey({ kind, metadata: obj.metadata });
    const previous = this.#seen.get(uid);
    const state = watchedState(kind, obj);
    if (type === 'delete') this.#seen.delete(uid);
    else
      this.#seen.set(
        uid,
        isRecord ? { state, zone: (obj as RecordResource).spec.zone } : { state },
      );
    return { previous, state };
  }

  /** Every key the caches know of: after start, and nothing is missed before it. */
  #queueEverything(): void {
    const { caches } = this.#informers;
    for (const key of this.#clusters.keys()) this.queue.add(key);
    for (const key of this.#sources.keys()) this.queue.add(key);
    for (const i of caches.instances.list()) {
      this.queue.add(instanceKey(i.metadata.namespace, i.metadata.name));
    }
    for (const z of caches.zones.list()) {
      this.queue.add(zoneKey(z.metadata.namespace, z.metadata.name));
    }
    for (const store of caches.records.values()) {
      for (const r of store.list()) this.queue.add(zoneKey(r.metadata.namespace, r.spec.zone));
    }
  }

  async #reconcile(key: string): Promise<Outcome> {
    const parsed = parseKey(key);
    if (parsed === undefined) return { result: 'gone' };
    switch (parsed.kind) {
      case 'zone':
        return reconcileZone(this.#ctx, parsed.namespace, parsed.name);
      case 'instance':
        return reconcileInstance(this.#ctx, parsed.namespace, parsed.name);
      case 'cluster':
        return this.#clusters.reconcile(parsed.namespace, parsed.name);
      case 'source':
        return this.#sources.reconcile(parsed.namespace, parsed.name);
    }
  }

  #onDone(key: string, outcome: Outcome, ms: number, cause: RunCause): void {
    const kind = key.split('/')[0] ?? 'unknown';
    this.metrics.reconciles.inc({ kind, result: outcome.result });
    this.metrics.reconcileSeconds.observe({ kind, result: outcome.result }, ms / 1000);
    this.metrics.queueDepth.set(this.queue.depth);
    if (outcome.result === 'transient' || outcome.result === 'permanent') {
      const { reason, message } = reasonFor(outcome.error);
      this.#o.log.warn(
        { key, cause, result: outcome.result, reason, message, ms },
        'reconcile failed',
      );
    } else {
      this.#o.log.debug({ key, cause, result: outcome.result, ms }, 'reconciled');
    }
  }

  // ------------------------------------------------------------------------------------
  // Instance health poll: the fast lane for instances that came back empty

  /**
   * Every period, each instance whose previous probe has finished is probed again: a
   * server that hangs (up to the client timeouts) delays only its own next probe.
   */
  #schedulePoll(): void {
    if (this.#stopping) return;
    this.#pollTimer = this.#clock.after(this.#o.config.healthPollMs, () => {
      this.#pollAll();
      this.metrics.queueDepth.set(this.queue.depth);
      this.#schedulePoll();
    });
  }

  #pollAll(): void {
    for (const instance of this.#informers.caches.instances.list()) this.#pollOne(instance);
  }

  /** Probes one instance unless its previous probe is still running. */
  #pollOne(instance: Bind9Instance, compare = true): void {
    if (this.#stopping) return;
    const id = objectId(instance.metadata);
    if (this.#polling.has(id)) return;
    this.#polling.add(id);
    void this.#poll(instance, compare)
      .catch((error) => this.#o.log.warn({ instance: id, err: String(error) }, 'poll failed'))
      .finally(() => this.#polling.delete(id));
  }

  readonly #polling = new Set<string>();

  async #poll(instance: Bind9Instance, compare: boolean): Promise<void> {
    const id = objectId(instance.metadata);
    const probe = await probeInstance(this.#ctx, instance);
    const before = this.#health.get(id);
    const now: PolledHealth = probe.ok
      ? { up: true, bootTime: probe.fingerprint.bootTime, zoneCount: probe.fingerprint.zoneCount }
      : {
          up: false,
          error: probe.error,
          ...(before?.bootTime === undefined ? {} : { bootTime: before.bootTime }),
        };
    this.#health.set(id, now);
    this.metrics.instancesUp.set({ instance: id }, now.up ? 1 : 0);
    // The first probe sets the baseline, and wakes the zones that waited for it (health.ts).
    // One that finds the instance down still counts as a change: the zones were reconciled
    // at start, maybe before it went down, and must show it (relevance.ts).
    if (before === undefined && now.up) return this.#requeueZones(instance, true);
    if (!compare) return;
    if (now.up && instance.spec.recordsOnly === true) await this.#checkServed(instance);
    return this.#compareHealth(instance, probe, before ?? { up: true }, now);
  }

  /**
   * A records-only instance has no rndc to tell a restart that lost its records: its zones
   * whose served serial is not the one the controller left (a hand edit, a reload from the
   * server's own file) go through the fast lane, once per change, to be read and replayed.
   */
  async #checkServed(instance: Bind9Instance): Promise<void> {
    const id = objectId(instance.metadata);
    const target = await resolveTarget(instance, this.#ctx.keys, this.#ctx.files);
    for (const zone of this.#zonesOf(instance)) {
      const name = zone.spec.zoneName;
      const served = await this.#ctx.backend.zoneSerial(target, name).catch(() => undefined);
      if (!this.#served.changed(id, name, served)) continue;
      this.#served.note(id, name, served);
      this.#o.log.info({ instance: id, zone: name, served }, 'zone changed outside; requeueing');
      this.queue.add(zoneKey(instance.metadata.namespace, zone.metadata.name), { fast: true });
    }
  }

  /**
   * ensureZone had to create a zone this instance held (ensured.ts): named lost its data
   * whatever the poll saw, e.g. wiped before the first reading. Every zone of the instance
   * goes through the fast lane, as for a changed fingerprint, and the baseline is taken
   * again so later polls compare with the server as it is now.
   */
  #onDataLoss(id: string, zoneName: string): string[] {
    const instance = this.#instanceById(id);
    if (instance === undefined) return [];
    const ns = instance.metadata.namespace;
    const zones = this.#zonesOf(instance);
    this.#o.log.warn(
      { instance: id, zone: zoneName, zones: zones.length },
      'zone created again on an instance that held it: data lost; requeueing its zones',
    );
    for (const zone of zones) this.queue.add(zoneKey(ns, zone.metadata.name), { fast: true });
    // A probe already running takes the new reading itself (and may requeue once more).
    this.#pollOne(instance, false);
    return zones.map((z) => z.spec.zoneName);
  }

  /** True when some DNSZone's status says its zone is present on this instance. */
  #statusSaysPresent(id: string, zoneName: string): boolean {
    const instance = this.#instanceById(id);
    if (instance === undefined) return false;
    const name = instance.metadata.name;
    return this.#informers.caches.zones
      .list(instance.metadata.namespace)
      .some(
        (z) =>
          normalizeName(z.spec.zoneName) === zoneName &&
          (z.status?.instances ?? []).some((i) => i.name === name && i.present),
      );
  }

  #instanceById(id: string): Bind9Instance | undefined {
    const parsed = parseObjectId(id);
    return parsed && this.#informers.caches.instances.get(parsed.namespace, parsed.name);
  }

  async #compareHealth(
    instance: Bind9Instance,
    probe: Probe,
    before: PolledHealth,
    now: PolledHealth,
  ): Promise<void> {
    const id = objectId(instance.metadata);
    const cameBack = now.up && !before.up;
    const lostData =
      now.up &&
      before.up &&
      (now.bootTime !== before.bootTime || (now.zoneCount ?? 0) < (before.zoneCount ?? 0));
    if (now.up !== before.up) {
      await writeInstanceStatus(this.#ctx, instance, probe).catch(() => undefined);
    }
    if (cameBack || lostData || now.up !== before.up) {
      this.#o.log.info(
        { instance: id, up: now.up, cameBack, lostData },
        'instance changed; requeueing its zones',
      );
      this.#requeueZones(instance, now.up);
    }
  }

  /**
   * An informer's list or watch succeeded after failing: the API server is back. Keys that
   * failed meanwhile (their status writes, say) run now, not when their backoff ends, which
   * after an outage of 20 s may be 30 s later. Every informer of the outage calls this; the
   * later calls find nothing left waiting.
   */
  #apiRecovered(): void {
    if (!this.#started) return;
    const retried = this.queue.retryFailedNow();
    if (retried > 0)
      this.#o.log.info({ retried }, 'API server answers again; retrying failed keys now');
  }

  /** The health seam of the zone reconcile (reconcilers/health.ts), from the poll. */
  #healthState(id: string): HealthState {
    const h = this.#health.get(id);
    if (h === undefined) return { state: 'unknown' };
    if (!h.up && isUnreachable(h.error)) return { state: 'down', error: h.error };
    return { state: 'up' };
  }

  /**
   * A reconcile found the instance not answering: every zone fails fast from now on, until
   * a probe answers (#compareHealth then requeues them through the fast lane).
   */
  #markDown(id: string, error: unknown): void {
    const before = this.#health.get(id);
    if (before?.up === false && isUnreachable(before.error)) return;
    this.#health.set(id, {
      up: false,
      error,
      ...(before?.bootTime ? { bootTime: before.bootTime } : {}),
    });
    this.metrics.instancesUp.set({ instance: id }, 0);
    this.#o.log.warn(
      { instance: id, err: reasonFor(error).message },
      'instance did not answer; its zones fail fast until a health probe answers',
    );
  }

  #requeueZones(instance: Bind9Instance, fast: boolean): void {
    for (const zone of this.#zonesOf(instance)) {
      this.queue.add(zoneKey(instance.metadata.namespace, zone.metadata.name), { fast });
    }
  }

  /** The instance's fingerprint as last polled, while it is up. */
  #fingerprintOf(id: string): { bootTime: string; zoneCount: number } | undefined {
    const h = this.#health.get(id);
    if (h === undefined || !h.up || h.bootTime === undefined || h.zoneCount === undefined) {
      return undefined;
    }
    return { bootTime: h.bootTime, zoneCount: h.zoneCount };
  }

  #zonesOf(instance: Bind9Instance): DNSZone[] {
    return this.#informers.caches.zones
      .list(instance.metadata.namespace)
      .filter((z) => selectorMatches(z.spec.instanceSelector, instance.metadata.labels));
  }

  get started(): boolean {
    return this.#started;
  }
}
