/**
 * The harness for tests that need real pods: the one-node cluster of scripts/cluster.sh.
 *
 *     import { nodeCluster } from './harness.ts';
 *     const cluster = await nodeCluster();      // at the top of the test file, before test()
 *     await cluster.kubectl(['apply', '-k', 'deploy/']);
 *     const pods = await cluster.waitForPods('dns', 'app.kubernetes.io/name=bind9', { count: 1 });
 *     const ip = await cluster.serviceIp('dns', 'bind9-primary');
 *     const answer = await cluster.dig(ip, 'www.example.com', 'A');
 *
 * `nodeCluster()` brings the cluster up (or reuses the running one, loading images that
 * changed) and then re-runs the test file inside the cluster's network namespace: the only
 * place its addresses exist. From there every client of the test — kubectl, dig, curl,
 * fetch, @kubernetes/client-node — reaches the cluster, and nothing can reach anything else.
 * The file's output goes to the test runner as usual. Call it at the top level of the file
 * (before any test is declared): in the outer process it never returns.
 *
 * The cluster is shared by every test file and outlives them; `scripts/cluster.sh down`
 * stops it. Use your own namespaces and names; delete what you create when it matters to the
 * files after yours (kube-controller-manager runs, so namespaces do finish deleting).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { buildImage, type ImageName } from '../../tools/images/build.ts';
import { paths } from './config.ts';
import { loadImages } from './images.ts';
import { type ClusterInfo, healthy, readInfo } from './lifecycle.ts';
import { insideClusterNetns, NodeClusterError, type RunOptions, sh, waitFor } from './system.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** A pod as far as the tests read it. */
export interface Pod {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
  spec: Record<string, unknown> & {
    containers: { name: string; image: string; args?: string[] }[];
  };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; imageID?: string }[];
  };
}

export interface NodeCluster {
  readonly info: ClusterInfo;
  /** kubectl as the cluster admin; resolves to its stdout, rejects with its stderr. */
  kubectl(args: readonly string[], opts?: RunOptions): Promise<string>;
  /** kubectl … -o json, parsed. */
  kubectlJson<T = unknown>(args: readonly string[]): Promise<T>;
  /** Server-side applies objects (as a List) with field manager `bind9-node-test`. */
  apply(objects: readonly object[]): Promise<void>;
  /** Any command (dig, curl, nsupdate, …); it runs inside the namespace, like this process. */
  run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<string>;
  /** `dig @server name type +noall +answer +authority`, UDP unless `+tcp` is in `extra`. */
  dig(server: string, name: string, type: string, extra?: readonly string[]): Promise<string>;
  /** `curl -sS --max-time 10 …` (busybox wget segfaults on this host: use curl). */
  curl(args: readonly string[]): Promise<string>;
  /** A Service's ClusterIP. */
  serviceIp(namespace: string, name: string): Promise<string>;
  /** Pods matching `selector`, once `count` of them are Running and Ready (default 5 min). */
  waitForPods(namespace: string, selector: string, opts?: WaitPodsOptions): Promise<Pod[]>;
  /** Pods matching `selector` (no waiting). */
  pods(namespace: string, selector: string): Promise<Pod[]>;
  /** `kubectl rollout status` until the Deployment (or StatefulSet) has rolled out. */
  waitForRollout(namespace: string, workload: string, timeoutMs?: number): Promise<void>;
  /** Creates `<prefix>-<random>` with Pod Security `restricted` enforced, as deploy/ does. */
  createNamespace(prefix: string): Promise<string>;
  /** Imports a docker-archive (or OCI archive) into the node's containerd, for pods to run. */
  loadImageArchive(archive: string): Promise<void>;
  /** Rebuilds one of our images (tools/images/) if its inputs changed and loads it. */
  refreshImage(name: ImageName): Promise<string>;
}

export interface WaitPodsOptions {
  readonly count?: number;
  readonly timeoutMs?: number;
  /** Only pods other than these names (a replacement of a deleted pod). */
  readonly except?: readonly string[];
}

/** Runs scripts/cluster.sh up from the host (a no-op when the cluster is healthy). */
function ensureUp(): void {
  const result = spawnSync(join(REPO_ROOT, 'scripts/cluster.sh'), ['up'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) {
    throw new NodeClusterError(`scripts/cluster.sh up failed (${result.status ?? result.signal})`);
  }
}

/** Re-runs this process inside the namespace and exits with its status. Never returns. */
async function reenterInside(): Promise<never> {
  const argv = [
    `--net=${paths.netnsFile}`,
    '--',
    process.execPath,
    ...process.execArgv,
    ...process.argv.slice(1),
  ];
  const child = spawn('nsenter', argv, { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  const code = await new Promise<number>((done) =>
    child.on('exit', (c, signal) => done(c ?? (signal === 'SIGTERM' ? 143 : 1))),
  );
  process.exit(code);
}

/**
 * The shared one-node cluster, from inside its namespace (see the file comment). In the
 * outer process it brings the cluster up, re-runs the file inside and exits with its code.
 */
export async function nodeCluster(): Promise<NodeCluster> {
  if (!insideClusterNetns()) {
    ensureUp();
    return reenterInside();
  }
  const info = (await healthy()) ?? (await readInfo());
  if (info === undefined) throw new NodeClusterError(`no cluster info in ${paths.info}`);
  return clusterClient(info);
}

function clusterClient(info: ClusterInfo): NodeCluster {
  const kubectl = (args: readonly string[], opts?: RunOptions) =>
    sh(info.kubectl, ['--kubeconfig', info.kubeconfig, ...args], { timeoutMs: 120_000, ...opts });
  const pods = async (namespace: string, selector: string) =>
    (await kubectlJson<{ items: Pod[] }>(['-n', namespace, 'get', 'pods', '-l', selector])).items;
  const kubectlJson = async <T>(args: readonly string[]) =>
    JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  return {
    info,
    kubectl,
    kubectlJson,
    apply: async (objects) => {
      const list = stringify({ apiVersion: 'v1', kind: 'List', items: objects });
      await kubectl(
        [
          'apply',
          '--server-side',
          '--force-conflicts',
          '--field-manager=bind9-node-test',
          '-f',
          '-',
        ],
        {
          input: list,
        },
      );
    },
    run: (cmd, args, opts) => sh(cmd, args, opts),
    dig: (server, name, type, extra = []) =>
      sh('dig', [
        `@${server}`,
        name,
        type,
        '+noall',
        '+answer',
        '+authority',
        '+time=2',
        '+tries=2',
        ...extra,
      ]),
    curl: (args) => sh('curl', ['-sS', '--max-time', '10', ...args]),
    serviceIp: async (namespace, name) =>
      (
        await kubectl(['-n', namespace, 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}'])
      ).trim(),
    pods,
    waitForPods: (namespace, selector, opts = {}) => waitForPods(pods, namespace, selector, opts),
    waitForRollout: async (namespace, workload, timeoutMs = 300_000) => {
      await kubectl(
        ['-n', namespace, 'rollout', 'status', workload, `--timeout=${timeoutMs / 1000}s`],
        {
          timeoutMs: timeoutMs + 10_000,
        },
      );
    },
    createNamespace: async (prefix) => {
      const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
      await kubectl(['create', 'namespace', name]);
      await kubectl(['label', 'namespace', name, 'pod-security.kubernetes.io/enforce=restricted']);
      return name;
    },
    loadImageArchive: async (archive) => {
      await sh(
        'ctr',
        ['--address', paths.containerdSocket, '-n', 'k8s.io', 'images', 'import', archive],
        {
          timeoutMs: 600_000,
        },
      );
    },
    refreshImage: async (name) => {
      const built = await buildImage(name);
      await loadImages();
      return built.ref;
    },
  };
}

/** True when every container of the pod is ready and the pod is not being deleted. */
export function podReady(pod: Pod): boolean {
  const ready = pod.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const deleting = (pod.metadata as { deletionTimestamp?: string }).deletionTimestamp !== undefined;
  return pod.status.phase === 'Running' && ready && !deleting;
}

async function waitForPods(
  list: (ns: string, selector: string) => Promise<Pod[]>,
  namespace: string,
  selector: string,
  opts: WaitPodsOptions,
): Promise<Pod[]> {
  const count = opts.count ?? 1;
  const except = new Set(opts.except ?? []);
  return waitFor(
    `${count} ready pod(s) ${selector} in ${namespace}`,
    opts.timeoutMs ?? 300_000,
    async () => {
      const ready = (await list(namespace, selector)).filter(
        (p) => podReady(p) && !except.has(p.metadata.name),
      );
      return ready.length >= count ? ready : undefined;
    },
    500,
  );
}

/** The text of a file of the repository (for tests that apply what we ship). */
export function repoFile(path: string): Promise<string> {
  return readFile(join(REPO_ROOT, path), 'utf8');
}
