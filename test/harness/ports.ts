/** Free loopback ports for test servers (TCP and UDP both free on the same number). */
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

function tcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/** A port free for TCP and UDP on `host`, not handed out before by this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tcpPort(host);
    if (port !== 0 && !handedOut.has(port) && (await udpFree(host, port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new RangeError('no free loopback port found after 50 attempts');
}

/** True when something accepts a TCP connection on `port` (at `host`). */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
