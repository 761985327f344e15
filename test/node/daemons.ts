/**
 * The cluster's daemons run detached (their own session), outliving the `up` that started
 * them; each has a pid file and a log in the state directory. They inherit the network
 * namespace of the process that starts them: `up` starts them from inside the cluster's.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DaemonSpec } from './components.ts';
import { type Daemon, paths } from './config.ts';
import { NodeClusterError } from './system.ts';

export const logFile = (name: Daemon) => join(paths.logs, `${name}.log`);
const pidFile = (name: Daemon) => join(paths.pids, `${name}.pid`);

/** Starts a daemon detached, its stdout and stderr appended to logs/<name>.log. */
export async function startDaemon(name: Daemon, spec: DaemonSpec): Promise<number> {
  const log = openSync(logFile(name), 'a');
  const child = spawn(spec.bin, spec.args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}` },
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new NodeClusterError(`${name} did not start (${spec.bin})`);
  child.unref();
  await writeFile(pidFile(name), `${pid}\n${spec.bin}\n`);
  return pid;
}

/** The pid of a daemon when it runs (and is the binary its pid file names), else undefined. */
export function daemonPid(name: Daemon): number | undefined {
  try {
    const [pid = '', bin = ''] = readFileSync(pidFile(name), 'utf8').split('\n');
    const exe = readlinkSync(`/proc/${pid}/exe`);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z /.test(stat)) return undefined;
    return exe === bin || exe.startsWith(`${bin} `) ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
}

/** The last `bytes` of a daemon's log, for error messages. */
export function logTail(name: Daemon, bytes = 3000): string {
  try {
    const text = readFileSync(logFile(name), 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}
