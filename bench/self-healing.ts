/**
 * Self-healing: while named serves 100 zones and 10,000 records put there by the
 * controller, named is stopped and started again with an empty data directory (a lost
 * disk: no zone files, no NZD database). Timed until every zone answers every record again,
 * from named being back up (empty) and from the moment it was stopped. The controller runs
 * with its default flags (health poll every 3 s). Same-run baseline: how long the first
 * convergence of the same records took.
 *
 *     node bench/self-healing.ts [--zones 100] [--per-zone 100] [--bound 300]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startControllerProcess } from './lib/controller-process.ts';
import { environment, formatEnvironment } from './lib/env.ts';
import {
  allAnswered,
  createAll,
  provisionZones,
  ReadyWatch,
  range,
  recordSet,
  startFleet,
  stopCluster,
} from './lib/fleet.ts';
import { atMost, log, report } from './lib/report.ts';

const { values } = parseArgs({
  options: {
    zones: { type: 'string', default: '100' },
    'per-zone': { type: 'string', default: '100' },
    /** How long to wait for convergence and for healing, seconds. */
    bound: { type: 'string', default: '300' },
  },
});
const ZONES = Number(values.zones);
const PER_ZONE = Number(values['per-zone']);
const BOUND_MS = Number(values.bound) * 1000;

async function main(): Promise<void> {
  process.stdout.write(`${formatEnvironment(await environment())}\n`);
  const fleet = await startFleet('bench-heal');
  const controller = await startControllerProcess({
    kubeconfigPath: fleet.controllerKubeconfig,
    namespace: fleet.namespace,
  });
  try {
    const zones = range(ZONES, 1);
    await provisionZones(fleet, zones, BOUND_MS);
    const { items, expected, names } = recordSet(zones, PER_ZONE);
    const watch = new ReadyWatch(fleet, 'arecords');
    await watch.start();
    const { startedAt } = await createAll(fleet.admin, items, 32);
    const firstAnswered = await allAnswered(fleet, expected, BOUND_MS);
    if ((await watch.allReady(names, BOUND_MS)) === undefined) log('not all Ready before the wipe');
    await watch.stop();
    log(`${items.length} records served; wiping named`);
    const updatesBefore = await controller.counter('bind9_controller_dns_updates_total');
    const killedAt = performance.now();
    await fleet.named.restart({ wipe: true });
    const upAt = performance.now();
    const healedAt = await allAnswered(fleet, expected, BOUND_MS);
    if (healedAt === undefined) {
      log(`NOT everything answered ${BOUND_MS / 1000} s after the wipe; controller log tail:`);
      process.stderr.write(`${controller.tail.slice(-40).join('\n')}\n`);
    }
    const updates =
      (await controller.counter('bind9_controller_dns_updates_total')) - updatesBefore;
    const scenario = 'self-healing';
    const n = `${ZONES} zones / ${items.length.toLocaleString('en')} records`;
    const first = `first convergence took ${(((firstAnswered ?? Number.NaN) - startedAt) / 1000).toFixed(1)} s`;
    report([
      {
        scenario,
        metric: `${n}: named back up (empty) → all answered`,
        value: ((healedAt ?? Number.NaN) - upAt) / 1000,
        unit: 's',
        target: atMost(10),
        baseline: first,
        note: `${updates} UPDATE messages to restore`,
      },
      {
        scenario,
        metric: `${n}: named stopped → all answered`,
        value: ((healedAt ?? Number.NaN) - killedAt) / 1000,
        unit: 's',
        note: `named restart itself took ${((upAt - killedAt) / 1000).toFixed(1)} s`,
      },
    ]);
  } finally {
    await controller.stop();
    await fleet.stop();
  }
}

try {
  await main();
} finally {
  await stopCluster();
}
