/**
 * Shared set-up for the controller integration tests: a real kube-apiserver (harness),
 * real named servers, the controller in-process as a user bound only to deploy/'s
 * ClusterRole, and helpers to create resources and ask named with dig.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { parseConfig } from '../../src/controller/config.ts';
import { Controller } from '../../src/controller/controller.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { formatKeyFile, type SecretKey } from '../../src/dns/keyfile.ts';
import { Kube } from '../../src/kube/client.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';
import { type NamedServer, ZONE_FILE_ROOT } from '../harness/named.ts';

const run = promisify(execFile);
const GROUP = 'dns.bind9-controller.io';
const VERSION = 'v1alpha1';
export const CONTROLLER_USER = 'bind9-controller-it';
const REPO = resolve(import.meta.dirname, '../..');

/** The shared (or a fresh) control plane, deploy/'s ClusterRole bound to CONTROLLER_USER. */
export async function clusterWithRbac(own?: Cluster): Promise<{
  cluster: Cluster;
  user: Kube;
  kubeconfigPath: string;
}> {
  const cluster = own ?? (await useCluster());
  await cluster.applyManifests(resolve(REPO, 'deploy/clusterrole.yaml'));
  await cluster.applyManifests({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: CONTROLLER_USER },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'bind9-controller',
    },
    subjects: [{ kind: 'User', name: CONTROLLER_USER, apiGroup: 'rbac.authorization.k8s.io' }],
  } as never);
  const minted = await cluster.mintKubeconfig(CONTROLLER_USER, []);
  const user = await Kube.connect({ kubeconfig: minted.path });
  return { cluster, user, kubeconfigPath: minted.path };
}

export interface RunningController {
  readonly controller: Controller;
  readonly logs: string[];
  stop(): Promise<void>;
}

/** A controller in this process, not started; logs are kept in memory. */
export function makeController(
  kube: Kube,
  namespace: string,
  extraArgs: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): RunningController {
  const logs: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  // Shipped defaults otherwise (resync 5 min, health poll 3 s): those are the timings under test.
  const args = ['--namespace', namespace, '--metrics-address', '127.0.0.1:0'];
  // Harness named servers keep their files below ZONE_FILE_ROOT, unless the test says otherwise.
  if (!extraArgs.some((a) => a.startsWith('--zone-file-root'))) {
    args.push('--zone-file-root', ZONE_FILE_ROOT);
  }
  const config = parseConfig([...args, ...extraArgs], env);
  const controller = new Controller({ kube, config, log });
  return { controller, logs, stop: () => controller.stop() };
}

export async function startController(
  kube: Kube,
  namespace: string,
  extraArgs: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): Promise<RunningController> {
  const running = makeController(kube, namespace, extraArgs, env);
  await running.controller.start();
  return running;
}

/**
 * `bind9-controller run` as a child process (controller-child.ts) with the shipped
 * timings, for tests that kill it: `--namespace` and the like come in `args`.
 */
export function spawnControllerChild(
  kubeconfigPath: string,
  args: readonly string[],
): ChildProcess {
  return spawn(
    resolve(REPO, 'node_modules/.bin/node'),
    [
      resolve(REPO, 'test/integration/controller-child.ts'),
      '--kubeconfig',
      kubeconfigPath,
      '--metrics-address',
      '127.0.0.1:0',
      '--zone-file-root',
      ZONE_FILE_ROOT,
      '--log-level',
      'warn',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

export class Admin {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly namespace: string;
  constructor(cluster: Cluster, namespace: string) {
    this.custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    this.namespace = namespace;
  }

  /** Creates an object; resolves with it as the API server stored it (admission included). */
  async create(
    kind: string,
    name: string,
    spec: unknown,
    labels?: Record<string, string>,
  ): Promise<ObjectWithStatus> {
    const plural = `${kind.toLowerCase()}s`;
    const body = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind,
      metadata: { name, namespace: this.namespace, ...(labels ? { labels } : {}) },
      spec,
    };
    return await this.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural,
      body,
    });
  }

  async patchSpec(kind: string, name: string, spec: unknown) {
    await this.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural: `${kind.toLowerCase()}s`,
        name,
        body: { spec },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  async remove(kind: string, name: string) {
    await this.custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural: `${kind.toLowerCase()}s`,
      name,
    });
  }

  async get(kind: string, name: string): Promise<ObjectWithStatus | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural: `${kind.toLowerCase()}s`,
        name,
      })) as ObjectWithStatus;
    } catch {
      return undefined;
    }
  }

  async ready(kind: string, name: string) {
    const obj = await this.get(kind, name);
    return obj?.status?.conditions?.find((c) => c.type === 'Ready');
  }

  async keySecret(name: string, key: SecretKey) {
    await this.core.createNamespacedSecret({
      namespace: this.namespace,
      body: {
        metadata: { name, namespace: this.namespace },
        stringData: { keyfile: formatKeyFile(key) },
      },
    });
  }

  async replaceSecret(name: string, keyfile: string) {
    await this.core.replaceNamespacedSecret({
      namespace: this.namespace,
      name,
      body: { metadata: { name, namespace: this.namespace }, stringData: { keyfile } },
    });
  }

  /** A Bind9Instance for a harness named, with its keys in Secrets. */
  async instance(name: string, named: NamedServer, labels: Record<string, string>) {
    await this.keySecret(`${name}-tsig`, named.tsigKey);
    await this.keySecret(`${name}-rndc`, named.rndcKey);
    await this.create('Bind9Instance', name, instanceSpec(named, name), labels);
  }

  async events(): Promise<string[]> {
    const list = await this.core.listNamespacedEvent({ namespace: this.namespace });
    return list.items.map(
      (e) =>
        `${e.involvedObject.kind}/${e.involvedObject.name} ${e.type} ${e.reason}: ${e.message}`,
    );
  }
}

/**
 * The spec of a primary Bind9Instance for a harness named: its endpoints, key Secrets
 * `<secrets>-tsig` and `<secrets>-rndc`, directory delivery into its zone directory; any
 * part replaced by `override` (other ports, a ConfigMap, another path).
 */
export function instanceSpec(
  named: NamedServer,
  secrets: string,
  override: { dnsPort?: number; rndcPort?: number; zoneFiles?: unknown } = {},
) {
  return {
    role: 'primary',
    dns: { address: named.address, port: override.dnsPort ?? named.dnsPort },
    rndc: {
      address: named.address,
      port: override.rndcPort ?? named.rndcPort,
      keySecretRef: { name: `${secrets}-rndc` },
    },
    tsigKeySecretRef: { name: `${secrets}-tsig` },
    zoneFiles: override.zoneFiles ?? { directory: { path: named.zoneDir } },
  };
}

export interface ObjectWithStatus {
  metadata: { generation?: number; finalizers?: string[] };
  status?: {
    observedGeneration?: number;
    conditions?: {
      type: string;
      status: string;
      reason: string;
      message: string;
      observedGeneration?: number;
    }[];
    instances?: { name: string; present: boolean; inSync: boolean }[];
  };
}

export function zoneSpec(zoneName: string, selector: unknown, extra: Record<string, unknown> = {}) {
  return {
    zoneName,
    instanceSelector: selector,
    soaRecord: {
      primaryNs: `ns1.${zoneName}.`,
      adminEmail: `hostmaster@${zoneName}`,
      serial: 2026010101,
      refresh: 7200,
      retry: 600,
      expire: 1209600,
      negativeTtl: 120,
    },
    ttl: 300,
    nameServers: [{ hostname: 'ns1', ipv4Address: '192.0.2.53' }],
    ...extra,
  };
}

/**
 * How long the waits below allow by default: generous, so a machine three times slower
 * than ours still passes; a wait costs only as long as the condition takes to hold.
 */
export const WAIT_MS = 90_000;

/**
 * dig's own retries: a loaded machine can leave one UDP query unanswered for seconds, and a
 * dig that gives up is an exception in the middle of an assertion, not an answer.
 */
const DIG_PATIENCE = ['+time=3', '+tries=3'];

/** `dig +short`, lines sorted: what named serves right now. */
export async function dig(named: NamedServer, name: string, type: string): Promise<string[]> {
  const { stdout } = await run('dig', [
    '+short',
    '+norec',
    ...DIG_PATIENCE,
    '-p',
    String(named.dnsPort),
    `@${named.address}`,
    name,
    type,
  ]);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith(';'))
    .sort();
}

/** The authority section of a non-recursive query: where a delegation's NS shows. */
export async function digAuthority(
  named: NamedServer,
  name: string,
  type: string,
): Promise<string[]> {
  const args = ['+norec', '+noall', '+authority', ...DIG_PATIENCE, '-p', String(named.dnsPort)];
  const { stdout } = await run('dig', [...args, `@${named.address}`, name, type]);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && f[3] === type)
    .map((f) => `${f[0]} ${f.slice(4).join(' ')}`)
    .sort();
}

/** Polls `check` until it returns a value other than undefined; bounded. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitReady(
  admin: Admin,
  kind: string,
  name: string,
  status = 'True',
  reason?: string,
  timeoutMs = WAIT_MS,
) {
  return waitFor(
    `${kind} ${name} Ready=${status}${reason ? ` (${reason})` : ''}`,
    async () => {
      const c = await admin.ready(kind, name);
      return c?.status === status && (reason === undefined || c.reason === reason) ? c : undefined;
    },
    timeoutMs,
  );
}

/**
 * Waits until the zone's A RRsets whose names match `names` are exactly `expected` (name →
 * address), read by a signed AXFR: no name more, none less, each with its address.
 */
export async function waitExactA(
  named: NamedServer,
  zone: string,
  names: RegExp,
  expected: ReadonlyMap<string, string>,
  timeoutMs: number,
): Promise<void> {
  const client = new DnsClient();
  try {
    await waitFor(
      `exactly ${expected.size} A RRsets in ${zone}`,
      async () => {
        const server = { address: named.address, port: named.dnsPort };
        const rrsets = await client.axfr(server, named.tsigKey, zone);
        const a = rrsets.filter((r) => r.type === 'A' && names.test(r.name));
        const got = new Map(
          a.map((r) => [r.name, r.rdata.map((d) => (d as { address: string }).address).join()]),
        );
        const exact =
          got.size === expected.size && [...expected].every(([n, v]) => got.get(n) === v);
        return exact ? true : undefined;
      },
      timeoutMs,
    );
  } finally {
    await client.close();
  }
}

export async function nsupdate(named: NamedServer, script: string): Promise<void> {
  // The callback fires once the child has exited and its output is read in full.
  await new Promise<void>((resolveDone, reject) => {
    const child = execFile('nsupdate', ['-k', named.tsigKeyFile], (error, _stdout, stderr) =>
      error === null
        ? resolveDone()
        : reject(new Error(`nsupdate failed: ${error.message}\n${stderr}`)),
    );
    child.stdin?.end(`server ${named.address} ${named.dnsPort}\n${script}\nsend\n`);
  });
}

/** Resolves once `child` has exited (at once if it already has); its exit code or signal. */
export function exitOf(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode ?? 'unknown');
  }
  return new Promise((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown')),
  );
}

/** Ends `child` with `signal` and waits for its exit; a child already gone is left alone. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | string> {
  const exited = exitOf(child);
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  return exited;
}
