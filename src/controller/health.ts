/**
 * /healthz (the process is alive and its loop turns), /readyz (caches synced and, with
 * leader election, either leading or standing by), /metrics (Prometheus text).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

/**
 * node:http through getBuiltinModule, not `import`: an ES module import of node:http builds
 * its whole namespace, which reads the lazy WebSocket/MessageEvent exports and so loads
 * Node's bundled undici (~0.7 MB of source and its compiled code, ~5 MB of RSS) that the
 * controller never uses. The CommonJS object leaves them unread.
 */
const { createServer } = process.getBuiltinModule('node:http');

export interface HealthSource {
  live(): boolean;
  ready(): boolean;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** `address` is `host:port`; port 0 picks a free one (tests). */
export async function startHealthServer(
  address: string,
  source: HealthSource,
  metrics: Metrics,
): Promise<HealthServer> {
  const { host, port } = splitAddress(address);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (path === '/healthz') {
      const ok = source.live();
      reply(ok ? 200 : 503, ok ? 'ok\n' : 'not live\n');
    } else if (path === '/readyz') {
      const ok = source.ready();
      reply(ok ? 200 : 503, ok ? 'ok\n' : 'not ready\n');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => reply(200, text, metrics.registry.contentType),
        () => reply(500, 'metrics failed\n'),
      );
    } else {
      reply(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function splitAddress(address: string): { host: string; port: number } {
  const index = address.lastIndexOf(':');
  const host = index <= 0 ? '0.0.0.0' : address.slice(0, index).replace(/^\[|\]$/g, '');
  const port = Number(index === -1 ? address : address.slice(index + 1));
  return { host, port: Number.isInteger(port) ? port : 8080 };
}
