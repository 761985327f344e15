/**
 * A real Kubernetes control plane for tests, the demo and local runs: etcd and
 * kube-apiserver (built by tools/control-plane/build.sh) on free loopback ports, with a
 * throwaway CA, RBAC, service-account keys and our CRDs installed.
 *
 *     const cluster = await useCluster();      // shared one if BIND9_TEST_KUBECONFIG is set
 *     after(() => cluster.stop());             // a no-op for a shared cluster
 *     const ns = await cluster.createNamespace('zones');
 *     await cluster.applyManifests([{ apiVersion: 'v1', kind: 'ConfigMap', ... }]);
 *     const ctrl = await cluster.mintKubeconfig('bind9-controller', []);  // an RBAC-bound user
 *
 * There is no kube-controller-manager: no garbage collection, no namespace finalization,
 * no ServiceAccount tokens. Use fresh namespaces and unique names; never wait for a
 * namespace to go away.
 *
 * Like a user's cluster, it runs deploy/admission-policy.yaml (issue #16): every record
 * resource and DNSZone is created with the controller's finalizer on it, so one that no
 * controller serves stays (marked) when deleted until that finalizer is taken off.
 * `{ admissionPolicy: false }` starts a control plane of its own without it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { type RequestOptions, request } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  type V1APIResourceList,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import {
  type CertPair,
  createPki,
  openPki,
  type Pki,
  writeServiceAccountKeys,
} from './cluster-pki.ts';
import {
  type Component,
  releaseStateDir,
  startComponent,
  watchStateDir,
} from './cluster-process.ts';
import { freePort } from './ports.ts';

export const K8S_VERSION = 'v1.37.2';
/** Env var naming the admin kubeconfig of a running cluster that tests should share. */
export const SHARED_KUBECONFIG_ENV = 'BIND9_TEST_KUBECONFIG';
/** Env var naming the directory holding `etcd` and `kube-apiserver`. */
export const BIN_DIR_ENV = 'BIND9_CONTROL_PLANE_BIN';
/** Field manager used by applyManifests (server-side apply). */
export const FIELD_MANAGER = 'bind9-controller-test';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const STATE_EXTENSION = 'bind9-controller.io/test-cluster';
const ADMIN_GROUPS = ['system:masters'];

export interface ClusterOptions {
  /** Directory with `etcd` and `kube-apiserver`. Default: $BIND9_CONTROL_PLANE_BIN, the
   *  path setup.sh recorded in node_modules/.control-plane-bin, or the build cache. */
  readonly binDir?: string;
  /** Directory of CRD YAML to install, or false for none. Default: <repo>/crds. */
  readonly crds?: string | false;
  /** How long to wait for /readyz. Default 180 s (about 15–60 s on 2 cores). */
  readonly startTimeoutMs?: number;
  /** Extra kube-apiserver flags (`--name=value`). */
  readonly apiserverFlags?: readonly string[];
  /**
   * Install deploy/admission-policy.yaml (the finalizer added at creation), as a user's
   * cluster would. Default true. With false, useCluster starts a control plane of its own
   * even when a shared one is named: a shared cluster always has the policy.
   */
  readonly admissionPolicy?: boolean;
}

/** The MutatingAdmissionPolicy deploy/ ships: the controller's finalizer set at creation. */
export const ADMISSION_POLICY_FILE = join(REPO_ROOT, 'deploy/admission-policy.yaml');

export interface MintedKubeconfig {
  readonly path: string;
  readonly kubeConfig: KubeConfig;
  readonly user: string;
  readonly groups: readonly string[];
}

export interface Cluster {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig file (client certificate with O=system:masters). */
  readonly kubeconfigPath: string;
  /** A KubeConfig loaded from kubeconfigPath. */
  readonly kubeConfig: KubeConfig;
  /** PEM of the cluster CA (it signs the serving and all client certificates). */
  readonly caPem: string;
  /** Holds certificates, etcd data, logs and kubeconfigs. */
  readonly stateDir: string;
  /** True when this process attached to a cluster someone else started (stop is a no-op). */
  readonly shared: boolean;
  /** Writes a kubeconfig for `user` in `groups` (a client certificate from the cluster CA). */
  mintKubeconfig(user: string, groups?: readonly string[]): Promise<MintedKubeconfig>;
  /**
   * Server-side applies objects and YAML files or directories of YAML (as FIELD_MANAGER,
   * forced). CRDs among them are waited for until Established and served. Objects without
   * a namespace go to `options.namespace` when given. Returns the applied objects.
   */
  applyManifests(
    input: ManifestInput | readonly ManifestInput[],
    options?: { namespace?: string },
  ): Promise<KubernetesObject[]>;
  /** Installs every CRD in `dir` (default <repo>/crds) and waits until they are served. */
  installCrds(dir?: string): Promise<V1CustomResourceDefinition[]>;
  /** Creates a namespace `<prefix>-<random>` and returns its name. */
  createNamespace(prefix?: string): Promise<string>;
  /** The last lines of a component's log (`etcd` or `kube-apiserver`); '' when shared. */
  logTail(component: 'etcd' | 'kube-apiserver', bytes?: number): Promise<string>;
  /** Why the cluster is down when etcd or kube-apiserver has exited, else undefined. */
  exited(): string | undefined;
  /**
   * A cluster of its own only (undefined when shared): kills kube-apiserver (SIGKILL), waits
   * `downMs`, starts it again with the same flags, certificates and port, and resolves once
   * /readyz answers. etcd keeps running. Returns when it went down and when it was back.
   */
  readonly restartApiServer?: (downMs: number) => Promise<{ downAt: number; readyAt: number }>;
  /** Process ids of etcd and kube-apiserver, where this machine runs them (benchmarks read
   *  their CPU time); empty for a cluster started elsewhere. */
  pids(): Promise<ReadonlyMap<'etcd' | 'kube-apiserver', number>>;
  /** Stops kube-apiserver and etcd and removes stateDir. Idempotent. */
  stop(): Promise<void>;
}

/** A path to a YAML file or directory of YAML files, or an object. */
export type ManifestInput = string | KubernetesObject | Readonly<Record<string, unknown>>;

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
}

// ---------------------------------------------------------------------------------------
// Binaries

/** Where built and fetched test dependencies are kept (the control plane, the Gateway API CRDs). */
export function cacheRoot(): string {
  return (
    process.env.BIND9_CONTROLLER_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bind9-controller')
  );
}

export function findBinDir(explicit?: string): string {
  const recorded = join(REPO_ROOT, 'node_modules/.control-plane-bin');
  const cache = cacheRoot();
  const candidates = [
    explicit,
    process.env[BIN_DIR_ENV],
    existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : undefined,
    join(cache, `k8s-${K8S_VERSION}`),
  ];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, 'etcd')) && existsSync(join(dir, 'kube-apiserver'))) {
      return dir;
    }
  }
  throw new ClusterError(
    'etcd and kube-apiserver are not built: run tools/control-plane/build.sh ' +
      `(or set ${BIN_DIR_ENV}); looked in ${candidates.filter(Boolean).join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------
// Polling and HTTP

/** Polls `probe` until it returns a value, for at most `timeoutMs`. */
async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  failFast?: () => Promise<string | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 500)) {
    const fatal = await failFast?.();
    if (fatal !== undefined) throw new ClusterError(`${what}: ${fatal}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
  throw new ClusterError(`timed out after ${timeoutMs} ms waiting for ${what}`, {
    cause: lastError,
  });
}

interface TlsClient {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** One HTTPS request on a fresh connection; resolves with the status and the body text. */
function httpsRequest(
  url: string,
  options: RequestOptions,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { timeout: 30_000, ...options, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new ClusterError(`${url} timed out`)));
    req.on('error', fail);
    req.end(body);
  });
}

function httpGet(url: string, tls?: TlsClient): Promise<{ status: number; text: string }> {
  return httpsRequest(url, { ...tls, timeout: 5000 });
}

async function httpGetPlain(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

function exitedProbe(...components: Component[]): () => Promise<string | undefined> {
  return async () => {
    for (const c of components) {
      const status = c.exitStatus();
      if (status !== undefined) {
        return `${c.name} exited (${status}); its log ends with:\n${await c.logTail()}`;
      }
    }
    return undefined;
  };
}

// ---------------------------------------------------------------------------------------
// etcd and kube-apiserver

async function startEtcd(stateDir: string, binDir: string, timeoutMs: number) {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const etcd = startComponent(stateDir, 'etcd', join(binDir, 'etcd'), [
    '--name=test',
    `--data-dir=${join(stateDir, 'etcd-data')}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    // Test data is thrown away: durability is not worth an fsync per write.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);
  await waitUntil(
    'etcd /health',
    timeoutMs,
    async () => ((await httpGetPlain(`${url}/health`)).status === 200 ? true : undefined),
    exitedProbe(etcd),
  );
  return { etcd, url };
}

interface ApiserverFiles {
  readonly serving: CertPair;
  readonly caFile: string;
  readonly sa: { keyFile: string; pubFile: string };
}

function apiserverArgs(stateDir: string, port: number, etcdUrl: string, f: ApiserverFiles) {
  const issuer = `https://127.0.0.1:${port}`;
  return [
    `--etcd-servers=${etcdUrl}`,
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    // Without it the server advertises the default route's address, or fails without one.
    '--advertise-address=127.0.0.1',
    // 1.37 refuses a loopback advertise address for the `kubernetes` Service endpoints; no
    // pod here ever reaches the API through that Service, so do not reconcile it.
    '--endpoint-reconciler-type=none',
    `--cert-dir=${join(stateDir, 'pki')}`,
    `--tls-cert-file=${f.serving.certFile}`,
    `--tls-private-key-file=${f.serving.keyFile}`,
    `--client-ca-file=${f.caFile}`,
    `--service-account-issuer=${issuer}`,
    `--service-account-key-file=${f.sa.pubFile}`,
    `--service-account-signing-key-file=${f.sa.keyFile}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    // No kube-controller-manager mints tokens, so pods could never get one.
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    '--profiling=false',
    '--v=0',
  ];
}

async function startApiserver(
  stateDir: string,
  binDir: string,
  etcdUrl: string,
  files: ApiserverFiles,
  options: ClusterOptions,
) {
  const port = await freePort();
  const args = [
    ...apiserverArgs(stateDir, port, etcdUrl, files),
    ...(options.apiserverFlags ?? []),
  ];
  const apiserver = startComponent(
    stateDir,
    'kube-apiserver',
    join(binDir, 'kube-apiserver'),
    args,
  );
  const restart = () =>
    startComponent(stateDir, 'kube-apiserver', join(binDir, 'kube-apiserver'), args);
  return { apiserver, server: `https://127.0.0.1:${port}`, restart };
}

// ---------------------------------------------------------------------------------------
// Kubeconfigs

function kubeconfigYaml(
  server: string,
  caPem: string,
  user: string,
  client: CertPair,
  stateDir: string,
) {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'bind9-test',
        cluster: {
          server,
          'certificate-authority-data': b64(caPem),
          // Lets a process that attaches to this cluster find the CA to mint users with.
          extensions: [{ name: STATE_EXTENSION, extension: { stateDir } }],
        },
      },
    ],
    users: [
      {
        name: user,
        user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) },
      },
    ],
    contexts: [
      { name: 'bind9-test', context: { cluster: 'bind9-test', user, namespace: 'default' } },
    ],
    'current-context': 'bind9-test',
  });
}

/** Writes `text` to `path` so that readers never see half a file. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

function fileName(user: string): string {
  return user.replace(/[^A-Za-z0-9._-]/g, '_');
}

async function mint(
  pki: Pki,
  server: string,
  stateDir: string,
  user: string,
  groups: readonly string[],
): Promise<MintedKubeconfig> {
  const usersDir = join(stateDir, 'users');
  await mkdir(usersDir, { recursive: true });
  const name = `${fileName(user)}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const client = await pki.client(`user-${name}`, user, groups);
  const path = join(usersDir, `${name}.kubeconfig`);
  await writeAtomically(path, kubeconfigYaml(server, pki.ca.cert, user, client, stateDir));
  return { path, kubeConfig: loadKubeConfig(path), user, groups };
}

// ---------------------------------------------------------------------------------------
// Manifests and CRDs

async function yamlFiles(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => undefined);
  if (entries === undefined) return [path];
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(path, e.name))
    .sort();
}

function isObject(value: unknown): value is KubernetesObject {
  return typeof value === 'object' && value !== null && 'kind' in value && 'apiVersion' in value;
}

/** Reads every object in YAML files or directories of them, in file order. */
export async function readManifests(paths: readonly string[]): Promise<KubernetesObject[]> {
  const objects: KubernetesObject[] = [];
  for (const path of paths) {
    for (const file of await yamlFiles(path)) {
      for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
        if (doc.errors.length > 0) throw new ClusterError(`${file}: ${doc.errors[0]?.message}`);
        const value: unknown = doc.toJS();
        if (value === null || value === undefined) continue;
        if (!isObject(value))
          throw new ClusterError(`${file}: a document is not a Kubernetes object`);
        objects.push(value);
      }
    }
  }
  return objects;
}

function isCrd(o: KubernetesObject): o is V1CustomResourceDefinition {
  return o.kind === 'CustomResourceDefinition' && o.apiVersion === 'apiextensions.k8s.io/v1';
}

async function waitForCrd(kc: KubeConfig, crd: V1CustomResourceDefinition, timeoutMs: number) {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const name = crd.metadata?.name ?? '';
  const established = await waitUntil(`CRD ${name} Established`, timeoutMs, async () => {
    const got = await ext.readCustomResourceDefinition({ name });
    const ok = got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    return ok ? got : undefined;
  });
  // Established is not enough: clients resolve the plural through discovery, which lags.
  for (const version of crd.spec.versions.filter((v) => v.served)) {
    await waitUntil(
      `${crd.spec.names.plural}.${crd.spec.group}/${version.name} in discovery`,
      timeoutMs,
      async () => {
        const list = await custom.getAPIResources({ group: crd.spec.group, version: version.name });
        return list.resources.some((r) => r.name === crd.spec.names.plural) ? true : undefined;
      },
    );
  }
  return established;
}

/** One request to the API server with the kubeconfig's credentials; JSON in and out. */
async function kubeRequest(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: { text: string; contentType: string },
): Promise<unknown> {
  const server = kc.getCurrentCluster()?.server ?? '';
  const options: RequestOptions = { method, headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  if (body) options.headers = { ...options.headers, 'Content-Type': body.contentType };
  const res = await httpsRequest(`${server}${path}`, options, body?.text);
  if (res.status >= 300) {
    // Errors come as a metav1.Status; anything else (a proxy, a panic) as plain text.
    let message = res.text;
    try {
      message = (JSON.parse(res.text) as { message?: string }).message ?? res.text;
    } catch {
      // Not JSON: the text is the message.
    }
    throw new ClusterError(`${method} ${path}: HTTP ${res.status}: ${message}`);
  }
  return res.text ? JSON.parse(res.text) : undefined;
}

function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** Where an object lives, from discovery (asked afresh: a CRD may be moments old). */
async function objectPath(kc: KubeConfig, o: KubernetesObject): Promise<string> {
  const base = groupVersionPath(String(o.apiVersion));
  const list = (await kubeRequest(kc, 'GET', base)) as V1APIResourceList;
  const resource = list.resources.find((r) => r.kind === o.kind && !r.name.includes('/'));
  if (!resource) throw new ClusterError(`${o.apiVersion} serves no kind ${o.kind}`);
  const name = encodeURIComponent(String(o.metadata?.name));
  if (!resource.namespaced) return `${base}/${resource.name}/${name}`;
  const ns = encodeURIComponent(o.metadata?.namespace ?? 'default');
  return `${base}/namespaces/${ns}/${resource.name}/${name}`;
}

/**
 * Server-side apply of one object, sent as the caller wrote it. Not through
 * KubernetesObjectApi: its serializer expects the client's typed models and silently drops
 * JSON fields whose names differ there (`enum`, `default`, `x-kubernetes-validations` in a
 * CRD schema become `_enum`, `_default`, `xKubernetesValidations`).
 */
async function applyOne(kc: KubeConfig, o: KubernetesObject): Promise<KubernetesObject> {
  const query = `?fieldManager=${FIELD_MANAGER}&force=true`;
  const path = `${await objectPath(kc, o)}${query}`;
  const text = JSON.stringify(o);
  return (await kubeRequest(kc, 'PATCH', path, {
    text,
    contentType: PatchStrategy.ServerSideApply,
  })) as KubernetesObject;
}

async function apply(
  kc: KubeConfig,
  input: ManifestInput | readonly ManifestInput[],
  namespace: string | undefined,
): Promise<KubernetesObject[]> {
  const items = (Array.isArray(input) ? input : [input]) as readonly ManifestInput[];
  const paths = items.filter((i): i is string => typeof i === 'string');
  const objects: KubernetesObject[] = [];
  for (const item of items) {
    if (typeof item === 'string') continue;
    if (!isObject(item)) throw new ClusterError('an object to apply has no kind or apiVersion');
    objects.push(item);
  }
  objects.push(...(await readManifests(paths)));
  const applied: KubernetesObject[] = [];
  // CRDs in a row are waited for together, before the first object that may need them.
  let pending: V1CustomResourceDefinition[] = [];
  const settle = async () => {
    await Promise.all(pending.map((crd) => waitForCrd(kc, crd, 60_000)));
    pending = [];
  };
  for (const object of objects) {
    const spec =
      namespace !== undefined && object.metadata?.namespace === undefined
        ? { ...object, metadata: { ...object.metadata, namespace } }
        : object;
    if (!isCrd(spec)) await settle();
    applied.push(await applyOne(kc, spec));
    if (isCrd(spec)) pending.push(spec);
  }
  await settle();
  return applied;
}

async function installCrds(kc: KubeConfig, dir: string): Promise<V1CustomResourceDefinition[]> {
  const crds = (await readManifests([dir])).filter(isCrd);
  if (crds.length === 0) throw new ClusterError(`no CustomResourceDefinition found in ${dir}`);
  await apply(kc, crds, undefined);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  return Promise.all(
    crds.map((crd) => ext.readCustomResourceDefinition({ name: String(crd.metadata?.name) })),
  );
}

/** A record created as a dry run (admission runs, nothing is stored): its finalizers. */
async function admittedFinalizers(kc: KubeConfig): Promise<string[]> {
  const record = {
    apiVersion: 'dns.bind9-controller.io/v1alpha1',
    kind: 'ARecord',
    metadata: { name: 'admission-probe' },
    spec: { zone: 'probe', name: 'probe', ipv4Addresses: ['192.0.2.1'] },
  };
  const path = '/apis/dns.bind9-controller.io/v1alpha1/namespaces/default/arecords?dryRun=All';
  const created = (await kubeRequest(kc, 'POST', path, {
    text: JSON.stringify(record),
    contentType: 'application/json',
  })) as KubernetesObject;
  return created.metadata?.finalizers ?? [];
}

/**
 * Applies deploy/'s admission policy, then waits until the API server applies it: it
 * loads policies in the background, and a create a moment after the apply still goes
 * through without the mutation. The wait needs the record CRDs (a dry-run create).
 */
async function installAdmissionPolicy(kc: KubeConfig, withCrds: boolean): Promise<void> {
  await apply(kc, ADMISSION_POLICY_FILE, undefined);
  if (!withCrds) return;
  await waitUntil('the admission policy to add the finalizer', 60_000, async () =>
    (await admittedFinalizers(kc)).includes('dns.bind9-controller.io/finalizer') ? true : undefined,
  );
}

// ---------------------------------------------------------------------------------------
// The cluster

function clusterApi(
  base: Omit<Cluster, 'mintKubeconfig' | 'applyManifests' | 'installCrds' | 'createNamespace'>,
  pki: () => Promise<Pki>,
): Cluster {
  const kc = base.kubeConfig;
  return {
    ...base,
    mintKubeconfig: async (user, groups = []) =>
      mint(await pki(), base.server, base.stateDir, user, groups),
    applyManifests: (input, options = {}) => apply(kc, input, options.namespace),
    installCrds: (dir = join(REPO_ROOT, 'crds')) => installCrds(kc, dir),
    async createNamespace(prefix = 'test') {
      const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
      await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
      return name;
    },
  };
}

/** Starts etcd and kube-apiserver, writes the admin kubeconfig and installs the CRDs. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const binDir = findBinDir(options.binDir);
  // A port found free can be taken by another process before etcd or kube-apiserver binds
  // it; that start fails with "address already in use" and is worth one more try.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binDir, options);
    } catch (err) {
      const portTaken = err instanceof Error && /address already in use/.test(err.message);
      if (!portTaken || attempt >= 3) throw err;
    }
  }
}

async function startOnce(binDir: string, options: ClusterOptions): Promise<Cluster> {
  const startTimeoutMs = options.startTimeoutMs ?? 180_000;
  const stateDir = await mkdtemp(join(tmpdir(), 'kube-'));
  watchStateDir(stateDir);
  const components: Component[] = [];
  const stop = async () => {
    for (const c of components.reverse()) await c.stop();
    components.length = 0;
    await releaseStateDir(stateDir);
    if (!process.env.KEEP_CLUSTER) await rm(stateDir, { recursive: true, force: true });
  };
  try {
    return await boot(stateDir, binDir, { ...options, startTimeoutMs }, components, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

const SERVING_HOSTS = [
  'localhost',
  '127.0.0.1',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  '10.0.0.1',
];

/** Starts etcd, then kube-apiserver, and returns the API server's URL once /readyz is 200. */
async function startProcesses(
  stateDir: string,
  binDir: string,
  pki: Pki,
  admin: CertPair,
  options: ClusterOptions & { startTimeoutMs: number },
  components: Component[],
): Promise<{ server: string; restartApiServer: NonNullable<Cluster['restartApiServer']> }> {
  const serving = await pki.serving('apiserver', SERVING_HOSTS);
  const sa = await writeServiceAccountKeys(pki.dir);
  const { etcd, url } = await startEtcd(stateDir, binDir, options.startTimeoutMs);
  components.push(etcd);
  const files = { serving, caFile: pki.ca.certFile, sa };
  const { apiserver, server, restart } = await startApiserver(
    stateDir,
    binDir,
    url,
    files,
    options,
  );
  components.push(apiserver);
  const tls = { ca: pki.ca.cert, cert: admin.cert, key: admin.key };
  const ready = (component: Component) =>
    waitUntil(
      'kube-apiserver /readyz',
      options.startTimeoutMs,
      async () => ((await httpGet(`${server}/readyz`, tls)).status === 200 ? true : undefined),
      exitedProbe(etcd, component),
    );
  await ready(apiserver);
  let current = apiserver;
  const restartApiServer = async (downMs: number) => {
    await current.stop(0);
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, downMs));
    const next = restart();
    components[components.indexOf(current)] = next;
    current = next;
    await ready(next);
    return { downAt, readyAt: Date.now() };
  };
  return { server, restartApiServer };
}

/** The system namespaces appear shortly after /readyz; tests and the demo expect `default`. */
function waitForDefaultNamespace(kc: KubeConfig, timeoutMs: number): Promise<true> {
  const core = kc.makeApiClient(CoreV1Api);
  return waitUntil('namespace default to exist', timeoutMs, async () =>
    (await core.readNamespace({ name: 'default' })) ? true : undefined,
  );
}

async function boot(
  stateDir: string,
  binDir: string,
  options: ClusterOptions & { startTimeoutMs: number },
  components: Component[],
  stop: () => Promise<void>,
): Promise<Cluster> {
  await mkdir(join(stateDir, 'pki'));
  const pki = await createPki(join(stateDir, 'pki'));
  const admin = await pki.client('admin', 'admin', ADMIN_GROUPS);
  const { server, restartApiServer } = await startProcesses(
    stateDir,
    binDir,
    pki,
    admin,
    options,
    components,
  );
  const kubeconfigPath = join(stateDir, 'admin.kubeconfig');
  const yaml = kubeconfigYaml(server, pki.ca.cert, 'admin', admin, stateDir);
  await writeAtomically(kubeconfigPath, yaml);
  const kubeConfig = loadKubeConfig(kubeconfigPath);
  await waitForDefaultNamespace(kubeConfig, 60_000);
  const cluster = clusterApi(
    {
      server,
      kubeconfigPath,
      kubeConfig,
      caPem: pki.ca.cert,
      stateDir,
      shared: false,
      exited: () => {
        const dead = components.find((c) => c.exitStatus() !== undefined);
        return dead && `${dead.name} exited (${dead.exitStatus()})`;
      },
      logTail: async (name, bytes) =>
        (await components.find((c) => c.name === name)?.logTail(bytes)) ?? '',
      restartApiServer,
      pids: async () => componentPids(components.map((c) => c.pid)),
      stop,
    },
    async () => pki,
  );
  if (options.crds !== false) await cluster.installCrds(options.crds);
  if (options.admissionPolicy !== false) {
    await installAdmissionPolicy(kubeConfig, options.crds !== false);
  }
  return cluster;
}

/** The component pids cluster-process.ts lists in a state directory (none when elsewhere). */
async function listedGroups(stateDir: string): Promise<number[]> {
  const text = await readFile(join(stateDir, 'process-groups'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
}

/** Which of `pids` is etcd and which kube-apiserver, by their command names. */
async function componentPids(pids: readonly number[]) {
  const out = new Map<'etcd' | 'kube-apiserver', number>();
  for (const pid of pids) {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (comm === 'etcd' || comm === 'kube-apiserver') out.set(comm, pid);
  }
  return out;
}

/** The state directory recorded in a kubeconfig written by this harness, if any. */
function recordedStateDir(kubeconfigPath: string): string | undefined {
  const text = readFileSync(kubeconfigPath, 'utf8');
  const doc: unknown = parseAllDocuments(text)[0]?.toJS();
  const clusters = (
    doc as {
      clusters?: {
        cluster?: { extensions?: { name?: string; extension?: { stateDir?: string } }[] };
      }[];
    }
  )?.clusters;
  const ext = clusters?.[0]?.cluster?.extensions?.find((e) => e.name === STATE_EXTENSION);
  return ext?.extension?.stateDir;
}

/**
 * Attaches to a running cluster through its admin kubeconfig. `mintKubeconfig` works when
 * the kubeconfig was written by this harness on this machine (it names the CA's directory).
 * `stop()` does nothing: whoever started the cluster stops it.
 */
export async function attachCluster(
  kubeconfigPath: string,
  options: ClusterOptions = {},
): Promise<Cluster> {
  if (options.admissionPolicy === false) {
    throw new ClusterError('a shared cluster runs the admission policy: start one without it');
  }
  const kubeConfig = loadKubeConfig(kubeconfigPath);
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined) throw new ClusterError(`${kubeconfigPath} names no current cluster`);
  const stateDir = recordedStateDir(kubeconfigPath) ?? dirname(kubeconfigPath);
  const caPath = join(stateDir, 'pki', 'ca.crt');
  const cluster = clusterApi(
    {
      server,
      kubeconfigPath,
      kubeConfig,
      caPem: existsSync(caPath) ? readFileSync(caPath, 'utf8') : '',
      stateDir,
      shared: true,
      logTail: async () => '',
      exited: () => undefined,
      pids: async () => componentPids(await listedGroups(stateDir)),
      stop: async () => {},
    },
    async () => {
      if (!existsSync(join(stateDir, 'pki', 'ca.key'))) {
        throw new ClusterError(`cannot mint users: no CA key under ${stateDir}`);
      }
      return openPki(join(stateDir, 'pki'));
    },
  );
  await waitForDefaultNamespace(kubeConfig, options.startTimeoutMs ?? 30_000);
  // Applying is idempotent, and the CRDs and the policy may have changed since it started.
  if (options.crds !== false) await cluster.installCrds(options.crds);
  await installAdmissionPolicy(kubeConfig, options.crds !== false);
  return cluster;
}

let current: Promise<Cluster> | undefined;

/**
 * The cluster for this process: the shared one named by $BIND9_TEST_KUBECONFIG, else one
 * started here (once per process; later calls get the same one until it is stopped).
 * Without the admission policy it is always one started here.
 */
export function useCluster(options: ClusterOptions = {}): Promise<Cluster> {
  if (current !== undefined) return current;
  const shared = options.admissionPolicy === false ? undefined : process.env[SHARED_KUBECONFIG_ENV];
  const starting = shared ? attachCluster(shared, options) : startCluster(options);
  current = starting.then((cluster) => ({
    ...cluster,
    async stop() {
      current = undefined;
      await cluster.stop();
    },
  }));
  current.catch(() => {
    current = undefined;
  });
  return current;
}
