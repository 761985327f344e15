/**
 * `bind9-controller run` as the image runs it and as development runs it: each as a child
 * process against the real kube-apiserver, with a module probe (module-probe.ts) that lists
 * every module the process resolved. Asserted: the run path never loads
 * @kubernetes/client-node, and the built JavaScript (npm run build → dist/) runs without a
 * single TypeScript module and answers the CLI as the sources do. Start-up time and RSS are
 * printed as diagnostics only (tests do not judge timing).
 *
 *     node --test test/integration/run-footprint.test.ts
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Cluster, useCluster } from '../harness/cluster.ts';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const PROBE = join(import.meta.dirname, 'module-probe.mjs');
const SOURCES = join(REPO, 'src/cli/main.ts');
const BUILT = join(REPO, 'dist/src/cli/main.js');

interface RunResult {
  readonly modules: readonly string[];
  readonly startedMs: number;
  readonly rssMB: number;
  readonly exitCode: number | null;
}

let cluster: Cluster;
let ns: string;

before(async () => {
  cluster = await useCluster();
  ns = await cluster.createNamespace('run-footprint');
  await run('npm', ['run', '-s', 'build'], { cwd: REPO, timeout: 300_000 });
});
after(() => cluster?.stop());

/** Starts `run` with the probe, waits for "controller started", then SIGTERM. */
async function runController(entry: string, tag: string): Promise<RunResult> {
  const out = join(cluster.stateDir, `modules-${tag}-${ns}.txt`);
  const args = ['--import', PROBE, entry, 'run', '--kubeconfig', cluster.kubeconfigPath];
  args.push('--namespace', ns, '--metrics-address', '127.0.0.1:0');
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, MODULE_PROBE_OUT: out },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const startedMs = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('no "controller started" in 60 s')), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('"controller started"')) return;
      clearTimeout(timer);
      ok(performance.now() - spawnedAt);
    });
    void exited.then((code) => fail(new Error(`controller exited (${code}) before starting`)));
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
  const rssMB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  child.kill('SIGTERM');
  const exitCode = await exited;
  const modules = (await readFile(out, 'utf8')).split('\n').filter((l) => l !== '');
  return { modules, startedMs, rssMB, exitCode };
}

const clientNode = (m: string) => m.includes('/@kubernetes/client-node/');

async function cli(entry: string, args: readonly string[]) {
  try {
    const { stdout } = await run(process.execPath, [entry, ...args], { cwd: REPO });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '' };
  }
}

describe('bind9-controller run: what it loads', () => {
  it('runs from the TypeScript sources without loading @kubernetes/client-node', async (t) => {
    const r = await runController(SOURCES, 'ts');
    t.diagnostic(`sources: started at ${r.startedMs.toFixed(0)} ms, RSS ${r.rssMB.toFixed(1)} MB`);
    t.diagnostic(`${r.modules.length} modules resolved`);
    assert.equal(r.exitCode, 0, 'SIGTERM ends it cleanly');
    // The probe sees our own Kubernetes code, so it would see client-node too.
    assert.ok(r.modules.some((m) => m.endsWith('/src/kube/informer.ts')));
    assert.ok(r.modules.some((m) => m.includes('/node_modules/pino/')));
    assert.deepEqual(r.modules.filter(clientNode), []);
  });

  it('runs the built JavaScript without any TypeScript module or client-node', async (t) => {
    const r = await runController(BUILT, 'js');
    t.diagnostic(`built: started at ${r.startedMs.toFixed(0)} ms, RSS ${r.rssMB.toFixed(1)} MB`);
    assert.equal(r.exitCode, 0, 'SIGTERM ends it cleanly');
    assert.ok(r.modules.some((m) => m.endsWith('/dist/src/kube/informer.js')));
    const typescript = r.modules.filter((m) => m.endsWith('.ts') && m !== `file://${PROBE}`);
    assert.deepEqual(typescript, []);
    assert.deepEqual(r.modules.filter(clientNode), []);
  });

  it('answers --help, run --help and crds --check from the build as from the sources', async () => {
    for (const args of [['--help'], ['run', '--help'], ['crds', '--check'], ['nonsense']]) {
      const fromSources = await cli(SOURCES, args);
      const fromBuild = await cli(BUILT, args);
      assert.deepEqual(fromBuild, fromSources, args.join(' '));
    }
    assert.equal((await cli(BUILT, ['crds', '--check'])).code, 0);
  });
});
