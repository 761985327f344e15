/**
 * What the API server counted: `apiserver_request_total` from its own /metrics (admin
 * certificate), so a scenario can say how many writes the controller made per record.
 */
import { request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

async function getText(kc: KubeConfig, path: string): Promise<string> {
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new Error('kubeconfig names no cluster');
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
    req.setTimeout(10_000, () => req.destroy(new Error('apiserver /metrics timed out')));
    req.end();
  });
}

function label(line: string, name: string): string {
  return new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? '';
}

/** Request counts by `VERB resource[/subresource]` for our API group's resources. */
export async function requestCounts(kc: KubeConfig): Promise<Map<string, number>> {
  const text = await getText(kc, '/metrics');
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (label(line, 'group') !== 'dns.bind9-controller.io') continue;
    const sub = label(line, 'subresource');
    const key = `${label(line, 'verb')} ${label(line, 'resource')}${sub ? `/${sub}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** after − before: the total, and `VERB resource: n` text for the keys that changed. */
export function countsDelta(
  before: Map<string, number>,
  after: Map<string, number>,
): { total: number; text: string } {
  const deltas = [...after]
    .map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1]);
  return {
    total: deltas.reduce((sum, [, d]) => sum + d, 0),
    text: deltas.map(([k, d]) => `${k}: ${d}`).join(', '),
  };
}
