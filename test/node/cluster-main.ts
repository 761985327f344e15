/**
 * The one-node cluster's command line (run it through scripts/cluster.sh, which installs
 * what is missing first and holds a lock):
 *
 *   up                  bring it up, or reuse the running one; prints the admin kubeconfig
 *   down                stop it and remove its namespace, routes, mounts and processes
 *   status              whether it runs, and what a stopped one left behind
 *   exec CMD [ARGS...]  run a command inside the namespace (KUBECONFIG set, kubectl on PATH)
 *   kubectl ARGS...     kubectl inside the namespace
 *   start-inside        (internal) start the daemons, from inside the namespace
 */
import { spawn } from 'node:child_process';
import { leftovers } from './cleanup.ts';
import { paths } from './config.ts';
import { down, healthy, nodeBinDir, readInfo, startInside, up } from './lifecycle.ts';
import { insideClusterNetns } from './system.ts';

function binDirArg(args: readonly string[]): string | undefined {
  return args.find((a) => a.startsWith('--bin-dir='))?.slice('--bin-dir='.length);
}

/** Runs a command inside the namespace with the terminal attached; resolves to its exit code. */
async function execInside(cmd: string, args: readonly string[]): Promise<number> {
  const info = await readInfo();
  const binDir = info?.binDir ?? nodeBinDir();
  const env = {
    ...process.env,
    KUBECONFIG: paths.adminKubeconfig,
    PATH: `${binDir}:${process.env.PATH ?? ''}`,
  };
  const argv = insideClusterNetns()
    ? [cmd, ...args]
    : ['nsenter', `--net=${paths.netnsFile}`, '--', cmd, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'inherit', env });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))),
  );
}

async function main(argv: readonly string[]): Promise<number> {
  const [command = 'status', ...rest] = argv;
  switch (command) {
    case 'up': {
      const info = await up(binDirArg(rest));
      process.stdout.write(`${info.kubeconfig}\n`);
      process.stderr.write(
        `[cluster] node ${info.node} (${info.nodeIp}) in namespace ${info.netns}; try: scripts/cluster.sh kubectl get pods -A\n`,
      );
      return 0;
    }
    case 'down':
      await down();
      return 0;
    case 'status': {
      const info = await healthy();
      const left = await leftovers();
      process.stdout.write(
        `${JSON.stringify({ running: info !== undefined, info, leftovers: left }, null, 2)}\n`,
      );
      return info !== undefined ? 0 : 3;
    }
    case 'start-inside':
      await startInside(binDirArg(rest) ?? nodeBinDir());
      return 0;
    case 'exec':
      return execInside(rest[0] ?? 'bash', rest.slice(1));
    case 'kubectl':
      return execInside('kubectl', rest);
    default:
      process.stderr.write(`unknown command ${command}: up, down, status, exec, kubectl\n`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`[cluster] ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
