/**
 * `npm run cluster`: a real control plane in the foreground, for people, the demo and
 * scripts/test.sh (which shares one cluster across all test files).
 *
 *   npm run cluster -- [--kubeconfig-out PATH] [--crds DIR | --no-crds] [--bin-dir DIR]
 *
 * Prints the admin kubeconfig path on stdout once the API server is ready and the CRDs are
 * served (progress goes to stderr), then runs until SIGINT/SIGTERM/SIGHUP, when it stops
 * kube-apiserver and etcd, removes their state and the --kubeconfig-out file. It exits
 * non-zero if either component dies on its own.
 */
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type Cluster,
  K8S_VERSION,
  SHARED_KUBECONFIG_ENV,
  startCluster,
  writeAtomically,
} from './cluster.ts';

const say = (text: string) => process.stderr.write(`[cluster] ${text}\n`);

function options() {
  const { values } = parseArgs({
    options: {
      'kubeconfig-out': { type: 'string' },
      crds: { type: 'string' },
      'no-crds': { type: 'boolean', default: false },
      'bin-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return values;
}

async function publish(cluster: Cluster, out: string | undefined): Promise<string> {
  if (out === undefined) return cluster.kubeconfigPath;
  const path = resolve(out);
  // Atomically, so a script waiting for the file never reads half of it.
  await writeAtomically(path, await readFile(cluster.kubeconfigPath, 'utf8'));
  return path;
}

/**
 * The first SIGINT/SIGTERM/SIGHUP. Installed before the kubeconfig is published: a handler
 * installed after it is printed loses to a caller that signals as soon as it reads it
 * (Node.js takes a moment to install one; scripts/demo.ts died that way), and the default
 * action skips the clean-up. They stay installed, so a second signal cannot cut the
 * clean-up short. (During start-up the default action still ends us at once; the reaper
 * of cluster-process.ts removes what was started.)
 */
function signalled(): Promise<string> {
  return new Promise((done) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => done(signal));
    }
  });
}

function untilStopped(cluster: Cluster, signal: Promise<string>): Promise<string> {
  return new Promise((done) => {
    void signal.then(done);
    // Also keeps the event loop alive: the child processes are unreferenced.
    const timer = setInterval(() => {
      const why = cluster.exited();
      if (why !== undefined) {
        clearInterval(timer);
        done(`failure: ${why}`);
      }
    }, 1000);
  });
}

async function main(): Promise<number> {
  const args = options();
  if (args.help) {
    say(
      'usage: npm run cluster -- [--kubeconfig-out PATH] [--crds DIR | --no-crds] [--bin-dir DIR]',
    );
    return 0;
  }
  const started = performance.now();
  const cluster = await startCluster({
    crds: args['no-crds'] ? false : args.crds && resolve(args.crds),
    binDir: args['bin-dir'],
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const signal = signalled();
  const path = await publish(cluster, args['kubeconfig-out']);
  say(`kube-apiserver ${K8S_VERSION} ready at ${cluster.server} in ${seconds} s`);
  say(`state in ${cluster.stateDir}; Ctrl-C stops it`);
  say(`use it: export KUBECONFIG=${path}   (tests: export ${SHARED_KUBECONFIG_ENV}=${path})`);
  process.stdout.write(`${path}\n`);
  const reason = await untilStopped(cluster, signal);
  say(`stopping (${reason})`);
  await cluster.stop();
  if (path !== cluster.kubeconfigPath) await rm(path, { force: true });
  return reason.startsWith('failure') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
