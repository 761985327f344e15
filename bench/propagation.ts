/**
 * Propagation latency: 200 sequential ARecord creates, then 200 updates, each timed from
 * the API call returning to our own A query (DnsClient.query, UDP, polled every ~1 ms)
 * seeing the new data. Same-run baselines: the API call itself, and a TSIG-signed UPDATE
 * sent straight to named and polled the same way (the floor the controller adds to).
 *
 *     node bench/propagation.ts [--count 200] [--no-admission-policy]
 *
 * The control plane runs deploy/'s admission policy (a new record comes with the
 * controller's finalizer); `--no-admission-policy` starts one of its own without it.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { useCluster } from '../test/harness/cluster.ts';
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

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    'no-admission-policy': { type: 'boolean', default: false },
  },
});
const COUNT = Number(values.count);
const ZONE = 0;
const BOUND_MS = 10_000;
const WARMUP = 20;

interface Phase {
  readonly visible: number[];
  readonly api: number[];
}

async function creates(fleet: Fleet, count = COUNT, prefix = 'p'): Promise<Phase> {
  const phase: Phase = { visible: [], api: [] };
  for (let i = 0; i < count; i++) {
    const spec = {
      zone: zoneResource(ZONE),
      name: `${prefix}${i}`,
      ipv4Addresses: [address(ZONE, i)],
    };
    const called = performance.now();
    await fleet.admin.create('ARecord', `${prefix}${i}`, spec);
    const returned = performance.now();
    phase.api.push(returned - called);
    phase.visible.push(
      await visibleAfter(fleet, `${prefix}${i}.${zoneName(ZONE)}`, address(ZONE, i), returned),
    );
  }
  return phase;
}

async function updates(fleet: Fleet, count = COUNT, prefix = 'p'): Promise<Phase> {
  const phase: Phase = { visible: [], api: [] };
  for (let i = 0; i < count; i++) {
    const spec = {
      zone: zoneResource(ZONE),
      name: `${prefix}${i}`,
      ipv4Addresses: [address(ZONE, i, 1)],
    };
    const called = performance.now();
    await fleet.admin.patchSpec('ARecord', `${prefix}${i}`, spec);
    const returned = performance.now();
    phase.api.push(returned - called);
    phase.visible.push(
      await visibleAfter(fleet, `${prefix}${i}.${zoneName(ZONE)}`, address(ZONE, i, 1), returned),
    );
  }
  return phase;
}

/** The floor: the same change as one signed UPDATE straight to named, polled the same way. */
async function direct(fleet: Fleet): Promise<number[]> {
  const server = { address: fleet.named.address, port: fleet.named.dnsPort };
  const out: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const name = `d${i}.${zoneName(ZONE)}`;
    const started = performance.now();
    await fleet.dns.update(server, fleet.named.tsigKey, {
      zone: zoneName(ZONE),
      prerequisites: [],
      updates: [
        {
          kind: 'add',
          rrset: { name, type: 'A', ttl: 300, rdata: [{ address: address(ZONE, i) }] },
        },
      ],
    });
    out.push(await visibleAfter(fleet, name, address(ZONE, i), started));
  }
  return out;
}

function rows(what: string, s: Summary, missing: number, baseline: Summary, floor: Summary): Row[] {
  const scenario = 'propagation';
  const note = missing > 0 ? `${missing} not seen within ${BOUND_MS} ms` : '';
  return [
    {
      scenario,
      metric: `${what} p50`,
      value: s.p50,
      unit: 'ms',
      target: atMost(20),
      baseline: `API call p50 ${baseline.p50.toFixed(1)} ms; direct UPDATE p50 ${floor.p50.toFixed(1)} ms`,
      note,
    },
    {
      scenario,
      metric: `${what} p90`,
      value: s.p90,
      unit: 'ms',
      baseline: `direct UPDATE p90 ${floor.p90.toFixed(1)} ms`,
    },
    {
      scenario,
      metric: `${what} p99`,
      value: s.p99,
      unit: 'ms',
      target: atMost(100),
      baseline: `API call p99 ${baseline.p99.toFixed(1)} ms; direct UPDATE p99 ${floor.p99.toFixed(1)} ms`,
    },
    {
      scenario,
      metric: `${what} max`,
      value: s.max,
      unit: 'ms',
      baseline: `direct UPDATE max ${floor.max.toFixed(1)} ms`,
    },
  ];
}

const finite = (xs: number[]) => xs.filter(Number.isFinite);

async function main(): Promise<void> {
  const env = await environment();
  // Every fleet of this process runs on this cluster (always one of its own without the policy).
  const policy = !values['no-admission-policy'];
  await useCluster({ admissionPolicy: policy });
  process.stdout.write(
    `${formatEnvironment(env)}\nadmission:      ${policy ? 'deploy/admission-policy.yaml installed' : 'no admission policy'}\n`,
  );
  log(`propagation: ${COUNT} creates and ${COUNT} updates, one at a time`);
  const fleet = await startFleet('bench-lat');
  const controller = await startControllerProcess({
    kubeconfigPath: fleet.controllerKubeconfig,
    namespace: fleet.namespace,
  });
  try {
    await provisionZones(fleet, [ZONE], 60_000);
    // Warm-up, not measured: first connections, JIT, the API server's fresh CRD storage.
    await creates(fleet, WARMUP, 'w');
    await updates(fleet, WARMUP, 'w');
    const reconcilesBefore = await controller.counter('bind9_controller_reconciles_total');
    const created = await creates(fleet);
    log('creates done');
    const updated = await updates(fleet);
    log('updates done');
    const floor = summarize(await direct(fleet));
    const reconciles =
      (await controller.counter('bind9_controller_reconciles_total')) - reconcilesBefore;
    const c = summarize(finite(created.visible));
    const u = summarize(finite(updated.visible));
    report([
      ...rows('create → answered', c, COUNT - c.n, summarize(created.api), floor),
      ...rows('update → answered', u, COUNT - u.n, summarize(updated.api), floor),
      {
        scenario: 'propagation',
        metric: 'reconciles per change',
        value: reconciles / (2 * COUNT),
        unit: '',
        note: `${reconciles} reconciles for ${2 * COUNT} changes (status writes wake the zone again)`,
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
