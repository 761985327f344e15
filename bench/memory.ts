/**
 * Memory and start-up of the controller as a child process (so the RSS is its own):
 * start-up from spawn to watches established (the "controller started" log line, and the
 * first 200 from /readyz), over several cold starts; RSS idle with nothing to do; RSS
 * after converging 10,000 records in 100 zones, and its peak on the way (VmHWM).
 * Same-run baselines: a bare `node` process, and one that only imports the Kubernetes client.
 *
 *     node bench/memory.ts [--starts 5] [--zones 100] [--per-zone 100] [--settle 10]
 *                          [--settle-max 60] [--snapshot] [--built] [--node-defaults]
 *
 * `--built` measures the compiled JavaScript the image runs (`npm run build`, then
 * dist/src/cli/main.js) instead of the TypeScript sources. The controller runs with the
 * heap flags the image ships (NODE_OPTIONS and MALLOC_ARENA_MAX of the Dockerfile's ENV,
 * read by lib/image-env.ts); `--node-defaults` runs it without them, for comparison.
 * BENCH_CONTROLLER_NODE_ARGS (node flags on the command line) overrides them for what-ifs.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CONTROLLER_NODE_ARGS_ENV,
  controllerEntry,
  NODE_BIN,
  startControllerProcess,
  sumCounter,
} from './lib/controller-process.ts';
import { environment, formatEnvironment } from './lib/env.ts';
import {
  allAnswered,
  createAll,
  type Fleet,
  provisionZones,
  ReadyWatch,
  range,
  recordSet,
  startFleet,
  stopCluster,
} from './lib/fleet.ts';
import { imageMemoryEnv } from './lib/image-env.ts';
import { atMost, log, report, summarize } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    starts: { type: 'string', default: '5' },
    zones: { type: 'string', default: '100' },
    'per-zone': { type: 'string', default: '100' },
    settle: { type: 'string', default: '10' },
    /** After --settle, RSS is read every second until 5 readings lie within 1 MB, at most
     *  this long: V8 gives heap back some seconds after the work stops, not at once. */
    'settle-max': { type: 'string', default: '60' },
    /** Ask the controller for a heap snapshot once converged: needs the child started with
     *  BENCH_CONTROLLER_NODE_ARGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR". */
    snapshot: { type: 'boolean', default: false },
    built: { type: 'boolean', default: false },
    'node-defaults': { type: 'boolean', default: false },
  },
});
const STARTS = Number(values.starts);
const ZONES = Number(values.zones);
const PER_ZONE = Number(values['per-zone']);
const SETTLE_MS = Number(values.settle) * 1000;
const SETTLE_MAX_MS = Math.max(SETTLE_MS, Number(values['settle-max']) * 1000);
const MB = 2 ** 20;
const REPO = resolve(import.meta.dirname, '..');
/** The image's NODE_OPTIONS / MALLOC_ARENA_MAX, given to every controller child. */
const CHILD_ENV: Record<string, string | undefined> = values['node-defaults']
  ? { NODE_OPTIONS: undefined, MALLOC_ARENA_MAX: undefined }
  : imageMemoryEnv();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS of a node process running `code` after it has settled, bytes. */
async function baselineRss(code: string): Promise<number> {
  const child = spawn(NODE_BIN, ['--input-type=module', '-e', code], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((ok, fail) => {
      child.stdout.once('data', () => ok());
      child.once('exit', (c) => fail(new Error(`baseline exited ${c}`)));
    });
    await sleep(2000);
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) * 1024;
  } finally {
    child.kill('SIGKILL');
  }
}

/** ` (new 32.0, old 60.1, ... MB)`: the V8 spaces over 1 MB, committed, from /metrics. */
function heapSpaces(metricsText: string): string {
  const sizes: string[] = [];
  const line = /^nodejs_heap_space_size_total_bytes\{space="([^"]+)"\} (\S+)$/gm;
  for (const [, space, bytes] of metricsText.matchAll(line)) {
    if (Number(bytes) >= MB) sizes.push(`${space} ${(Number(bytes) / MB).toFixed(1)}`);
  }
  return sizes.length === 0 ? '' : ` (${sizes.join(', ')} MB)`;
}

type Memory = { rss: number; peak: number };

/**
 * RSS once it stops moving: --settle seconds, then one reading a second until the last 5
 * lie within 1 MB (V8's memory reducer gives heap back a few seconds after the work ends),
 * bounded by --settle-max. Returns the last reading and how long it took.
 */
async function settledMemory(controller: {
  memory(): Promise<Memory>;
}): Promise<Memory & { waitedMs: number }> {
  const start = performance.now();
  await sleep(SETTLE_MS);
  const window: Memory[] = [await controller.memory()];
  while (performance.now() - start < SETTLE_MAX_MS) {
    const rss = window.map((m) => m.rss);
    if (window.length >= 5 && Math.max(...rss) - Math.min(...rss) < MB) break;
    await sleep(1000);
    window.push(await controller.memory());
    if (window.length > 5) window.shift();
  }
  return { ...(window.at(-1) as Memory), waitedMs: performance.now() - start };
}

async function startups(fleet: Fleet) {
  const started: number[] = [];
  const readyz: number[] = [];
  const loaded: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const c = await startControllerProcess({
      kubeconfigPath: fleet.controllerKubeconfig,
      namespace: fleet.namespace,
      env: CHILD_ENV,
    });
    started.push(c.startedMs);
    readyz.push(c.readyzMs);
    loaded.push(c.loadedMs);
    await c.stop();
  }
  return { started: summarize(started), readyz: summarize(readyz), loaded: summarize(loaded) };
}

async function main(): Promise<void> {
  const entry = controllerEntry(values.built);
  const flags = Object.entries(CHILD_ENV).map(([k, v]) => `${k}=${JSON.stringify(v ?? '')}`);
  const extra = process.env[CONTROLLER_NODE_ARGS_ENV];
  process.stdout.write(
    `${formatEnvironment(await environment())}\ncontroller:     ${entry}\n` +
      `child env:      ${flags.join(' ')}${values['node-defaults'] ? ' (--node-defaults)' : ' (the Dockerfile ENV)'}\n` +
      (extra ? `child args:     ${extra} (${CONTROLLER_NODE_ARGS_ENV})\n` : ''),
  );
  const bare = await baselineRss("console.log('up'); setInterval(() => {}, 1000);");
  const withClient = await baselineRss(
    "await import('@kubernetes/client-node'); console.log('up'); setInterval(() => {}, 1000);",
  );
  // No Bind9Instance: the controller has nothing at all to do.
  const fleet = await startFleet('bench-mem', false);
  try {
    const s = await startups(fleet);
    log(`start-up: ${s.started.p50.toFixed(0)} ms median over ${STARTS}`);
    const controller = await startControllerProcess({
      kubeconfigPath: fleet.controllerKubeconfig,
      namespace: fleet.namespace,
      env: CHILD_ENV,
    });
    try {
      const idle = await settledMemory(controller);
      log(`idle RSS ${(idle.rss / MB).toFixed(1)} MB; converging ${ZONES * PER_ZONE} records`);
      await fleet.admin.instance('bench', fleet.named, { role: 'primary' });
      const zones = range(ZONES, 1);
      await provisionZones(fleet, zones, 300_000);
      const { items, expected, names } = recordSet(zones, PER_ZONE);
      const watch = new ReadyWatch(fleet, 'arecords');
      await watch.start();
      const createdFrom = performance.now();
      await createAll(fleet.admin, items, 32);
      await allAnswered(fleet, expected, 300_000);
      const readyAt = await watch.allReady(names, 300_000);
      await watch.stop();
      if (readyAt === undefined) log('not all Ready within 300 s: RSS taken anyway');
      const converged = await controller.memory();
      const convergedS = (performance.now() - createdFrom) / 1000;
      const settled = await settledMemory(controller);
      // Read before any snapshot: writing one runs a full GC, which changes the heap.
      const metricsText = await controller.metrics();
      if (values.snapshot) {
        process.kill(controller.pid, 'SIGUSR2');
        log('asked the controller for a heap snapshot');
        await sleep(SETTLE_MS);
      }
      const heap = sumCounter(metricsText, 'nodejs_heap_size_used_bytes');
      const heapTotal = sumCounter(metricsText, 'nodejs_heap_size_total_bytes');
      const external = sumCounter(metricsText, 'nodejs_external_memory_bytes');
      const spaces = heapSpaces(metricsText);
      const scenario = 'memory';
      const base = `bare node ${(bare / MB).toFixed(1)} MB; node + @kubernetes/client-node ${(withClient / MB).toFixed(1)} MB`;
      const n = (ZONES * PER_ZONE).toLocaleString('en');
      report([
        {
          scenario,
          metric: 'start-up: spawn → watches established (p50)',
          value: s.started.p50,
          unit: 'ms',
          target: atMost(1000),
          baseline: `max ${s.started.max.toFixed(0)} ms over ${STARTS} starts; /readyz 200 p50 ${s.readyz.p50.toFixed(0)} ms`,
          note: `modules loaded (health server up) p50 ${s.loaded.p50.toFixed(0)} ms`,
        },
        {
          scenario,
          metric: 'RSS idle, nothing to do',
          value: idle.rss / MB,
          unit: 'MB',
          target: atMost(64),
          baseline: base,
          note: `steady after ${(idle.waitedMs / 1000).toFixed(0)} s`,
        },
        {
          scenario,
          metric: `RSS after converging ${n} records`,
          value: settled.rss / MB,
          unit: 'MB',
          target: atMost(128),
          baseline: `all Ready ${convergedS.toFixed(0)} s after the first create; right then ${(converged.rss / MB).toFixed(1)} MB; steady after ${(settled.waitedMs / 1000).toFixed(0)} s`,
          note: `V8 heap used ${(heap / MB).toFixed(1)} MB of ${(heapTotal / MB).toFixed(1)} MB${spaces}; external (Buffers) ${(external / MB).toFixed(1)} MB; the rest is native memory outside the V8 heap`,
        },
        {
          scenario,
          metric: `peak RSS while converging ${n}`,
          value: settled.peak / MB,
          unit: 'MB',
          baseline: 'VmHWM of the controller process',
        },
      ]);
    } finally {
      await controller.stop();
    }
  } finally {
    await fleet.stop();
  }
}

try {
  await main();
} finally {
  await stopCluster();
}
