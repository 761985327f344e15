/**
 * Prometheus metrics (prom-client) on a registry of our own, so several controllers in one
 * process (tests) do not collide in the global registry.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly reconciles: Counter<'kind' | 'result'>;
  readonly reconcileSeconds: Histogram<'kind' | 'result'>;
  readonly updates: Counter<'instance' | 'rcode'>;
  readonly watchEvents: Counter<'kind' | 'action'>;
  readonly queueDepth: Gauge;
  readonly instancesUp: Gauge<'instance'>;
  readonly leader: Gauge;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.reconciles = new Counter({
      name: 'bind9_controller_reconciles_total',
      help: 'Reconciles run, by kind of key and result.',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.reconcileSeconds = new Histogram({
      name: 'bind9_controller_reconcile_duration_seconds',
      help: 'Time one reconcile took, by kind of key and result.',
      labelNames: ['kind', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.updates = new Counter({
      name: 'bind9_controller_dns_updates_total',
      help: 'RFC 2136 UPDATE messages sent, by instance (namespace/name) and response rcode.',
      labelNames: ['instance', 'rcode'],
      registers,
    });
    this.watchEvents = new Counter({
      name: 'bind9_controller_watch_events_total',
      help: 'Watch events after start, by kind and action: queued (may change desired state) or skipped (status or resourceVersion only).',
      labelNames: ['kind', 'action'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'bind9_controller_queue_depth',
      help: 'Keys waiting in the work queue.',
      registers,
    });
    this.instancesUp = new Gauge({
      name: 'bind9_controller_instance_up',
      help: '1 when the instance answered its last health poll, else 0.',
      labelNames: ['instance'],
      registers,
    });
    this.leader = new Gauge({
      name: 'bind9_controller_leader',
      help: '1 while this replica holds the leader lease.',
      registers,
    });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
