/**
 * What start-up and idle memory are made of: each module imported alone in a fresh node
 * process (median of several), timed from process start (performance.timeOrigin) to the
 * import done, with the RSS and V8 heap right after. Explains the memory scenario's figures.
 *
 *     node bench/imports.ts [--runs 3]
 *     NODE_COMPILE_CACHE=/tmp/ncc node bench/imports.ts   # with V8's compile cache (2nd run on)
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_BIN } from './lib/controller-process.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const REPO = resolve(import.meta.dirname, '..');

const MODULES = [
  'node:http',
  'pino',
  'p-queue',
  '@sinclair/typebox',
  'yaml',
  '@kubernetes/client-node',
  './src/api/index.ts',
  './src/dns/client.ts',
  './src/controller/controller.ts',
  './src/kube/client.ts',
  './src/cli/run.ts',
];

interface Sample {
  ms: number;
  rss: number;
  heap: number;
}

function measure(specifier: string): Promise<Sample> {
  const code = [
    `await import(${JSON.stringify(specifier)});`,
    'const m = process.memoryUsage();',
    'console.log(JSON.stringify({ ms: performance.now(), rss: m.rss, heap: m.heapUsed }));',
  ].join('\n');
  return new Promise((done, fail) => {
    execFile(NODE_BIN, ['--input-type=module', '-e', code], { cwd: REPO }, (error, stdout) => {
      if (error) fail(error);
      else done(JSON.parse(stdout) as Sample);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const MB = 2 ** 20;

async function main(): Promise<void> {
  const lines = ['| module | import done after start | RSS | V8 heap used |', '|---|---|---|---|'];
  for (const m of MODULES) {
    const samples: Sample[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(await measure(m));
    lines.push(
      `| ${m} | ${median(samples.map((s) => s.ms)).toFixed(0)} ms | ${(median(samples.map((s) => s.rss)) / MB).toFixed(1)} MB | ${(median(samples.map((s) => s.heap)) / MB).toFixed(1)} MB |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
