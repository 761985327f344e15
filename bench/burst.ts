/**
 * Burst convergence: 1,000 ARecords in one zone created as fast as the API server accepts
 * them (32 creates in flight), then 10,000 records across 100 zones. For each phase:
 *
 * - first create → all answered by named / all Ready, and the same from the moment the API
 *   server accepted the last create (what the controller adds after the creates end);
 * - the controller's CPU seconds per 1,000 records (/proc/PID/stat, the whole burst until
 *   its queue is idle) and the CPU kube-apiserver and etcd spent meanwhile;
 * - the API requests the controller made per record, by verb and resource, as the API
 *   server counted them (its /metrics, less the benchmark's own creates);
 * - the UPDATE messages the controller sent and the reconciles it ran (its /metrics).
 *
 * Same-run baseline, before each phase: the same creates into a namespace the controller
 * does not watch, so nothing answers them: how long the API server takes to accept them
 * and what that costs kube-apiserver and etcd, with the controller running idle.
 *
 * By default the controller is the compiled JavaScript the image runs (`npm run build`
 * first), with the image's NODE_OPTIONS/MALLOC_ARENA_MAX, on a control plane with deploy/'s
 * admission policy (the finalizer set at creation), as a user's cluster would be.
 *
 *     node bench/burst.ts [--small 1000] [--zones 100] [--per-zone 100] [--concurrency 32]
 *                         [--controller-args "--concurrency 16"] [--sources]
 *                         [--no-admission-policy] [--no-baseline]
 *
 * `--no-admission-policy` starts a control plane of its own without the policy (the
 * controller then adds every finalizer itself). $BENCH_CONTROLLER_ENTRY runs another build
 * (e.g. `/tmp/before/dist/src/cli/main.js`) for a before/after in one session.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { requestCounts } from '../test/harness/apiserver-metrics.ts';
import { useCluster } from '../test/harness/cluster.ts';
import { controllerRequests, countsDelta } from './lib/apiserver.ts';
import {
  type ControllerProcess,
  controllerEntry,
  startControllerProcess,
} from './lib/controller-process.ts';
import { environment, formatEnvironment } from './lib/env.ts';
import {
  allAnswered,
  type Creation,
  createAll,
  type Fleet,
  KeepAliveCreator,
  provisionZones,
  ReadyWatch,
  range,
  recordSet,
  startFleet,
  stopCluster,
} from './lib/fleet.ts';
import { imageMemoryEnv } from './lib/image-env.ts';
import { cpuByName } from './lib/proc.ts';
import { atMost, log, type Row, report } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '1000' },
    zones: { type: 'string', default: '100' },
    'per-zone': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '32' },
    /** Extra flags for the controller, e.g. "--concurrency 16" (what-if runs). */
    'controller-args': { type: 'string', default: '' },
    /** Run the TypeScript sources instead of the build. */
    sources: { type: 'boolean', default: false },
    'no-admission-policy': { type: 'boolean', default: false },
    'no-baseline': { type: 'boolean', default: false },
  },
});
const SMALL = Number(values.small);
const ZONES = Number(values.zones);
const PER_ZONE = Number(values['per-zone']);
const CONCURRENCY = Number(values.concurrency);
const CONTROLLER_ARGS = (values['controller-args'] ?? '').split(' ').filter((a) => a !== '');
const POLICY = !values['no-admission-policy'];
const BOUND_MS = 600_000;

const UPDATES = 'bind9_controller_dns_updates_total';
const RECONCILES = 'bind9_controller_reconciles_total';
const RECONCILE_SUM = 'bind9_controller_reconcile_duration_seconds_sum';

/** CPU seconds of the controller and the control plane over one stretch of the run. */
interface Cpu {
  readonly controller: number;
  readonly apiserver: number;
  readonly etcd: number;
}

/** A CPU meter over the controller child and the control plane's processes. */
async function cpuMeter(fleet: Fleet, controller: ControllerProcess) {
  const pids = new Map<string, number>(await fleet.cluster.pids());
  pids.set('controller', controller.pid);
  const read = () => cpuByName(pids);
  const start = await read();
  return async (): Promise<Cpu> => {
    const now = await read();
    const used = (name: string) => (now.get(name) ?? Number.NaN) - (start.get(name) ?? 0);
    return {
      controller: used('controller'),
      apiserver: used('kube-apiserver'),
      etcd: used('etcd'),
    };
  };
}

interface Baseline {
  readonly acceptedMs: number;
  readonly cpu: Cpu;
}

/** The creates alone: the same records into a namespace no controller watches. */
async function createsAlone(
  fleet: Fleet,
  controller: ControllerProcess,
  items: readonly Creation[],
): Promise<Baseline> {
  const namespace = await fleet.cluster.createNamespace('bench-unwatched');
  const creator = await KeepAliveCreator.connect(fleet.cluster, namespace);
  const meter = await cpuMeter(fleet, controller);
  const created = await createAll(creator, items, CONCURRENCY).finally(() => creator.close());
  const cpu = await meter();
  log(`creates alone: accepted in ${(created.doneAt - created.startedAt).toFixed(0)} ms`);
  return { acceptedMs: created.doneAt - created.startedAt, cpu };
}

interface BurstFigures {
  readonly records: number;
  readonly zones: number;
  readonly acceptedMs: number;
  readonly answeredMs: number;
  readonly readyMs: number;
  /** From the API server accepting the last create to all answered / all Ready. */
  readonly answeredAfterLastMs: number;
  readonly readyAfterLastMs: number;
  readonly updates: number;
  readonly reconciles: number;
  readonly retries: number;
  /** API requests the controller made during the burst, by verb and resource. */
  readonly controllerRequests: { total: number; text: string };
  /** Mean duration of one zone reconcile during the burst, ms. */
  readonly reconcileMs: number;
  readonly cpu: Cpu;
  readonly rssBytes: number;
}

/**
 * Waits until the controller has stopped reconciling (its reconcile count unchanged for
 * 2 s, at most 60 s): the follow-up rounds a burst causes are part of its cost.
 */
async function idle(controller: ControllerProcess): Promise<void> {
  let last = await controller.counter(RECONCILES);
  let still = 0;
  for (let waited = 0; still < 2 && waited < 60; waited++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await controller.counter(RECONCILES);
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

/** Creates the records of `zones`, then waits for named to answer them all and for Ready. */
async function burst(
  fleet: Fleet,
  controller: ControllerProcess,
  zones: readonly number[],
  items: readonly Creation[],
  names: readonly string[],
  expected: ReturnType<typeof recordSet>['expected'],
): Promise<BurstFigures> {
  const watch = new ReadyWatch(fleet, 'arecords');
  await watch.start();
  const updatesBefore = await controller.counter(UPDATES);
  const reconcilesBefore = await controller.counter(RECONCILES);
  const secondsBefore = await controller.counter(RECONCILE_SUM);
  const requestsBefore = await requestCounts(fleet.cluster.kubeConfig);
  const creator = await KeepAliveCreator.connect(fleet.cluster, fleet.namespace);
  const meter = await cpuMeter(fleet, controller);
  try {
    const answered = allAnswered(fleet, expected, BOUND_MS);
    const created = await createAll(creator, items, CONCURRENCY);
    log(
      `API accepted ${items.length} creates in ${(created.doneAt - created.startedAt).toFixed(0)} ms`,
    );
    const answeredAt = await answered;
    log('all answered');
    const readyAt = await watch.allReady(names, BOUND_MS);
    log(`all Ready (${watch.readyCount(names)}/${names.length})`);
    await idle(controller);
    const cpu = await meter();
    const since = (from: number, t: number | undefined) =>
      t === undefined ? Number.NaN : t - from;
    const reconciles = (await controller.counter(RECONCILES)) - reconcilesBefore;
    const seconds = (await controller.counter(RECONCILE_SUM)) - secondsBefore;
    const counted = countsDelta(requestsBefore, await requestCounts(fleet.cluster.kubeConfig));
    const own = new Map([['POST arecords', items.length + created.retries]]);
    return {
      records: items.length,
      zones: zones.length,
      acceptedMs: created.doneAt - created.startedAt,
      answeredMs: since(created.startedAt, answeredAt),
      readyMs: since(created.startedAt, readyAt),
      answeredAfterLastMs: since(created.doneAt, answeredAt),
      readyAfterLastMs: since(created.doneAt, readyAt),
      updates: (await controller.counter(UPDATES)) - updatesBefore,
      reconciles,
      retries: created.retries,
      controllerRequests: controllerRequests(counted.counts, own),
      reconcileMs: (seconds * 1000) / Math.max(1, reconciles),
      cpu,
      rssBytes: (await controller.memory()).rss,
    };
  } finally {
    creator.close();
    await watch.stop();
  }
}

interface Targets {
  readonly answered?: number;
  readonly ready: number;
  readonly readyAfterLast: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const perThousand = (cpuSeconds: number, records: number) => (cpuSeconds * 1000) / records;

function baselineText(f: BurstFigures, b: Baseline | undefined): string {
  const accepted = `API accepted all creates in ${seconds(f.acceptedMs)}`;
  return b === undefined ? accepted : `${accepted}; creates alone: ${seconds(b.acceptedMs)}`;
}

function timeRows(f: BurstFigures, b: Baseline | undefined, t: Targets, what: string): Row[] {
  const base = { scenario: scenarioName(), unit: 's', baseline: baselineText(f, b) };
  const lag = 'the controller after the API server accepted the last create';
  return [
    {
      ...base,
      metric: `${what}: first create → all answered`,
      value: f.answeredMs / 1000,
      ...(t.answered === undefined ? {} : { target: atMost(t.answered) }),
    },
    {
      ...base,
      metric: `${what}: first create → all Ready`,
      value: f.readyMs / 1000,
      target: atMost(t.ready),
    },
    {
      ...base,
      metric: `${what}: last create accepted → all answered`,
      value: f.answeredAfterLastMs / 1000,
      digits: 2,
      baseline: lag,
    },
    {
      ...base,
      metric: `${what}: last create accepted → all Ready`,
      value: f.readyAfterLastMs / 1000,
      digits: 2,
      target: atMost(t.readyAfterLast),
      baseline: lag,
    },
  ];
}

function costRows(f: BurstFigures, b: Baseline | undefined, what: string): Row[] {
  const scenario = scenarioName();
  const plane = (c: Cpu) =>
    `kube-apiserver ${c.apiserver.toFixed(2)} s + etcd ${c.etcd.toFixed(2)} s`;
  return [
    {
      scenario,
      metric: `${what}: controller API requests per record`,
      value: f.controllerRequests.total / f.records,
      unit: '',
      digits: 3,
      target: atMost(1.05),
      note: `${f.controllerRequests.total} requests: ${f.controllerRequests.text || 'none'} (watches and lists not counted)`,
    },
    {
      scenario,
      metric: `${what}: controller CPU per 1,000 records`,
      value: perThousand(f.cpu.controller, f.records),
      unit: 's',
      digits: 2,
      target: atMost(0.5),
      baseline: `${f.cpu.controller.toFixed(2)} s in all${b === undefined ? '' : `; idle while the creates alone ran: ${b.cpu.controller.toFixed(2)} s`}`,
    },
    {
      scenario,
      metric: `${what}: kube-apiserver + etcd CPU during the burst`,
      value: f.cpu.apiserver + f.cpu.etcd,
      unit: 's',
      digits: 2,
      baseline: `${plane(f.cpu)}${b === undefined ? '' : `; creates alone: ${(b.cpu.apiserver + b.cpu.etcd).toFixed(2)} s (${plane(b.cpu)})`}`,
    },
    {
      scenario,
      metric: `${what}: UPDATE messages`,
      value: f.updates,
      unit: '',
      note: `${f.reconciles} reconciles (mean ${f.reconcileMs.toFixed(0)} ms); ${(f.records / Math.max(1, f.updates)).toFixed(1)} records per UPDATE; ${f.retries} create retries`,
    },
    {
      scenario,
      metric: `${what}: controller RSS after`,
      value: f.rssBytes / 2 ** 20,
      unit: 'MB',
    },
  ];
}

function scenarioName(): string {
  const parts = [...CONTROLLER_ARGS, ...(POLICY ? [] : ['no admission policy'])];
  return parts.length === 0 ? 'burst' : `burst (${parts.join(', ')})`;
}

function rows(f: BurstFigures, b: Baseline | undefined, t: Targets): Row[] {
  const what = `${f.records.toLocaleString('en')} in ${f.zones} zone${f.zones === 1 ? '' : 's'}`;
  return [...timeRows(f, b, t, what), ...costRows(f, b, what)];
}

/** One phase: a fresh namespace, named and controller; the baseline, then the burst. */
async function phase(zones: readonly number[], perZone: number, targets: Targets): Promise<Row[]> {
  const fleet = await startFleet('bench-burst');
  const controller = await startControllerProcess({
    kubeconfigPath: fleet.controllerKubeconfig,
    namespace: fleet.namespace,
    extraArgs: CONTROLLER_ARGS,
    env: imageMemoryEnv(),
  });
  try {
    const started = performance.now();
    const { items, expected, names } = recordSet(zones, perZone);
    const baseline = values['no-baseline']
      ? undefined
      : await createsAlone(fleet, controller, items);
    const zonesMs = await provisionZones(fleet, zones, BOUND_MS);
    log(
      `${zones.length} zones Ready in ${zonesMs.toFixed(0)} ms; creating ${items.length} records`,
    );
    const figures = await burst(fleet, controller, zones, items, names, expected);
    log(`phase took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (controller.warnings.length > 0)
      log(`controller warnings: ${controller.warnings.length}; first: ${controller.warnings[0]}`);
    return rows(figures, baseline, targets);
  } finally {
    await controller.stop();
    await fleet.stop();
  }
}

async function main(): Promise<void> {
  const entry = controllerEntry(!values.sources);
  // Every fleet of this process runs on this cluster: the one bench/all.ts shares, or one
  // started here (always, without the policy).
  await useCluster({ admissionPolicy: POLICY });
  process.stdout.write(
    `${formatEnvironment(await environment())}\ncontroller:     ${entry}\n` +
      `admission:      ${POLICY ? 'deploy/admission-policy.yaml installed' : 'no admission policy'}\n`,
  );
  const out: Row[] = [];
  out.push(...(await phase([0], SMALL, { answered: 3, ready: 5, readyAfterLast: 0.5 })));
  out.push(...(await phase(range(ZONES, 1), PER_ZONE, { ready: 30, readyAfterLast: 2 })));
  report(out);
}

try {
  await main();
} finally {
  await stopCluster();
}
