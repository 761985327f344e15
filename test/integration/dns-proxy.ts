/**
 * A loopback TCP proxy in front of a real named that can rewrite its replies: the one thing
 * a real server will not do for a test (send a tampered or foreign-signed reply).
 */
import { connect, createServer, type Socket } from 'node:net';
import type { DnsEndpoint } from '../../src/dns/update-request.ts';

export interface ReplyContext {
  /** 0 for the first reply on the connection, then 1, 2, ... */
  readonly index: number;
  /** The last request the client sent on this connection (without its length prefix). */
  readonly request: Buffer;
}

/** Returns the bytes to pass on (without length prefix). */
export type ReplyTransform = (reply: Buffer, context: ReplyContext) => Buffer;

export interface DnsProxy {
  readonly endpoint: DnsEndpoint;
  /** Replies seen so far, over all connections. */
  readonly replies: Buffer[];
  /** Client connections accepted so far. */
  readonly connections: () => number;
  /** Closes every open connection, as a server closing idle connections does. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** Splits a DNS-over-TCP byte stream into messages (RFC 1035 §4.2.2). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const length = pending.readUInt16BE(0);
      onFrame(pending.subarray(2, 2 + length));
      pending = pending.subarray(2 + length);
    }
  };
}

function frame(message: Buffer): Buffer {
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

export async function startProxy(
  target: DnsEndpoint,
  transform: ReplyTransform,
): Promise<DnsProxy> {
  const sockets = new Set<Socket>();
  const replies: Buffer[] = [];
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect({ host: target.address, port: target.port });
    sockets.add(client);
    sockets.add(upstream);
    let request = Buffer.alloc(0);
    let index = 0;
    client.on(
      'data',
      framer((f) => {
        request = Buffer.from(f);
        upstream.write(frame(f));
      }),
    );
    upstream.on(
      'data',
      framer((f) => {
        const reply = Buffer.from(f);
        replies.push(reply);
        client.write(frame(transform(reply, { index: index++, request })));
      }),
    );
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', () => {
        sockets.delete(s);
        end();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: { address: '127.0.0.1', port },
    replies,
    connections: () => accepted,
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
