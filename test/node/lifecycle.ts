/**
 * `up` and `down` of the one-node cluster (scripts/cluster.sh is the command line).
 *
 * up, on the host: reuse the cluster when it is healthy; otherwise clean whatever an
 * earlier run left (cleanup.ts), give the host its `unreachable` routes, create the
 * namespace (network.ts), then start every daemon from a process inside the namespace
 * (`startInside`): etcd, kube-apiserver and containerd first, the images loaded, then
 * kube-controller-manager, kube-scheduler, kubelet, kube-proxy and CoreDNS; it returns once
 * the node is Ready, kube-dns answers and the default ServiceAccount exists.
 *
 * down, on the host: stop everything and remove what it left (logs/ stays, for a look).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ImageName } from '../../tools/images/build.ts';
import { findBinDir } from '../harness/cluster.ts';
import { BOOTSTRAP_OBJECTS, DNS_PROBE_NAME } from './bootstrap.ts';
import { cleanUp } from './cleanup.ts';
import * as components from './components.ts';
import {
  API_SERVICE_IP,
  CGROUP_ROOT,
  DAEMONS,
  type Daemon,
  DNS_SERVICE_IP,
  NETNS,
  NODE_IP,
  NODE_NAME,
  paths,
  RANGES,
} from './config.ts';
import { daemonPid, logTail, startDaemon } from './daemons.ts';
import { builtImages, forgetOldContainers, loadImages } from './images.ts';
import { addHostRoutes, createNetns, hostRouteRanges, unreachableRoutes } from './network.ts';
import { type ClusterPki, makeClusterPki } from './pki.ts';
import { inNetns, insideClusterNetns, NodeClusterError, sh, waitFor } from './system.ts';

/** What a running cluster tells its clients (written to paths.info by `up`). */
export interface ClusterInfo {
  readonly netns: string;
  readonly netnsFile: string;
  readonly node: string;
  readonly nodeIp: string;
  readonly ranges: typeof RANGES;
  readonly apiServiceIp: string;
  readonly dnsServiceIp: string;
  readonly kubeconfig: string;
  readonly binDir: string;
  readonly kubectl: string;
  readonly images: Readonly<Record<ImageName, string>>;
  readonly startedAt: string;
  /** Seconds the last full start took (not counting a reuse). */
  readonly startSeconds: number;
}

const say = (text: string) => process.stderr.write(`[cluster] ${text}\n`);

/** The bin dir of tools/control-plane/build.sh --node (the control plane's, plus the node's). */
export function nodeBinDir(explicit?: string): string {
  const dir = findBinDir(explicit);
  for (const bin of [
    'kubelet',
    'kube-proxy',
    'kube-controller-manager',
    'kube-scheduler',
    'coredns',
    'kubectl',
  ]) {
    if (!existsSync(join(dir, bin))) {
      throw new NodeClusterError(`${dir}/${bin} is missing: run scripts/setup.sh --node`);
    }
  }
  return dir;
}

export async function readInfo(): Promise<ClusterInfo | undefined> {
  try {
    return JSON.parse(await readFile(paths.info, 'utf8')) as ClusterInfo;
  } catch {
    return undefined;
  }
}

/** The cluster when every daemon runs, the routes are in and the API server is ready. */
export async function healthy(): Promise<ClusterInfo | undefined> {
  const info = await readInfo();
  if (info === undefined || !existsSync(paths.netnsFile)) return undefined;
  if (DAEMONS.some((d) => daemonPid(d) === undefined)) return undefined;
  const routes = await unreachableRoutes().catch(() => [] as string[]);
  if (!insideClusterNetns() && hostRouteRanges().some((r) => !routes.includes(r))) return undefined;
  const ready = await inNetns(
    info.kubectl,
    ['--kubeconfig', info.kubeconfig, 'get', '--raw=/readyz'],
    {
      timeoutMs: 10_000,
    },
  ).catch(() => '');
  return ready.trim() === 'ok' ? info : undefined;
}

/** Brings the cluster up, or reuses the running one (loading images that changed). */
export async function up(binDirOption?: string): Promise<ClusterInfo> {
  if (insideClusterNetns())
    throw new NodeClusterError(`up must run on the host, not inside ${NETNS}`);
  const binDir = nodeBinDir(binDirOption);
  const running = await healthy();
  if (running !== undefined) {
    const loaded = await loadImages();
    say(`reusing the running cluster${loaded.length > 0 ? `; loaded ${loaded.join(', ')}` : ''}`);
    return running;
  }
  const started = Date.now();
  say('cleaning up what an earlier run left (if anything)');
  await cleanUp({ keepLogs: false });
  say(`host: unreachable routes for ${hostRouteRanges().join(', ')}; namespace ${NETNS}`);
  await addHostRoutes();
  await createNetns();
  await runInside(['start-inside', `--bin-dir=${binDir}`]);
  const info = await healthy();
  if (info === undefined)
    throw new NodeClusterError(`the cluster started but is not healthy: see ${paths.logs}`);
  say(`up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return info;
}

/** Runs cluster-main.ts inside the namespace and waits for it (its output goes to stderr). */
function runInside(args: readonly string[]): Promise<void> {
  const main = join(import.meta.dirname, 'cluster-main.ts');
  const child = spawn(
    'nsenter',
    [`--net=${paths.netnsFile}`, '--', process.execPath, main, ...args],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new NodeClusterError(`start inside ${NETNS} failed (${signal ?? code})`)),
    );
  });
}

export async function down(): Promise<void> {
  if (insideClusterNetns())
    throw new NodeClusterError(`down must run on the host, not inside ${NETNS}`);
  await cleanUp({ keepLogs: true });
}

// ---------------------------------------------------------------------------------------
// Inside the namespace

function kubectlOf(binDir: string) {
  return (args: readonly string[], input?: string) =>
    sh(join(binDir, 'kubectl'), ['--kubeconfig', paths.adminKubeconfig, ...args], {
      input,
      timeoutMs: 30_000,
    });
}

async function start(name: Daemon, spec: components.DaemonSpec | Promise<components.DaemonSpec>) {
  await startDaemon(name, await spec);
}

/** Fails fast with the daemon's log when it has exited. */
function checkAlive(...names: Daemon[]): void {
  for (const name of names) {
    if (daemonPid(name) === undefined) {
      throw new NodeClusterError(`${name} exited; its log ends with:\n${logTail(name)}`);
    }
  }
}

async function startStorageAndRuntime(binDir: string, pki: ClusterPki): Promise<void> {
  await start('etcd', components.etcd(binDir));
  await waitFor('etcd', 60_000, async () => {
    checkAlive('etcd');
    return (await fetch(components.ETCD_HEALTH).catch(() => undefined))?.ok ? true : undefined;
  });
  await start('kube-apiserver', components.apiserver(binDir, pki));
  const images = await builtImages();
  await start('containerd', components.containerd(images.pause.ref));
  await waitFor('containerd', 60_000, async () => {
    checkAlive('containerd');
    return (await sh('ctr', ['--address', paths.containerdSocket, 'version'])) ? true : undefined;
  });
  const forgotten = await forgetOldContainers();
  if (forgotten > 0) say(`containerd: removed ${forgotten} containers of an earlier run`);
  const loaded = await loadImages();
  say(
    loaded.length > 0
      ? `containerd: loaded ${loaded.join(', ')}`
      : 'containerd: images already loaded',
  );
}

/**
 * kubelet wants its cgroup root to exist in every hierarchy. In cgroup v1 a new cpuset has
 * no CPUs until given its parent's, and without them no process may join it.
 */
async function ensureCgroupRoot(): Promise<void> {
  const hierarchies = await readdir('/sys/fs/cgroup').catch(() => [] as string[]);
  for (const h of hierarchies) {
    const dir = join('/sys/fs/cgroup', h, CGROUP_ROOT);
    if (!existsSync(join('/sys/fs/cgroup', h, 'cgroup.procs'))) continue;
    await mkdir(dir, { recursive: true });
    if (h === 'cpuset') {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        await writeFile(join(dir, f), await readFile(join('/sys/fs/cgroup', h, f), 'utf8'));
      }
    }
  }
}

async function startNode(binDir: string, pki: ClusterPki): Promise<void> {
  const kubectl = kubectlOf(binDir);
  await waitFor('kube-apiserver /readyz', 120_000, async () => {
    checkAlive('kube-apiserver');
    return (await kubectl(['get', '--raw=/readyz'])).trim() === 'ok' ? true : undefined;
  });
  await kubectl(
    ['apply', '--server-side', '--field-manager=bind9-node', '-f', '-'],
    stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: BOOTSTRAP_OBJECTS,
    }),
  );
  await start('kube-controller-manager', components.controllerManager(binDir, pki));
  await start('kube-scheduler', components.scheduler(binDir, pki));
  await ensureCgroupRoot();
  await start('kubelet', components.kubelet(binDir, pki));
  await start('kube-proxy', components.kubeProxy(binDir, pki));
  await start('coredns', components.coredns(binDir, pki));
}

async function waitUsable(binDir: string): Promise<void> {
  const kubectl = kubectlOf(binDir);
  const jsonpath = '{.status.conditions[?(@.type=="Ready")].status}';
  await waitFor(`node ${NODE_NAME} Ready`, 120_000, async () => {
    checkAlive(...DAEMONS);
    return (await kubectl(['get', 'node', NODE_NAME, '-o', `jsonpath=${jsonpath}`])) === 'True'
      ? true
      : undefined;
  });
  await waitFor('kube-dns answering', 60_000, async () => {
    checkAlive('coredns', 'kube-proxy');
    const out = await sh('dig', [
      '+short',
      '+time=1',
      '+tries=1',
      `@${DNS_SERVICE_IP}`,
      DNS_PROBE_NAME,
    ]);
    return out.trim() === API_SERVICE_IP ? true : undefined;
  });
  await waitFor('the default ServiceAccount', 60_000, async () =>
    (await kubectl(['-n', 'default', 'get', 'serviceaccount', 'default', '-o', 'name'])).trim()
      ? true
      : undefined,
  );
}

/** Starts every daemon; runs inside the namespace (`up` spawns it there). */
export async function startInside(binDir: string): Promise<void> {
  if (!insideClusterNetns()) throw new NodeClusterError(`start-inside must run inside ${NETNS}`);
  const started = Date.now();
  for (const dir of [
    paths.logs,
    paths.pids,
    paths.etc,
    paths.cniConf,
    paths.kubelet,
    paths.containerdState,
  ]) {
    await mkdir(dir, { recursive: true });
  }
  await mkdir(paths.containerdRoot, { recursive: true });
  const pki = await makeClusterPki();
  await startStorageAndRuntime(binDir, pki);
  await startNode(binDir, pki);
  await waitUsable(binDir);
  const images = await builtImages();
  const info: ClusterInfo = {
    netns: NETNS,
    netnsFile: paths.netnsFile,
    node: NODE_NAME,
    nodeIp: NODE_IP,
    ranges: RANGES,
    apiServiceIp: API_SERVICE_IP,
    dnsServiceIp: DNS_SERVICE_IP,
    kubeconfig: paths.adminKubeconfig,
    binDir,
    kubectl: join(binDir, 'kubectl'),
    images: { pause: images.pause.ref, bind9: images.bind9.ref, controller: images.controller.ref },
    startedAt: new Date().toISOString(),
    startSeconds: (Date.now() - started) / 1000,
  };
  await writeFile(paths.info, `${JSON.stringify(info, null, 2)}\n`);
}
