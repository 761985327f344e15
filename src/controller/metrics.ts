/**
 * Prometheus metrics, exposed in the text format 0.0.4, on a registry of our own, so several
 * controllers in one process (tests) do not collide.
 *
 * Our own small implementation of the three metric types we use rather than prom-client:
 * prom-client loads @opentelemetry/api (~80 modules) and costs ~16 MB of RSS at start for a
 * handful of counters. The shapes follow prom-client's (`inc`, `set`, `observe`, `get()`,
 * `registry.metrics()`, `getSingleMetric`), so readers of the metrics do not change.
 * Format: https://prometheus.io/docs/instrumenting/exposition_formats/ (text format 0.0.4).
 */

import { getHeapSpaceStatistics } from 'node:v8';

export type LabelValues<L extends string> = Partial<Record<L, string | number>>;

export interface MetricValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  /** For a histogram: `<name>_bucket`, `<name>_sum` or `<name>_count`. */
  readonly metricName?: string;
}

export interface MetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly values: readonly MetricValue[];
}

export interface Metric {
  readonly name: string;
  get(): Promise<MetricSnapshot>;
}

interface MetricOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  readonly registers?: readonly Registry[];
}

/** `\`, `"` and newlines escaped, as the text format wants label values. */
function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function sampleLine(name: string, labels: MetricValue['labels'], value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
  const set = pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
  return `${name}${set} ${formatValue(value)}`;
}

/** Label sets keyed by their values in labelNames order, so `{a, b}` and `{b, a}` are one. */
abstract class LabelledMetric<L extends string, S> implements Metric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: MetricSnapshot['type'];
  readonly #labelNames: readonly L[];
  protected readonly series = new Map<
    string,
    { labels: Record<string, string | number>; state: S }
  >();

  constructor(options: MetricOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = options.labelNames ?? [];
    for (const registry of options.registers ?? []) registry.registerMetric(this);
  }

  protected abstract initial(): S;

  protected seriesOf(labels: LabelValues<L>): S {
    const ordered: Record<string, string | number> = {};
    for (const name of this.#labelNames) {
      const value = labels[name];
      if (value !== undefined) ordered[name] = value;
    }
    const key = JSON.stringify(Object.values(ordered));
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: ordered, state: this.initial() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  /** prom-client shows an unlabelled metric as 0 before its first change. */
  protected touchUnlabelled(): void {
    if (this.#labelNames.length === 0 && this.series.size === 0) this.seriesOf({});
  }

  abstract get(): Promise<MetricSnapshot>;
}

/** `inc(labels, n)` or `inc(n)`: both prom-client call forms. */
function split<L extends string>(
  labelsOrValue: LabelValues<L> | number | undefined,
  value: number | undefined,
  fallback: number,
): [LabelValues<L>, number] {
  if (typeof labelsOrValue === 'number') return [{}, labelsOrValue];
  return [labelsOrValue ?? {}, value ?? fallback];
}

interface Cell {
  value: number;
}

abstract class SingleValueMetric<L extends string> extends LabelledMetric<L, Cell> {
  protected initial(): Cell {
    return { value: 0 };
  }

  async get(): Promise<MetricSnapshot> {
    this.touchUnlabelled();
    const values = [...this.series.values()].map((s) => ({
      labels: s.labels,
      value: s.state.value,
    }));
    return { name: this.name, help: this.help, type: this.type, values };
  }
}

export class Counter<L extends string = string> extends SingleValueMetric<L> {
  readonly type = 'counter';

  inc(labelsOrValue?: LabelValues<L> | number, value?: number): void {
    const [labels, by] = split(labelsOrValue, value, 1);
    this.seriesOf(labels).value += by;
  }
}

export class Gauge<L extends string = string> extends SingleValueMetric<L> {
  readonly type = 'gauge';

  set(labelsOrValue: LabelValues<L> | number, value?: number): void {
    const [labels, to] = split(labelsOrValue, value, 0);
    this.seriesOf(labels).value = to;
  }

  inc(labelsOrValue?: LabelValues<L> | number, value?: number): void {
    const [labels, by] = split(labelsOrValue, value, 1);
    this.seriesOf(labels).value += by;
  }

  dec(labelsOrValue?: LabelValues<L> | number, value?: number): void {
    const [labels, by] = split(labelsOrValue, value, 1);
    this.seriesOf(labels).value -= by;
  }
}

interface Distribution {
  /** Observations per bucket (not cumulative; summed when shown). */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = string> extends LabelledMetric<L, Distribution> {
  readonly type = 'histogram';
  readonly #buckets: readonly number[];

  constructor(options: MetricOptions<L> & { readonly buckets: readonly number[] }) {
    super(options);
    this.#buckets = [...options.buckets].sort((a, b) => a - b);
  }

  protected initial(): Distribution {
    return { counts: this.#buckets.map(() => 0), sum: 0, count: 0 };
  }

  observe(labelsOrValue: LabelValues<L> | number, value?: number): void {
    const [labels, observed] = split(labelsOrValue, value, 0);
    const d = this.seriesOf(labels);
    const at = this.#buckets.findIndex((bound) => observed <= bound);
    if (at >= 0) d.counts[at] = (d.counts[at] ?? 0) + 1;
    d.sum += observed;
    d.count += 1;
  }

  async get(): Promise<MetricSnapshot> {
    this.touchUnlabelled();
    const values: MetricValue[] = [];
    for (const { labels, state } of this.series.values()) {
      let cumulative = 0;
      this.#buckets.forEach((bound, i) => {
        cumulative += state.counts[i] ?? 0;
        values.push({
          labels: { ...labels, le: bound },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({
        labels: { ...labels, le: '+Inf' },
        value: state.count,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels, value: state.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: state.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values };
  }
}

export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  readonly #metrics = new Map<string, Metric>();
  readonly #beforeScrape: (() => void)[] = [];

  registerMetric(metric: Metric): void {
    this.#metrics.set(metric.name, metric);
  }

  getSingleMetric(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }

  /** `update` runs before every scrape (values read from the process at that moment). */
  beforeScrape(update: () => void): void {
    this.#beforeScrape.push(update);
  }

  async metrics(): Promise<string> {
    for (const update of this.#beforeScrape) update();
    const blocks: string[] = [];
    for (const metric of this.#metrics.values()) {
      const snapshot = await metric.get();
      const help = snapshot.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
      const lines = [`# HELP ${snapshot.name} ${help}`, `# TYPE ${snapshot.name} ${snapshot.type}`];
      for (const v of snapshot.values)
        lines.push(sampleLine(v.metricName ?? snapshot.name, v.labels, v.value));
      blocks.push(lines.join('\n'));
    }
    return blocks.length === 0 ? '' : `${blocks.join('\n\n')}\n`;
  }
}

/** A counter whose total is kept elsewhere (the process's CPU time): set, never added to. */
class MirroredCounter extends SingleValueMetric<never> {
  readonly type = 'counter';

  setTotal(total: number): void {
    this.seriesOf({}).value = total;
  }
}

/**
 * The process metrics dashboards and bench/memory.ts read, under prom-client's names:
 * CPU seconds, start time, resident memory, V8 heap (in all and per space) and external
 * memory, Node's version.
 */
function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
  const counter = (name: string, help: string) => new MirroredCounter({ name, help, registers });
  const user = counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.');
  const system = counter(
    'process_cpu_system_seconds_total',
    'Total system CPU time spent in seconds.',
  );
  const cpu = counter(
    'process_cpu_seconds_total',
    'Total user and system CPU time spent in seconds.',
  );
  const start = gauge(
    'process_start_time_seconds',
    'Start time of the process since unix epoch in seconds.',
  );
  const rss = gauge('process_resident_memory_bytes', 'Resident memory size in bytes.');
  const heapTotal = gauge(
    'nodejs_heap_size_total_bytes',
    'Process heap size from Node.js in bytes.',
  );
  const heapUsed = gauge(
    'nodejs_heap_size_used_bytes',
    'Process heap size used from Node.js in bytes.',
  );
  const external = gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.');
  const version = new Gauge<'version'>({
    name: 'nodejs_version_info',
    help: 'Node.js version info.',
    labelNames: ['version'],
    registers,
  });
  const space = (what: string) =>
    new Gauge<'space'>({
      name: `nodejs_heap_space_size_${what}_bytes`,
      help: `Process heap space size ${what} from Node.js in bytes.`,
      labelNames: ['space'],
      registers,
    });
  const spaces = { total: space('total'), used: space('used'), available: space('available') };
  version.set({ version: process.version }, 1);
  start.set(Math.round((Date.now() - performance.now()) / 1000));
  registry.beforeScrape(() => {
    const usage = process.cpuUsage();
    user.setTotal(usage.user / 1e6);
    system.setTotal(usage.system / 1e6);
    cpu.setTotal((usage.user + usage.system) / 1e6);
    const memory = process.memoryUsage();
    rss.set(memory.rss);
    heapTotal.set(memory.heapTotal);
    heapUsed.set(memory.heapUsed);
    external.set(memory.external);
    // Per V8 space (new, old, code, large objects): where committed memory sits.
    for (const s of getHeapSpaceStatistics()) {
      const labels = { space: s.space_name.replace(/_space$/, '') };
      spaces.total.set(labels, s.space_size);
      spaces.used.set(labels, s.space_used_size);
      spaces.available.set(labels, s.space_available_size);
    }
  });
}

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
    if (options.defaultMetrics) registerProcessMetrics(this.registry);
  }
}
