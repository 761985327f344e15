/**
 * The one-command local demo (run it through scripts/demo.sh, which installs what is
 * missing first). Everything is real: a kube-apiserver + etcd on loopback, a named on
 * loopback, and the controller running with only the RBAC that deploy/ grants its
 * ServiceAccount. It applies examples/, waits until every resource is Ready, shows
 * `kubectl get dns -A` and what `dig` answers for each record, then waits for Ctrl-C.
 *
 *   scripts/demo.sh            interactive: keeps running until Ctrl-C
 *   scripts/demo.sh --once     (or DEMO_ONCE=1) exits 0 only when every example is Ready
 *                              and dig answers each record with exactly the declared data
 *   scripts/demo.sh --node     the same checks with deploy/ and deploy/bind9/ running as
 *                              pods of the one-node cluster (scripts/cluster.sh), dig
 *                              against the BIND9 Service's ClusterIP
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { RESOURCE_KINDS } from '../src/api/index.ts';
import { formatKeyFile } from '../src/dns/keyfile.ts';
import { type Cluster, startCluster } from '../test/harness/cluster.ts';
import { type NamedServer, startNamed } from '../test/harness/named.ts';
import { freePort } from '../test/harness/ports.ts';
import { nodeCluster } from '../test/node/harness.ts';
import {
  applyAll,
  bind9Address,
  CONTROLLER_SELECTOR,
  leaseHolder,
} from '../test/node/workloads.ts';
import { digExamples, printDigChecks, readyOf } from './lib/examples.ts';
import { KUBECTL, type Manifest, renderKustomization } from './lib/manifests.ts';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const GROUP = 'dns.bind9-controller.io';
const VERSION = 'v1alpha1';
/** The namespace of deploy/bind9 and examples/ (examples/kustomization.yaml). */
const NAMESPACE = 'dns';
const CONTROLLER_NAMESPACE = 'bind9-controller-system';
const SERVICE_ACCOUNT = 'bind9-controller';

const say = (text: string) => process.stdout.write(`[demo] ${text}\n`);

interface Options {
  readonly once: boolean;
  readonly node: boolean;
  readonly timeoutMs: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: { once: { type: 'boolean' }, node: { type: 'boolean' }, timeout: { type: 'string' } },
  });
  const once = values.once === true || /^(1|true|yes)$/i.test(process.env.DEMO_ONCE ?? '');
  const node = values.node === true;
  // In the one-node cluster a new zone's base file reaches the BIND9 pod through its
  // ConfigMap volume, which the kubelet refreshes about once a minute.
  const timeout = values.timeout ?? (node ? '600' : '180');
  return { once, node, timeoutMs: Number(timeout) * 1000 };
}

/**
 * SIGINT (Ctrl-C) and SIGTERM are caught from the first moment, not only once the demo says
 * "press Ctrl-C": a handler installed after that line loses to a signal sent as soon as the
 * line is read (Node.js takes a moment to install it), and the default action then kills the
 * demo with named and the API server left behind (CI saw that as an exit by signal; it
 * reproduced here about once in five under CPU load). The handlers stay for the whole run,
 * so a second Ctrl-C cannot cut the clean-up short either.
 */
let interrupted = false;
const interruption = new Promise<void>((resolve) => {
  const onSignal = () => {
    say(interrupted ? 'still cleaning up' : 'stopping');
    interrupted = true;
    resolve();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
});

/** Exit status after a Ctrl-C before the demo was up (as a shell reports one: 128 + 2). */
const INTERRUPTED = 130;

class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

/** Ends start-up at the next step once a signal came: what was started is cleaned up. */
function checkpoint(): void {
  if (interrupted) throw new Interrupted('interrupted during start-up');
}

/** What must be torn down, in reverse order of creation. */
const cleanups: (() => Promise<void>)[] = [];

async function cleanUp(): Promise<void> {
  for (const step of cleanups.reverse()) await step().catch(() => undefined);
  cleanups.length = 0;
}

/** deploy/ as `kubectl apply -k deploy/` would send it, minus the Deployment (no kubelet here). */
async function installDeploy(cluster: Cluster): Promise<void> {
  const objects = await renderKustomization(join(ROOT, 'deploy'));
  await cluster.applyManifests(objects.filter((o) => o.kind !== 'Deployment'));
}

/** Secrets with named's real keys and a Bind9Instance with the labels examples/ select. */
function instanceManifests(named: NamedServer): Manifest[] {
  const secret = (name: string, keyfile: string): Manifest => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: NAMESPACE },
    type: 'Opaque',
    stringData: { keyfile },
  });
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    secret('local-named-tsig-key', formatKeyFile(named.tsigKey)),
    secret('local-named-rndc-key', formatKeyFile(named.rndcKey)),
    {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Bind9Instance',
      metadata: {
        name: 'local-named',
        namespace: NAMESPACE,
        labels: { pool: 'example', role: 'primary' },
      },
      spec: {
        role: 'primary',
        dns: { address: named.address, port: named.dnsPort },
        rndc: {
          address: named.address,
          port: named.rndcPort,
          keySecretRef: { name: 'local-named-rndc-key' },
        },
        tsigKeySecretRef: { name: 'local-named-tsig-key' },
        // Same host: base zone files go straight into named's directory.
        zoneFiles: { directory: { path: named.zoneDir } },
      },
    },
  ];
}

/**
 * Starts `bind9-controller run` as the ServiceAccount of deploy/, logging to a file. Base
 * files go straight into named's directory, the one root it may write them to.
 */
async function startController(
  cluster: Cluster,
  logDir: string,
  named: NamedServer,
): Promise<ChildProcess> {
  const user = `system:serviceaccount:${CONTROLLER_NAMESPACE}:${SERVICE_ACCOUNT}`;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${CONTROLLER_NAMESPACE}`];
  const kubeconfig = await cluster.mintKubeconfig(user, groups);
  const metrics = `127.0.0.1:${await freePort()}`;
  const logFile = join(logDir, 'controller.log');
  const args = [
    join(ROOT, 'src/cli/main.ts'),
    'run',
    `--kubeconfig=${kubeconfig.path}`,
    `--zone-file-root=${named.zoneDir}`,
    '--leader-elect',
    `--leader-election-namespace=${CONTROLLER_NAMESPACE}`,
    `--metrics-address=${metrics}`,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  // Two sources into one file: neither may end it, or the other's last lines would be a
  // write after end (an 'error' nobody handles). The file is closed once the child is.
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
  child.once('exit', (code, signal) => {
    if (!stopping) say(`the controller exited (${signal ?? code}); its log: ${logFile}`);
  });
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });
  say(`controller running as ${user} (metrics http://${metrics}/metrics, log ${logFile})`);
  return child;
}

let stopping = false;

function pluralOf(kind: string): string {
  const info = (RESOURCE_KINDS as Record<string, { plural: string } | undefined>)[kind];
  if (info === undefined) throw new RangeError(`unknown kind ${kind}`);
  return info.plural;
}

async function readiness(kc: KubeConfig, objects: readonly Manifest[]) {
  const api = kc.makeApiClient(CustomObjectsApi);
  return Promise.all(
    objects.map(async (o) => {
      const got: unknown = await api
        .getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: o.metadata.namespace ?? NAMESPACE,
          plural: pluralOf(o.kind),
          name: o.metadata.name,
        })
        .catch(() => ({}));
      return { id: `${o.kind}/${o.metadata.name}`, ...readyOf(got) };
    }),
  );
}

/** Polls until every object is Ready=True; false when the deadline passes first. */
async function waitReady(kc: KubeConfig, objects: readonly Manifest[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (!stopping && !interrupted) {
    const states = await readiness(kc, objects);
    const waiting = states.filter((s) => s.status !== 'True');
    const line = `${states.length - waiting.length}/${states.length} Ready${
      waiting.length > 0
        ? `; waiting for ${waiting.map((s) => `${s.id} (${s.reason})`).join(', ')}`
        : ''
    }`;
    if (line !== last) say(line);
    last = line;
    if (waiting.length === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/** dig for every example record against the local named; true when all answered as declared. */
async function digAll(named: NamedServer, examples: readonly Manifest[]): Promise<boolean> {
  const checks = await digExamples({ address: named.address, port: named.dnsPort }, examples);
  return printDigChecks(checks, say);
}

async function showResources(cluster: Cluster): Promise<void> {
  const { stdout } = await run(KUBECTL, [
    '--kubeconfig',
    cluster.kubeconfigPath,
    'get',
    'dns',
    '-A',
  ]);
  say('kubectl get dns -A');
  process.stdout.write(stdout);
}

function printHowTo(cluster: Cluster, named: NamedServer): void {
  say('try it yourself (in another terminal):');
  const lines = [
    `export KUBECONFIG=${cluster.kubeconfigPath}`,
    'kubectl get dns -A',
    `kubectl -n ${NAMESPACE} edit arecord www`,
    `dig @${named.address} -p ${named.dnsPort} www.example.com A +short`,
    `nsupdate -k ${named.tsigKeyFile}   # server ${named.address} ${named.dnsPort}`,
  ];
  for (const line of lines) process.stdout.write(`    ${line}\n`);
  say('press Ctrl-C to stop and clean up');
}

/** --node: deploy/, deploy/bind9/ and examples/ as shipped, as pods of the one-node cluster. */
async function mainNode(opts: Options): Promise<number> {
  // Brings the cluster up if needed and re-runs this demo inside its network namespace.
  const cluster = await nodeCluster();
  say(
    `one-node cluster: node ${cluster.info.node} (${cluster.info.nodeIp}) in namespace ${cluster.info.netns}`,
  );
  await applyAll(cluster);
  say('applied deploy/, deploy/bind9/ (keys from tsig-keygen) and examples/, as shipped');
  await cluster.waitForPods(CONTROLLER_NAMESPACE, CONTROLLER_SELECTOR, {
    count: 2,
    timeoutMs: opts.timeoutMs,
  });
  say(`both controller pods Ready; the Lease is held by ${await leaseHolder(cluster)}`);
  checkpoint();
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.info.kubeconfig);
  const examples = await renderKustomization(join(ROOT, 'examples'));
  const instance = (await renderKustomization(join(ROOT, 'deploy/bind9'))).filter(
    (o) => o.kind === 'Bind9Instance',
  );
  const ready = await waitReady(kc, [...instance, ...examples], opts.timeoutMs);
  checkpoint();
  say('kubectl get dns -A');
  process.stdout.write(await cluster.kubectl(['get', 'dns', '-A']));
  const address = await bind9Address(cluster);
  say(`dig against the BIND9 Service's ClusterIP ${address}`);
  const answered = printDigChecks(await digExamples({ address, port: 53 }, examples), say);
  if (opts.once) {
    if (!ready) say(`not every resource became Ready within ${opts.timeoutMs / 1000} s`);
    return ready && answered ? 0 : 1;
  }
  say('try it yourself (in another terminal; every client runs inside the namespace):');
  const lines = [
    'scripts/cluster.sh kubectl get pods,dns -A',
    `scripts/cluster.sh kubectl -n ${NAMESPACE} edit arecord www`,
    `scripts/cluster.sh exec dig @${address} www.example.com A +short`,
    'scripts/cluster.sh down      # when done: stops the cluster',
  ];
  for (const line of lines) process.stdout.write(`    ${line}\n`);
  say('press Ctrl-C to stop');
  await interruption;
  return 0;
}

async function main(): Promise<number> {
  const opts = options();
  if (opts.node) return mainNode(opts);
  const logDir = await mkdtemp(join(tmpdir(), 'bind9-demo-'));
  say('starting kube-apiserver + etcd (installs crds/)');
  const cluster = await startCluster();
  cleanups.push(() => cluster.stop());
  say(`kube-apiserver at ${cluster.server} (state in ${cluster.stateDir})`);
  checkpoint();
  const named = await startNamed();
  cleanups.push(() => named.stop());
  say(`named on ${named.address} port ${named.dnsPort} (rndc ${named.rndcPort})`);
  checkpoint();
  await installDeploy(cluster);
  await cluster.applyManifests(instanceManifests(named));
  await startController(cluster, logDir, named);
  checkpoint();
  const examples = await renderKustomization(join(ROOT, 'examples'));
  await cluster.applyManifests(examples);
  say(`applied ${examples.length} example resources to namespace ${NAMESPACE}`);
  const watched = [
    ...instanceManifests(named).filter((o) => o.kind === 'Bind9Instance'),
    ...examples,
  ];
  const ready = await waitReady(cluster.kubeConfig, watched, opts.timeoutMs);
  checkpoint();
  await showResources(cluster);
  const answered = await digAll(named, examples);
  if (opts.once) {
    if (!ready) say(`not every resource became Ready within ${opts.timeoutMs / 1000} s`);
    if (ready && answered) await rm(logDir, { recursive: true, force: true });
    return ready && answered ? 0 : 1;
  }
  checkpoint();
  printHowTo(cluster, named);
  await interruption;
  return 0;
}

const code = await main().catch((error: unknown) => {
  if (error instanceof Interrupted) return INTERRUPTED;
  process.stderr.write(`[demo] failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  return 1;
});
stopping = true;
say('cleaning up');
await cleanUp();
process.exit(code);
