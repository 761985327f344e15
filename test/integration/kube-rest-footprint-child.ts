/**
 * Child process of kube-rest-footprint.test.ts: imports one Kubernetes client, lists a
 * collection once, and prints what that cost as one JSON line. `argv[2]` is `rest` (ours)
 * or `client-node`; `argv[3]` the kubeconfig; `argv[4]` the namespace whose ARecords are listed.
 */
import { registerHooks } from 'node:module';

const [, , mode, kubeconfig = '', namespace = ''] = process.argv;
const loaded = new Set<string>();
// Records every module the import pulls in, to tell whether client-node was loaded.
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    loaded.add(result.url);
    return result;
  },
});

async function listWithRest(): Promise<number> {
  const { RestKube } = await import('../../src/kube/rest-kube.ts');
  const importedAt = performance.now();
  const kube = await RestKube.connect({ kubeconfig });
  const list = await kube.list('arecords', namespace);
  kube.close();
  return report(importedAt, list.items.length);
}

async function listWithClientNode(): Promise<number> {
  const { CustomObjectsApi, KubeConfig } = await import('@kubernetes/client-node');
  const importedAt = performance.now();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({
    group: 'dns.bind9-controller.io',
    version: 'v1alpha1',
    namespace,
    plural: 'arecords',
  })) as { items: unknown[] };
  return report(importedAt, list.items.length);
}

function report(importedAt: number, items: number): number {
  const clientNode = [...loaded].some((u) => u.includes('/@kubernetes/client-node/'));
  const line = {
    mode,
    items,
    // performance.now() counts from process start.
    importMs: Math.round(importedAt),
    listDoneMs: Math.round(performance.now()),
    rssMB: Math.round(process.memoryUsage().rss / 1024 / 1024),
    modules: loaded.size,
    clientNodeLoaded: clientNode,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return items;
}

await (mode === 'client-node' ? listWithClientNode() : listWithRest());
