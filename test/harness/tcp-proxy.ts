/**
 * A tiny in-process TCP proxy on loopback, in front of a real server, for what the real
 * server cannot do by itself: alter bytes of its replies, count connections, or drop them.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Bytes received from clients so far. */
  readonly bytesFromClients: number;
  /** Closes every open connection (both sides); the proxy keeps listening. */
  dropAll(): void;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  readonly target: { address: string; port: number };
  /** Rewrites each chunk the server sends back (`index` counts chunks per connection). */
  readonly alterReply?: (chunk: Buffer, index: number) => Buffer;
}

export function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let bytesFromClients = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = connect({ host: options.target.address, port: options.target.port });
    let index = 0;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      bytesFromClients += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(options.alterReply ? options.alterReply(chunk, index++) : chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        port,
        get connections() {
          return connections;
        },
        get bytesFromClients() {
          return bytesFromClients;
        },
        dropAll() {
          for (const s of sockets) s.destroy();
        },
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}
