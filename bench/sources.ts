/**
 * Records from Services (issue #15): a LoadBalancer Service's status changes 200 times
 * (its address, as a load balancer controller would write it), each timed from the status
 * patch returning to our own A query seeing the new address. Same-run baseline, interleaved
 * with it one for one so both see the same machine: a hand-written ARecord's address changed
 * by a spec patch, timed the same way. The Service path adds the source reconcile and the
 * generated record's server-side apply (one more API write, one more watch event) in front
 * of the zone reconcile both share.
 *
 *     node bench/sources.ts [--count 200]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Apps, bindSourceRoles, HOST } from '../test/integration/source-helpers.ts';
import { startControllerProcess } from './lib/controller-process.ts';
import { environment, formatEnvironment } from './lib/env.ts';
import {
  address,
  type Fleet,
  provisionZones,
  startFleet,
  stopCluster,
  visibleAfter,
  zoneName,
  zoneResource,
} from './lib/fleet.ts';
import { atMost, log, type Row, report, type Summary, summarize } from './lib/report.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '200' } } });
const COUNT = Number(values.count);
const ZONE = 0;
const WARMUP = 20;

interface Series {
  readonly visible: number[];
  readonly api: number[];
}

const series = (): Series => ({ visible: [], api: [] });

/** One change: `write` returns once the API server took it; then named is polled. */
async function timed(
  fleet: Fleet,
  s: Series,
  change: { name: string; want: string; write: () => Promise<unknown> },
) {
  const called = performance.now();
  await change.write();
  const returned = performance.now();
  s.api.push(returned - called);
  s.visible.push(await visibleAfter(fleet, change.name, change.want, returned));
}

function rows(what: string, s: Summary, missing: number, api: Summary, base: Summary): Row[] {
  const scenario = 'sources';
  const note = missing > 0 ? `${missing} not seen within 10000 ms` : '';
  return [
    {
      scenario,
      metric: `${what} p50`,
      value: s.p50,
      unit: 'ms',
      target: atMost(50),
      baseline: `ARecord update → answered p50 ${base.p50.toFixed(1)} ms; status patch p50 ${api.p50.toFixed(1)} ms`,
      note,
    },
    {
      scenario,
      metric: `${what} p99`,
      value: s.p99,
      unit: 'ms',
      target: atMost(200),
      baseline: `ARecord update → answered p99 ${base.p99.toFixed(1)} ms`,
    },
    {
      scenario,
      metric: `${what} max`,
      value: s.max,
      unit: 'ms',
      baseline: `ARecord update → answered max ${base.max.toFixed(1)} ms`,
    },
  ];
}

const finite = (xs: number[]) => xs.filter(Number.isFinite);

async function main(): Promise<void> {
  process.stdout.write(`${formatEnvironment(await environment())}\n`);
  log(`sources: ${COUNT} Service status changes and ${COUNT} ARecord updates, interleaved`);
  const fleet = await startFleet('bench-src');
  await bindSourceRoles(fleet.cluster, ['service']);
  const controller = await startControllerProcess({
    kubeconfigPath: fleet.controllerKubeconfig,
    namespace: fleet.namespace,
    extraArgs: ['--sources', 'service'],
  });
  const apps = new Apps(fleet.cluster, fleet.namespace);
  const zone = zoneName(ZONE);
  try {
    await provisionZones(fleet, [ZONE], 60_000);
    await apps.service('web', { [HOST]: `svc.${zone}` });
    const aRecord = (ip: string) => ({
      zone: zoneResource(ZONE),
      name: 'rec',
      ipv4Addresses: [ip],
    });
    await fleet.admin.create('ARecord', 'rec', aRecord(address(ZONE, 0, 3)));
    const service = series();
    const record = series();
    const round = async (i: number, s: Series, r: Series) => {
      const svcIp = address(ZONE, i, 1);
      await timed(fleet, s, {
        name: `svc.${zone}`,
        want: svcIp,
        write: () => apps.balance('web', [svcIp]),
      });
      const recIp = address(ZONE, i, 2);
      await timed(fleet, r, {
        name: `rec.${zone}`,
        want: recIp,
        write: () => fleet.admin.patchSpec('ARecord', 'rec', aRecord(recIp)),
      });
    };
    // Warm-up, not measured: first connections, JIT, the first generated record's creation.
    for (let i = 0; i < WARMUP; i++) await round(COUNT + i, series(), series());
    const reconcilesBefore = await controller.counter('bind9_controller_reconciles_total');
    for (let i = 0; i < COUNT; i++) await round(i, service, record);
    const reconciles =
      (await controller.counter('bind9_controller_reconciles_total')) - reconcilesBefore;
    const s = summarize(finite(service.visible));
    const r = summarize(finite(record.visible));
    report([
      ...rows('Service status → answered', s, COUNT - s.n, summarize(service.api), r),
      {
        scenario: 'sources',
        metric: 'reconciles per change',
        value: reconciles / (2 * COUNT),
        unit: '',
        note: `${reconciles} reconciles (source and zone keys) for ${2 * COUNT} changes`,
      },
    ]);
    if (controller.warnings.length > 0)
      log(`controller warnings: ${controller.warnings.length}, first: ${controller.warnings[0]}`);
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
