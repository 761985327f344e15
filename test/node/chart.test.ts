/**
 * The Helm chart (charts/bind9-controller/) and deploy/ describe one installation: the
 * chart's default render (`helm template … --include-crds`) and `kubectl kustomize deploy/`
 * hold the same objects, equal field for field apart from Helm's own labels. The comparison
 * is generic: an object, an RBAC rule or a field added to one side only fails here, naming
 * it. No cluster needed (helm is built by tools/control-plane/build.sh --node).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { type Manifest, parseManifests, renderKustomization } from '../../scripts/lib/manifests.ts';
import { findBinDir } from '../harness/cluster.ts';
import { REPO_ROOT } from './harness.ts';

const run = promisify(execFile);
const CHART = join(REPO_ROOT, 'charts/bind9-controller');
const RELEASE = 'bind9-controller';
const NAMESPACE = 'bind9-controller-system';
/** Labels Helm charts add by convention; deploy/ has none of them. */
const HELM_LABELS = [
  'helm.sh/chart',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
];

function helm(): string {
  const bin = join(findBinDir(), 'helm');
  assert.ok(existsSync(bin), `${bin} is missing: run scripts/setup.sh --node`);
  return bin;
}

async function render(...values: string[]): Promise<Manifest[]> {
  const args = ['template', RELEASE, CHART, '-n', NAMESPACE, '--include-crds', ...values];
  const { stdout } = await run(helm(), args, { maxBuffer: 64 << 20 });
  return parseManifests(stdout, 'helm template');
}

const id = (o: Manifest) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** A copy without Helm's labels, wherever a `labels` or `matchLabels` map appears. */
function withoutHelmLabels(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutHelmLabels);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if ((key === 'labels' || key === 'matchLabels') && typeof v === 'object' && v !== null) {
      const kept = Object.entries(v).filter(([k]) => !HELM_LABELS.includes(k));
      if (kept.length > 0) out[key] = Object.fromEntries(kept);
    } else {
      out[key] = withoutHelmLabels(v);
    }
  }
  return out;
}

const byId = (objects: readonly Manifest[]) => new Map(objects.map((o) => [id(o), o]));

test("the chart's default render holds exactly deploy/'s objects, the Namespace aside (helm install --create-namespace makes it)", async () => {
  const chart = byId(await render());
  const deploy = byId(await renderKustomization(join(REPO_ROOT, 'deploy')));
  const onlyDeploy = [...deploy.keys()].filter((k) => !chart.has(k) && !k.startsWith('Namespace/'));
  const onlyChart = [...chart.keys()].filter((k) => !deploy.has(k));
  assert.deepEqual(onlyDeploy, [], 'in deploy/ but not rendered by the chart');
  assert.deepEqual(onlyChart, [], 'rendered by the chart but not in deploy/');
});

test("every object that the chart and deploy/ both contain is the same, field for field, apart from Helm's labels", async () => {
  const chart = byId(await render('--set', 'namespace.create=true'));
  const deploy = await renderKustomization(join(REPO_ROOT, 'deploy'));
  let compared = 0;
  for (const object of deploy) {
    const rendered = chart.get(id(object));
    if (rendered === undefined) continue;
    assert.deepEqual(
      withoutHelmLabels(rendered),
      withoutHelmLabels(object),
      `${id(object)} differs`,
    );
    compared++;
  }
  assert.ok(compared >= deploy.length, `${compared} of ${deploy.length} objects compared`);
});

test("the chart's crds/ is the repository's crds/, file for file (npm run chart:crds copies them)", async () => {
  const ours = (await readdir(join(REPO_ROOT, 'crds')))
    .filter((f) => f !== 'kustomization.yaml')
    .sort();
  const theirs = (await readdir(join(CHART, 'crds'))).sort();
  assert.deepEqual(theirs, ours);
  for (const f of ours) {
    const same =
      (await readFile(join(REPO_ROOT, 'crds', f), 'utf8')) ===
      (await readFile(join(CHART, 'crds', f), 'utf8'));
    assert.ok(same, `charts/bind9-controller/crds/${f} differs from crds/${f}`);
  }
});

function deployment(objects: readonly Manifest[]) {
  const d = objects.find((o) => o.kind === 'Deployment') as
    | (Manifest & {
        spec: {
          replicas: number;
          template: {
            spec: {
              containers: {
                image: string;
                args: string[];
                resources: unknown;
                env: { name: string; value?: string }[];
              }[];
            };
          };
        };
      })
    | undefined;
  assert.ok(d, 'a Deployment');
  const container = d.spec.template.spec.containers[0];
  assert.ok(container);
  return { d, container };
}

test('the usual values change what they say: image, replicas, resources, namespaces to watch, log level, extra args and env', async () => {
  const objects = await render(
    '--set',
    'image.repository=registry.example/dns/ctl',
    '--set',
    'image.tag=1.2.3',
    '--set',
    'replicaCount=3',
    '--set',
    'resources.limits.memory=1Gi',
    '--set',
    'watchNamespaces={team-a,team-b}',
    '--set',
    'logLevel=debug',
    '--set',
    'extraArgs={--concurrency=8}',
    '--set',
    'extraEnv[0].name=TZ',
    '--set',
    'extraEnv[0].value=UTC',
  );
  const { d, container } = deployment(objects);
  assert.equal(container.image, 'registry.example/dns/ctl:1.2.3');
  assert.equal(d.spec.replicas, 3);
  assert.deepEqual((container.resources as { limits: { memory: string } }).limits.memory, '1Gi');
  for (const arg of ['--namespace=team-a,team-b', '--log-level=debug', '--concurrency=8']) {
    assert.ok(container.args.includes(arg), `args include ${arg}`);
  }
  assert.ok(container.env.some((e) => e.name === 'TZ' && e.value === 'UTC'));
});

test('leader election off renders one controller without the Lease role; a ServiceMonitor comes with a metrics Service', async () => {
  const single = await render('--set', 'leaderElection.enabled=false', '--set', 'replicaCount=1');
  assert.ok(!deployment(single).container.args.includes('--leader-elect'));
  assert.ok(!single.some((o) => o.kind === 'Role'));
  const monitored = await render('--set', 'metrics.serviceMonitor.enabled=true');
  const monitor = monitored.find((o) => o.kind === 'ServiceMonitor');
  const service = monitored.find((o) => o.kind === 'Service');
  assert.ok(monitor && service, 'a ServiceMonitor and its Service');
  assert.equal((service.spec as { ports: { port: number }[] }).ports[0]?.port, 8080);
  const noConfigMaps = await render('--set', 'rbac.configMapDelivery=false');
  const role = noConfigMaps.find((o) => o.kind === 'ClusterRole') as Manifest & {
    rules: { resources: string[] }[];
  };
  assert.ok(!role.rules.some((r) => r.resources.includes('configmaps')));
});

/** A kustomization of deploy/ with these components of deploy/sources/, in a temporary directory. */
async function deployWith(components: readonly string[]): Promise<Manifest[]> {
  const dir = await mkdtemp(join(tmpdir(), 'chart-sources-'));
  try {
    const rel = (path: string) => relative(dir, join(REPO_ROOT, path));
    const lines = [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${rel('deploy')}]`,
      `components: [${components.map((c) => rel(`deploy/sources/${c}`)).join(', ')}]`,
    ];
    await writeFile(join(dir, 'kustomization.yaml'), `${lines.join('\n')}\n`);
    return await renderKustomization(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("each source (values `sources`, `externalDnsAnnotations`) renders deploy/ with that source's component of deploy/sources/, field for field", async () => {
  for (const source of ['service', 'ingress', 'gateway', 'gateway-tlsroute']) {
    const chart = byId(
      await render(
        '--set',
        'namespace.create=true',
        '--set',
        `sources={${source}}`,
        '--set',
        'externalDnsAnnotations=true',
      ),
    );
    const deploy = await deployWith([source, 'external-dns-annotations']);
    const missing = deploy.filter((o) => !chart.has(id(o))).map(id);
    assert.deepEqual(missing, [], `${source}: in deploy/ + its component, not in the chart`);
    assert.equal(chart.size, deploy.length, `${source}: the chart renders nothing more`);
    for (const object of deploy) {
      const rendered = withoutHelmLabels(chart.get(id(object)));
      assert.deepEqual(rendered, withoutHelmLabels(object), `${source}: ${id(object)} differs`);
    }
  }
});

test('helm lint accepts the chart', async () => {
  const { stdout } = await run(helm(), ['lint', CHART, '--strict']);
  assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});
