/**
 * Removes what a run of the one-node cluster leaves behind, whether it was stopped by
 * `down` or its processes were killed with the session: processes (ours only, found by
 * pid file, by network namespace, by the pods' cgroup and by containerd's socket), mounts
 * (pod volumes, container root file systems, sandbox namespaces), cgroups, the namespace and
 * the host routes. Safe to run when nothing is left.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CGROUP_ROOT, paths } from './config.ts';
import { deleteNetns, hostRouteRanges, removeHostRoutes, unreachableRoutes } from './network.ts';
import { clusterNetns, netnsOf, sleep, trySh } from './system.ts';

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The pids recorded by the daemons we started (test/node/daemons.ts). */
function recordedPids(): number[] {
  let files: string[] = [];
  try {
    files = readdirSync(paths.pids);
  } catch {
    return [];
  }
  return files
    .map((f) => Number.parseInt(readOr(join(paths.pids, f)), 10))
    .filter((p) => Number.isInteger(p) && p > 1);
}

/** Whether a process is part of the cluster: in its namespace, its pods' cgroup, or a shim of its containerd. */
function isOurs(pid: number, ns: number | undefined): boolean {
  if (ns !== undefined && netnsOf(pid) === ns) return true;
  const cgroups = readOr(`/proc/${pid}/cgroup`);
  if (
    cgroups.split('\n').some((l) => l.includes(`:${CGROUP_ROOT}/`) || l.endsWith(`:${CGROUP_ROOT}`))
  )
    return true;
  const cmdline = readOr(`/proc/${pid}/cmdline`).split('\0');
  return cmdline.includes(paths.containerdSocket);
}

/** Every live process of the cluster (never this process). */
export function clusterProcesses(): number[] {
  const ns = clusterNetns();
  const found = new Set(recordedPids().filter((p) => readOr(`/proc/${p}/stat`) !== ''));
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid > 1 && isOurs(pid, ns)) found.add(pid);
  }
  found.delete(process.pid);
  return [...found].sort((a, b) => a - b);
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** A process that exists and is not a zombie. */
function alive(pid: number): boolean {
  const stat = readOr(`/proc/${pid}/stat`);
  return stat !== '' && !/^\d+ \(.*\) Z /.test(stat);
}

/** SIGTERM, then SIGKILL after `graceMs`, to the given pids; waits until they are gone. */
export async function stopProcesses(pids: readonly number[], graceMs = 10_000): Promise<void> {
  signal(pids, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  const left = pids.filter(alive);
  signal(left, 'SIGKILL');
  for (let i = 0; i < 100 && left.some(alive); i++) await sleep(100);
}

/** Mount points of this mount namespace under our directories, deepest first. */
export function clusterMounts(): string[] {
  const roots = [paths.state, paths.containerdRoot, paths.netnsFile];
  const points = readOr('/proc/self/mountinfo')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((p) =>
      p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))),
    )
    .filter((p) => roots.some((r) => p === r || p.startsWith(`${r}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

async function unmountAll(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const points = clusterMounts().filter((p) => p !== paths.netnsFile);
    if (points.length === 0) return;
    for (const p of points) {
      if ((await trySh('umount', [p])) === undefined) await trySh('umount', ['-l', p]);
    }
  }
}

/** Removes our cgroup tree in every hierarchy (after its processes are gone), deepest first. */
async function removeCgroups(): Promise<void> {
  const hierarchies = await readdir('/sys/fs/cgroup').catch(() => [] as string[]);
  for (const h of ['', ...hierarchies]) {
    const top = join('/sys/fs/cgroup', h, CGROUP_ROOT);
    const dirs = await readdir(top, { recursive: true, withFileTypes: true }).catch(() => []);
    const subdirs = dirs
      .filter((d) => d.isDirectory())
      .map((d) => join(d.parentPath, d.name))
      .sort((a, b) => b.length - a.length);
    for (const d of [...subdirs, top]) await rmdir(d).catch(() => undefined);
  }
}

/**
 * Everything a run leaves: processes, mounts, cgroups, the namespace, the host routes, the
 * state directory (logs/ kept when `keepLogs`, for a look after `down`).
 */
export async function cleanUp(options: { keepLogs: boolean }): Promise<void> {
  await stopProcesses(clusterProcesses());
  // A second pass for what the first one's victims started while dying (shims, retries).
  await stopProcesses(clusterProcesses(), 2000);
  await unmountAll();
  await removeCgroups();
  await deleteNetns();
  await removeHostRoutes();
  await removeState(options.keepLogs);
}

async function removeState(keepLogs: boolean): Promise<void> {
  const entries = await readdir(paths.state).catch(() => [] as string[]);
  for (const e of entries) {
    if (keepLogs && join(paths.state, e) === paths.logs) continue;
    await rm(join(paths.state, e), { recursive: true, force: true, maxRetries: 3 });
  }
  if (!keepLogs) await rm(paths.state, { recursive: true, force: true });
}

/** What is still there (for tests and `status`): nothing is left when every list is empty. */
export async function leftovers() {
  const routes = (await unreachableRoutes()).filter((r) => hostRouteRanges().includes(r));
  const info = await readFile(paths.info, 'utf8').catch(() => undefined);
  return {
    processes: clusterProcesses(),
    mounts: clusterMounts(),
    netns: clusterNetns() !== undefined,
    routes,
    info: info !== undefined,
  };
}
