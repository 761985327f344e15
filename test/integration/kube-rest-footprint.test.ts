/**
 * What the controller's Kubernetes client costs at start-up, ours against
 * @kubernetes/client-node, each in a fresh process listing the same ARecords from the real
 * kube-apiserver. Figures are printed as test diagnostics, never asserted (tests do not
 * judge timing); what is asserted is that our path never loads client-node.
 *
 *     node --test test/integration/kube-rest-footprint.test.ts
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createAuthenticator, loadKubeconfigFile } from '../../src/kube/kubeconfig.ts';
import { KubeRest, resourcePath } from '../../src/kube/rest.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';

const run = promisify(execFile);
const CHILD = join(import.meta.dirname, 'kube-rest-footprint-child.ts');

interface Figures {
  mode: string;
  items: number;
  importMs: number;
  listDoneMs: number;
  rssMB: number;
  modules: number;
  clientNodeLoaded: boolean;
}

let cluster: Cluster;
let ns: string;
let jsonKubeconfig: string;

before(async () => {
  cluster = await useCluster();
  ns = await cluster.createNamespace('kube-rest-footprint');
  const target = await loadKubeconfigFile(cluster.kubeconfigPath);
  const rest = new KubeRest(target, await createAuthenticator(target));
  const path = resourcePath({
    group: 'dns.bind9-controller.io',
    version: 'v1alpha1',
    plural: 'arecords',
    namespace: ns,
  });
  for (let i = 0; i < 20; i++) {
    await rest.request('POST', path, {
      body: {
        apiVersion: 'dns.bind9-controller.io/v1alpha1',
        kind: 'ARecord',
        metadata: { name: `r${i}` },
        spec: { zone: 'example', name: `r${i}`, ipv4Addresses: ['192.0.2.1'] },
      },
    });
  }
  rest.close();
  jsonKubeconfig = join(cluster.stateDir, `footprint-${ns}.json`);
  const doc: unknown = parse(await readFile(cluster.kubeconfigPath, 'utf8'));
  await writeFile(jsonKubeconfig, JSON.stringify(doc), { mode: 0o600 });
});
after(() => cluster?.stop());

async function measure(mode: 'rest' | 'client-node', kubeconfig: string): Promise<Figures> {
  const { stdout } = await run(process.execPath, [CHILD, mode, kubeconfig, ns], {
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Figures;
}

describe('client footprint', () => {
  it('lists with our client without ever loading @kubernetes/client-node', async (t) => {
    const ours = await measure('rest', cluster.kubeconfigPath);
    // A JSON kubeconfig skips the YAML parser, as the in-cluster path does.
    const oursJson = await measure('rest', jsonKubeconfig);
    const theirs = await measure('client-node', cluster.kubeconfigPath);
    const rows: [string, Figures][] = [
      ['ours, YAML kubeconfig', ours],
      ['ours, JSON kubeconfig', oursJson],
      ['@kubernetes/client-node', theirs],
    ];
    for (const [label, f] of rows) {
      t.diagnostic(
        `${label}: imported at ${f.importMs} ms, list done at ${f.listDoneMs} ms, ` +
          `RSS ${f.rssMB} MB, ${f.modules} modules resolved`,
      );
    }
    assert.equal(ours.items, 20);
    assert.equal(theirs.items, 20);
    assert.equal(ours.clientNodeLoaded, false);
    assert.equal(oursJson.clientNodeLoaded, false);
    assert.equal(oursJson.items, 20);
    // The probe itself must be able to see client-node, or the assertion above proves nothing.
    assert.equal(theirs.clientNodeLoaded, true);
  });
});
