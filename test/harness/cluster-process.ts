/**
 * Child processes of the test control plane: each runs in its own process group with its
 * output in a log file, and a reaper makes sure none outlives the Node.js process that
 * started it.
 *
 * Why a reaper: `process.on('exit')` does not run when Node.js is killed (SIGKILL, a test
 * runner's timeout), and kube-apiserver and etcd do not notice their parent going away.
 * A tiny detached `sh` loop watches our pid and, once it is gone, kills the process groups
 * listed in the state directory and removes the directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

export interface Component {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** The exit code or signal once the process has ended, else undefined. */
  exitStatus(): string | undefined;
  /** The last `bytes` of its log. */
  logTail(bytes?: number): Promise<string>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export class ComponentError extends Error {
  override readonly name = 'ComponentError';
}

const PGID_FILE = 'process-groups';
const live = new Map<string, { groups: Set<number>; reaper: ChildProcess | undefined }>();

// Last resort for a normal exit without stop(): kill what is left and remove the state.
process.on('exit', () => {
  for (const [dir, state] of live) {
    for (const group of state.groups) killGroup(group, 'SIGKILL');
    if (state.reaper?.pid !== undefined) killGroup(state.reaper.pid, 'SIGKILL');
    if (!process.env.KEEP_CLUSTER) rmSync(dir, { recursive: true, force: true });
  }
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone (ESRCH): nothing to do.
  }
}

// A group id is a pid, and pids are reused: a component that has exited could have left its
// number to an unrelated process group by the time the reaper runs. So the file lists only
// live components (rewritten when one exits), and the reaper kills a group only while its
// leader's command line still names our state directory (every component's does).
const REAPER_SCRIPT = [
  'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
  'if [ -f "$2/process-groups" ]; then for g in $(cat "$2/process-groups"); do',
  '  grep -qF -- "$2" "/proc/$g/cmdline" 2>/dev/null && kill -s KILL -- "-$g" 2>/dev/null',
  'done; fi',
  '[ -n "$3" ] || rm -rf "$2"',
].join('\n');

/** Rewrites the state directory's list of process groups to the live ones. */
function writeGroups(stateDir: string): void {
  const groups = live.get(stateDir)?.groups;
  if (groups === undefined) return;
  try {
    writeFileSync(join(stateDir, PGID_FILE), [...groups].map((g) => `${g}\n`).join(''));
  } catch {
    // The directory is already gone (stopped): nothing left to list.
  }
}

/** Registers `dir` as a control-plane state directory watched by a reaper process. */
export function watchStateDir(dir: string): void {
  const keep = process.env.KEEP_CLUSTER ? '1' : '';
  const reaper = spawn('sh', ['-c', REAPER_SCRIPT, 'reaper', String(process.pid), dir, keep], {
    detached: true,
    stdio: 'ignore',
  });
  reaper.unref();
  live.set(dir, { groups: new Set(), reaper });
}

/** Stops the reaper and forgets `dir`; the caller removes it (or keeps it on purpose). */
export async function releaseStateDir(dir: string): Promise<void> {
  const reaper = live.get(dir)?.reaper;
  live.delete(dir);
  if (reaper?.pid === undefined || reaper.exitCode !== null || reaper.signalCode !== null) return;
  // The reaper is unreferenced: a referenced timer keeps Node.js alive until it is gone.
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise((resolve) => {
    reaper.once('exit', resolve);
    timer = setTimeout(resolve, 5000);
  });
  killGroup(reaper.pid, 'SIGKILL');
  await exited;
  clearTimeout(timer);
}

export function startComponent(
  stateDir: string,
  name: string,
  bin: string,
  args: readonly string[],
): Component {
  if (!args.some((a) => a.includes(stateDir))) {
    // The reaper recognises a component by its state directory on the command line.
    throw new ComponentError(`${name}: no argument names the state directory ${stateDir}`);
  }
  const logFile = join(stateDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  // detached: its own process group, so stop() reaches anything it forks, and a Ctrl-C
  // meant for `npm run cluster` reaches us first and we shut down in order.
  const proc = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (proc.pid === undefined) throw new ComponentError(`could not start ${name} (${bin})`);
  const pid = proc.pid;
  // Unreferenced: a test that forgets stop() still ends, and the exit hook cleans up.
  proc.unref();
  live.get(stateDir)?.groups.add(pid);
  appendFileSync(join(stateDir, PGID_FILE), `${pid}\n`);
  let status: string | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      status = signal ?? `exit code ${code}`;
      live.get(stateDir)?.groups.delete(pid);
      writeGroups(stateDir);
      resolve();
    });
  });
  proc.once('error', (err) => {
    status = `spawn error: ${err.message}`;
  });
  return {
    name,
    pid,
    logFile,
    exitStatus: () => status,
    logTail: (bytes = 4000) => tail(logFile, bytes),
    async stop(graceMs = 10_000) {
      if (status !== undefined) return;
      // Signals go to the group only while the leader is not yet reaped: after its 'exit'
      // event its pid, and so the group id, may already belong to another process.
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function tail(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}
