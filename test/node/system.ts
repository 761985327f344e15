/**
 * Small host operations for the one-node cluster: running commands, telling which network
 * namespace a process is in, and running a command inside the cluster's namespace.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { paths } from './config.ts';

const execFileAsync = promisify(execFile);

export class NodeClusterError extends Error {
  override readonly name = 'NodeClusterError';
}

export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Runs a command and returns its stdout; on failure the error carries its stderr. */
export async function sh(cmd: string, args: readonly string[], opts: RunOptions = {}) {
  const child = execFileAsync(cmd, args, {
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 << 20,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  if (opts.input !== undefined) child.child.stdin?.end(opts.input);
  try {
    return (await child).stdout;
  } catch (cause) {
    const stderr = String((cause as { stderr?: unknown }).stderr ?? '').trim();
    throw new NodeClusterError(`${cmd} ${args.join(' ')} failed: ${stderr.slice(-2000)}`, {
      cause,
    });
  }
}

/** Like sh, but a failure is returned as undefined (for commands whose target may be gone). */
export async function trySh(cmd: string, args: readonly string[], opts: RunOptions = {}) {
  return sh(cmd, args, opts).catch(() => undefined);
}

function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** The inode of the network namespace `pid` is in (undefined if it cannot be read). */
export function netnsOf(pid: number | 'self'): number | undefined {
  return inode(`/proc/${pid}/ns/net`);
}

/** The inode of the cluster's namespace, while it exists. */
export function clusterNetns(): number | undefined {
  return inode(paths.netnsFile);
}

/** True when this process runs inside the cluster's network namespace. */
export function insideClusterNetns(): boolean {
  const ns = clusterNetns();
  return ns !== undefined && ns === netnsOf('self');
}

/** Runs a command inside the cluster's network namespace (only the network is switched). */
export function inNetns(cmd: string, args: readonly string[], opts: RunOptions = {}) {
  if (insideClusterNetns()) return sh(cmd, args, opts);
  return sh('nsenter', [`--net=${paths.netnsFile}`, '--', cmd, ...args], opts);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value; throws after `timeoutMs` with the last error. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  const detail = last instanceof Error ? `: ${last.message}` : '';
  throw new NodeClusterError(`timed out after ${timeoutMs / 1000} s waiting for ${what}${detail}`, {
    cause: last,
  });
}
