import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Histogram, Metrics, Registry } from './metrics.ts';

/** A sample line of the text format 0.0.4: name, optional label set, value. */
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$/;

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

describe('metrics in the Prometheus text format', () => {
  it('shows each label set of a counter once, labels in declared order', async () => {
    const registry = new Registry();
    const c = new Counter({
      name: 'x_total',
      help: 'X.',
      labelNames: ['kind', 'result'],
      registers: [registry],
    });
    c.inc({ result: 'ok', kind: 'zone' });
    c.inc({ kind: 'zone', result: 'ok' }, 2);
    c.inc({ kind: 'instance', result: 'error' });
    const text = await registry.metrics();
    assert.match(text, /^# HELP x_total X\.\n# TYPE x_total counter\n/);
    assert.deepEqual(lines(text), [
      'x_total{kind="zone",result="ok"} 3',
      'x_total{kind="instance",result="error"} 1',
    ]);
    assert.equal(registry.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  });

  it('escapes backslashes, quotes and newlines in label values', async () => {
    const registry = new Registry();
    const g = new Gauge({ name: 'g', help: 'G.', labelNames: ['v'], registers: [registry] });
    g.set({ v: 'a\\b"c\nd' }, 1);
    const [line] = lines(await registry.metrics());
    assert.equal(line, 'g{v="a\\\\b\\"c\\nd"} 1');
    assert.match(line!, SAMPLE);
  });

  it('shows an unlabelled gauge as 0 before it is set, then its last value', async () => {
    const registry = new Registry();
    const g = new Gauge({ name: 'depth', help: 'D.', registers: [registry] });
    assert.deepEqual(lines(await registry.metrics()), ['depth 0']);
    g.set(5);
    g.inc();
    g.dec(3);
    assert.deepEqual(lines(await registry.metrics()), ['depth 3']);
  });

  it('shows histogram buckets cumulatively, ending with +Inf, then sum and count', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'h_seconds',
      help: 'H.',
      labelNames: ['kind'],
      buckets: [1, 0.1],
      registers: [registry],
    });
    h.observe({ kind: 'zone' }, 0.05);
    h.observe({ kind: 'zone' }, 0.5);
    h.observe({ kind: 'zone' }, 7);
    assert.deepEqual(lines(await registry.metrics()), [
      'h_seconds_bucket{kind="zone",le="0.1"} 1',
      'h_seconds_bucket{kind="zone",le="1"} 2',
      'h_seconds_bucket{kind="zone",le="+Inf"} 3',
      'h_seconds_sum{kind="zone"} 7.55',
      'h_seconds_count{kind="zone"} 3',
    ]);
  });

  it('gives each metric’s values to code through get() and getSingleMetric', async () => {
    const metrics = new Metrics();
    metrics.reconciles.inc({ kind: 'zone', result: 'ok' });
    const byName = metrics.registry.getSingleMetric('bind9_controller_reconciles_total');
    assert.ok(byName !== undefined);
    const { values } = await byName.get();
    assert.deepEqual(values, [{ labels: { kind: 'zone', result: 'ok' }, value: 1 }]);
    assert.equal(metrics.registry.getSingleMetric('nodejs_heap_size_used_bytes'), undefined);
  });

  it('adds the process metrics on request, read at scrape time, every line well formed', async () => {
    const metrics = new Metrics({ defaultMetrics: true });
    const text = await metrics.registry.metrics();
    for (const line of lines(text)) assert.match(line, SAMPLE);
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.ok(value('nodejs_heap_size_used_bytes') > 0);
    assert.ok(value('nodejs_heap_size_total_bytes') >= value('nodejs_heap_size_used_bytes'));
    assert.ok(value('process_resident_memory_bytes') > 0);
    assert.ok(value('process_cpu_seconds_total') > 0);
    assert.match(text, /^nodejs_version_info\{version="v\d+\.\d+\.\d+"\} 1$/m);
    assert.match(text, /^nodejs_heap_space_size_total_bytes\{space="new"\} [1-9]/m);
    assert.match(text, /^bind9_controller_queue_depth 0$/m);
  });
});
