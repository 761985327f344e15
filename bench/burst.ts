/**
 * Burst convergence: 1,000 ARecords in one zone created as fast as the API server accepts
 * them (32 creates in flight), timed from the first create to all answered by named and
 * to all Ready; then 10,000 records across 100 zones. Counts the UPDATE messages the
 * controller sent (its /metrics) and the reconciles it ran. Same-run baseline: the time
 * the API server took to accept the creates, a floor for Ready.
 *
 *     node bench/burst.ts [--small 1000] [--zones 100] [--per-zone 100] [--concurrency 32]
 *                         [--controller-args "--concurrency 16"]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { countsDelta, requestCounts } from './lib/apiserver.ts';
import { type ControllerProcess, startControllerProcess } from './lib/controller-process.ts';
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
import { atMost, log, type Row, report } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '1000' },
    zones: { type: 'string', default: '100' },
    'per-zone': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '32' },
    /** Extra flags for the controller, e.g. "--concurrency 16" (what-if runs). */
    'controller-args': { type: 'string', default: '' },
  },
});
const SMALL = Number(values.small);
const ZONES = Number(values.zones);
const PER_ZONE = Number(values['per-zone']);
const CONCURRENCY = Number(values.concurrency);
const CONTROLLER_ARGS = (values['controller-args'] ?? '').split(' ').filter((a) => a !== '');
const BOUND_MS = 600_000;

const UPDATES = 'bind9_controller_dns_updates_total';
const RECONCILES = 'bind9_controller_reconciles_total';

interface BurstFigures {
  readonly records: number;
  readonly zones: number;
  readonly acceptedMs: number;
  readonly answeredMs: number;
  readonly readyMs: number;
  readonly updates: number;
  readonly reconciles: number;
  readonly retries: number;
  /** API requests on our resources during the burst, by verb and resource. */
  readonly apiRequests: { total: number; text: string };
  /** Mean duration of one zone reconcile during the burst, ms. */
  readonly reconcileMs: number;
}

const RECONCILE_SUM = 'bind9_controller_reconcile_duration_seconds_sum';

/** Creates the records of `zones`, then waits for named to answer them all and for Ready. */
async function burst(
  fleet: Fleet,
  controller: ControllerProcess,
  zones: readonly number[],
  perZone: number,
): Promise<BurstFigures> {
  const zonesMs = await provisionZones(fleet, zones, BOUND_MS);
  log(
    `${zones.length} zones Ready in ${zonesMs.toFixed(0)} ms; creating ${zones.length * perZone} records`,
  );
  const { items, expected, names } = recordSet(zones, perZone);
  const watch = new ReadyWatch(fleet, 'arecords');
  await watch.start();
  const updatesBefore = await controller.counter(UPDATES);
  const reconcilesBefore = await controller.counter(RECONCILES);
  const secondsBefore = await controller.counter(RECONCILE_SUM);
  const requestsBefore = await requestCounts(fleet.cluster.kubeConfig);
  try {
    const answered = allAnswered(fleet, expected, BOUND_MS);
    const created = await createAll(fleet.admin, items, CONCURRENCY);
    log(
      `API accepted ${items.length} creates in ${(created.doneAt - created.startedAt).toFixed(0)} ms`,
    );
    const answeredAt = await answered;
    log('all answered');
    const readyAt = await watch.allReady(names, BOUND_MS);
    log(`all Ready (${watch.readyCount(names)}/${names.length})`);
    // Let the queue drain so the counts include the status-driven follow-up reconciles.
    await new Promise((r) => setTimeout(r, 3000));
    const since = (t: number | undefined) => (t === undefined ? Number.NaN : t - created.startedAt);
    const reconciles = (await controller.counter(RECONCILES)) - reconcilesBefore;
    const seconds = (await controller.counter(RECONCILE_SUM)) - secondsBefore;
    return {
      records: items.length,
      zones: zones.length,
      acceptedMs: created.doneAt - created.startedAt,
      answeredMs: since(answeredAt),
      readyMs: since(readyAt),
      updates: (await controller.counter(UPDATES)) - updatesBefore,
      reconciles,
      retries: created.retries,
      apiRequests: countsDelta(requestsBefore, await requestCounts(fleet.cluster.kubeConfig)),
      reconcileMs: (seconds * 1000) / Math.max(1, reconciles),
    };
  } finally {
    await watch.stop();
  }
}

function rows(f: BurstFigures, targets: { answered?: number; ready: number }): Row[] {
  const scenario = CONTROLLER_ARGS.length === 0 ? 'burst' : `burst (${CONTROLLER_ARGS.join(' ')})`;
  const what = `${f.records.toLocaleString('en')} in ${f.zones} zone${f.zones === 1 ? '' : 's'}`;
  const accepted = `API accepted all creates in ${(f.acceptedMs / 1000).toFixed(2)} s`;
  return [
    {
      scenario,
      metric: `${what}: answered`,
      value: f.answeredMs / 1000,
      unit: 's',
      ...(targets.answered === undefined ? {} : { target: atMost(targets.answered) }),
      baseline: accepted,
    },
    {
      scenario,
      metric: `${what}: Ready`,
      value: f.readyMs / 1000,
      unit: 's',
      target: atMost(targets.ready),
      baseline: accepted,
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
      metric: `${what}: API requests on our kinds`,
      value: f.apiRequests.total,
      unit: '',
      note: f.apiRequests.text,
    },
  ];
}

async function main(): Promise<void> {
  process.stdout.write(`${formatEnvironment(await environment())}\n`);
  const out: Row[] = [];
  for (const [zones, perZone, targets] of [
    [[0], SMALL, { answered: 3, ready: 5 }],
    [range(ZONES, 1), PER_ZONE, { ready: 30 }],
  ] as const) {
    // A fresh namespace, named and controller per phase: the second starts from nothing too.
    const fleet = await startFleet('bench-burst');
    const controller = await startControllerProcess({
      kubeconfigPath: fleet.controllerKubeconfig,
      namespace: fleet.namespace,
      extraArgs: CONTROLLER_ARGS,
    });
    try {
      const started = performance.now();
      const figures = await burst(fleet, controller, zones, perZone);
      log(`phase took ${((performance.now() - started) / 1000).toFixed(1)} s`);
      out.push(...rows(figures, targets));
      if (controller.warnings.length > 0)
        log(`controller warnings: ${controller.warnings.length}; first: ${controller.warnings[0]}`);
    } finally {
      await controller.stop();
      await fleet.stop();
    }
  }
  report(out);
}

try {
  await main();
} finally {
  await stopCluster();
}
