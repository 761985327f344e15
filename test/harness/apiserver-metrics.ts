/**
 * What the API server counted: `apiserver_request_total` from its own /metrics (read with
 * the admin certificate), by verb and resource. The benchmarks use it to say how many
 * requests the controller made per record, tests to prove a request was not made.
 */
import { request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterError } from './cluster.ts';

async function getText(kc: KubeConfig, path: string): Promise<string> {
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new ClusterError('kubeconfig names no cluster');
  const options: Parameters<KubeConfig['applyToHTTPSOptions']>[0] = {};
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new ClusterError('apiserver /metrics timed out')));
    req.end();
  });
}

function label(line: string, name: string): string {
  return new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? '';
}

/** The core resources the controller writes or reads besides its own kinds (RBAC of deploy/). */
const CORE_RESOURCES = new Set(['events', 'secrets', 'configmaps']);

/**
 * Request counts by `VERB resource[/subresource]` for what the controller can touch: our API
 * group's resources, and Events, Secrets and ConfigMaps. The API server's own background
 * requests (its identity lease, flow control) are left out.
 */
export async function requestCounts(kc: KubeConfig): Promise<Map<string, number>> {
  const text = await getText(kc, '/metrics');
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const group = label(line, 'group');
    const resource = label(line, 'resource');
    const ours = group === 'dns.bind9-controller.io';
    const core = (group === '' || group === 'events.k8s.io') && CORE_RESOURCES.has(resource);
    if (!ours && !core) continue;
    const sub = label(line, 'subresource');
    const key = `${label(line, 'verb')} ${resource}${sub ? `/${sub}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}
