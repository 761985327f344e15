/**
 * The controller as a child process (`bind9-controller run`, the real CLI), so its RSS is
 * its own and its event loop does not share time with the benchmark's polling. Start-up is
 * timed from spawn to the "controller started" log line (every informer has listed and
 * watches) and to the first 200 from /readyz.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { ZONE_FILE_ROOT } from '../../test/harness/named.ts';
import { freePort } from '../../test/harness/ports.ts';
import { cpuSeconds } from './proc.ts';

const REPO = resolve(import.meta.dirname, '../..');
export const NODE_BIN = resolve(REPO, 'node_modules/.bin/node');

/** Extra node flags for the child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (profiling). */
export const CONTROLLER_NODE_ARGS_ENV = 'BENCH_CONTROLLER_NODE_ARGS';
/** The CLI entry the child runs, relative to the repository: the sources by default, or the
 *  build (`dist/src/cli/main.js`, after `npm run build`) as the image runs it. */
export const CONTROLLER_ENTRY_ENV = 'BENCH_CONTROLLER_ENTRY';
/** What `npm run build` makes of src/cli/main.ts: the JavaScript the image runs. */
export const BUILT_ENTRY = 'dist/src/cli/main.js';

/**
 * The CLI entry the controller children run: $BENCH_CONTROLLER_ENTRY when set (e.g. another
 * checkout's build, for a before/after in one session); else the build when `built` (it
 * runs `npm run build` first), else the TypeScript sources.
 */
export function controllerEntry(built: boolean): string {
  const chosen = process.env[CONTROLLER_ENTRY_ENV];
  if (chosen !== undefined && chosen !== '') return chosen;
  if (!built) return 'src/cli/main.ts';
  execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO, stdio: 'inherit' });
  process.env[CONTROLLER_ENTRY_ENV] = BUILT_ENTRY;
  return BUILT_ENTRY;
}

/** A directory to keep each controller child's whole log in (`controller-PID.log`). */
export const CONTROLLER_LOG_DIR_ENV = 'BENCH_CONTROLLER_LOG_DIR';

export interface ControllerProcessOptions {
  readonly kubeconfigPath: string;
  readonly namespace: string;
  readonly extraArgs?: readonly string[];
  readonly startTimeoutMs?: number;
  /** Set in the child's environment over the benchmark's own (e.g. the image's heap flags,
   *  lib/image-env.ts). Node flags in BENCH_CONTROLLER_NODE_ARGS still win: node reads its
   *  command line after NODE_OPTIONS. `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ControllerProcess {
  readonly pid: number;
  readonly metricsPort: number;
  /** Spawn to the "controller started" log line. */
  readonly startedMs: number;
  /** Spawn to the first 200 from /readyz. */
  readonly readyzMs: number;
  /** Spawn to the "serving /healthz" line: node start plus loading our modules. */
  readonly loadedMs: number;
  /** Current and peak resident set size, bytes (/proc/PID/status VmRSS, VmHWM). */
  memory(): Promise<{ rss: number; peak: number }>;
  /** User + system CPU seconds used so far (/proc/PID/stat). */
  cpuSeconds(): Promise<number>;
  /** /metrics text. */
  metrics(): Promise<string>;
  /** Sum of a counter's samples in /metrics (all label sets). */
  counter(name: string): Promise<number>;
  /** Log lines at warn or above, and the last lines, for diagnosis. */
  readonly warnings: readonly string[];
  readonly tail: readonly string[];
  stop(): Promise<void>;
}

interface LogLine {
  level?: number;
  msg?: string;
}

function parseLine(line: string): LogLine {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return {};
  }
}

async function httpStatus(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.text();
    return response.status;
  } catch {
    return 0;
  }
}

/** Sums every sample of `name` (with or without labels) in Prometheus text. */
export function sumCounter(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

function spawnChild(o: ControllerProcessOptions, port: number): ChildProcess {
  const nodeArgs = (process.env[CONTROLLER_NODE_ARGS_ENV] ?? '').split(' ').filter((a) => a);
  const args = [
    ...nodeArgs,
    resolve(REPO, process.env[CONTROLLER_ENTRY_ENV] ?? 'src/cli/main.ts'),
    'run',
    '--kubeconfig',
    o.kubeconfigPath,
    '--namespace',
    o.namespace,
    '--metrics-address',
    `127.0.0.1:${port}`,
    // Benchmarks use harness named servers with directory delivery (their files live here).
    '--zone-file-root',
    ZONE_FILE_ROOT,
    ...(o.extraArgs ?? []),
  ];
  const env = { ...process.env };
  for (const [name, value] of Object.entries(o.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return spawn(NODE_BIN, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function startControllerProcess(
  o: ControllerProcessOptions,
): Promise<ControllerProcess> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawnChild(o, port);
  const warnings: string[] = [];
  const tail: string[] = [];
  const marks = new Map<string, number>();
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  const logDir = process.env[CONTROLLER_LOG_DIR_ENV];
  if (logDir !== undefined && logDir !== '') {
    const file = createWriteStream(resolve(logDir, `controller-${child.pid}.log`));
    child.stdout?.pipe(file);
  }
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail.push(...chunk.split('\n').filter((l) => l !== ''));
    tail.splice(0, Math.max(0, tail.length - 200));
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = parseLine(line);
    if (parsed.msg !== undefined && !marks.has(parsed.msg))
      marks.set(parsed.msg, performance.now());
    if ((parsed.level ?? 0) >= 40 && warnings.length < 1000) warnings.push(line);
    tail.push(line);
    if (tail.length > 200) tail.shift();
  });
  const base = `http://127.0.0.1:${port}`;
  let readyzAt: number | undefined;
  const deadline = performance.now() + (o.startTimeoutMs ?? 60_000);
  while (readyzAt === undefined || !marks.has('controller started')) {
    if (exited !== undefined || performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`controller did not start (${exited ?? 'timeout'}):\n${tail.join('\n')}`);
    }
    if (readyzAt === undefined && (await httpStatus(`${base}/readyz`)) === 200) {
      readyzAt = performance.now();
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const since = (t: number | undefined) => (t ?? Number.NaN) - spawnedAt;
  const metrics = async () => (await fetch(`${base}/metrics`)).text();
  return {
    pid: child.pid ?? -1,
    metricsPort: port,
    startedMs: since(marks.get('controller started')),
    readyzMs: since(readyzAt),
    loadedMs: since(marks.get('serving /healthz, /readyz, /metrics')),
    async memory() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
      return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
    },
    cpuSeconds: () => cpuSeconds(child.pid ?? -1),
    metrics,
    counter: async (name) => sumCounter(await metrics(), name),
    warnings,
    tail,
    async stop() {
      if (exited !== undefined) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
