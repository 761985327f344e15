/**
 * `npm run bench`: every scenario, one at a time (the machine has 2 cores; the big ones
 * must not overlap), against one kube-apiserver started here and shared through
 * $BIND9_TEST_KUBECONFIG. Each scenario prints its own table; this prints them all together
 * at the end, with the environment. Exit 0 unless a scenario broke: slowness is a figure.
 *
 *     node bench/all.ts [--only propagation,burst,memory,self-healing,dns-layer,sources] [--quick]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SHARED_KUBECONFIG_ENV, useCluster } from '../test/harness/cluster.ts';
import { NODE_BIN } from './lib/controller-process.ts';
import { environment, formatEnvironment } from './lib/env.ts';
import { atMost, formatTable, log, RESULTS_ENV, type Row } from './lib/report.ts';

const SCENARIOS = [
  'propagation',
  'burst',
  'memory',
  'self-healing',
  'dns-layer',
  'sources',
] as const;
/** --quick: small sizes, to check that everything runs (figures mean little). */
const QUICK: Readonly<Record<string, readonly string[]>> = {
  propagation: ['--count', '20'],
  burst: ['--small', '200', '--zones', '5', '--per-zone', '20'],
  memory: ['--starts', '2', '--zones', '5', '--per-zone', '20', '--settle', '2'],
  'self-healing': ['--zones', '5', '--per-zone', '20'],
  'dns-layer': ['--records', '1000'],
  sources: ['--count', '20'],
};
const { values } = parseArgs({
  options: {
    only: { type: 'string', default: SCENARIOS.join(',') },
    quick: { type: 'boolean', default: false },
  },
});
const chosen = (values.only ?? '').split(',').filter((s) => s !== '');

/** Runs one scenario script; resolves with its exit code and what it printed. */
function runScenario(name: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const args = values.quick ? (QUICK[name] ?? []) : [];
  const child = spawn(NODE_BIN, [resolve(import.meta.dirname, `${name}.ts`), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    process.stdout.write(chunk);
  });
  return new Promise((done) => child.once('exit', (code) => done({ code: code ?? 1, out })));
}

/** bench/dns-layer.ts prints its own text; its two sides become rows here. */
function dnsLayerRows(out: string): Row[] {
  const side = (name: string) =>
    new RegExp(`^${name}\\s+(\\d+) ms\\s+(\\d+) ms\\s+(\\d+) ms`, 'm').exec(out);
  const ours = side('ours');
  const theirs = side('nsupdate');
  const header = /^dns-layer: (\d+) adds/m.exec(out)?.[1] ?? '?';
  if (ours === null || theirs === null) return [];
  const ms = (m: RegExpExecArray, i: number) => Number(m[i]);
  const scenario = 'dns-layer';
  const n = Number(header).toLocaleString('en');
  return [
    {
      scenario,
      metric: `${n} adds + ${n} deletes, DnsClient`,
      value: ms(ours, 3),
      unit: 'ms',
      baseline: `nsupdate ${ms(theirs, 3)} ms (adds ${ms(theirs, 1)}, deletes ${ms(theirs, 2)})`,
      note: `adds ${ms(ours, 1)}, deletes ${ms(ours, 2)}`,
    },
    {
      scenario,
      metric: 'ratio DnsClient / nsupdate',
      value: ms(ours, 3) / ms(theirs, 3),
      unit: 'x',
      target: atMost(1),
    },
  ];
}

async function main(): Promise<number> {
  const env = await environment();
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'bench-'));
  const resultsFile = join(dir, 'rows.jsonl');
  const cluster = await useCluster();
  const childEnv = {
    ...process.env,
    [SHARED_KUBECONFIG_ENV]: cluster.kubeconfigPath,
    [RESULTS_ENV]: resultsFile,
  };
  const broken: string[] = [];
  const extra: Row[] = [];
  try {
    for (const name of chosen) {
      log(`scenario ${name}`);
      const { code, out } = await runScenario(name, childEnv);
      if (code !== 0) broken.push(`${name} (exit ${code})`);
      if (name === 'dns-layer') extra.push(...dnsLayerRows(out));
    }
  } finally {
    await cluster.stop();
  }
  const text = await readFile(resultsFile, 'utf8').catch(() => '');
  const rows = [
    ...text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Row),
    ...extra,
  ];
  await rm(dir, { recursive: true, force: true });
  process.stdout.write(
    [
      '',
      '## All scenarios',
      '',
      formatEnvironment(env),
      `command:        node bench/all.ts --only ${chosen.join(',')}${values.quick ? ' --quick' : ''}`,
      `wall time:      ${((performance.now() - started) / 60_000).toFixed(1)} min`,
      '',
      formatTable(rows),
      '',
      broken.length === 0 ? 'all scenarios ran' : `BROKEN: ${broken.join(', ')}`,
      '',
    ].join('\n'),
  );
  return broken.length === 0 ? 0 : 1;
}

process.exitCode = await main();
