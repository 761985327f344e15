/**
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766) and UDP (§4.2.1). A TCP connection carries many
 * requests at once, each matched to its replies by message ID (RFC 7766 §6.2.1.1
 * pipelining); a request may take several replies (AXFR). Every wait has a timeout, and
 * bytes that cannot be framed close the connection with an error, never a crash.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6, type Socket, connect as tcpConnect } from 'node:net';
import { DecodeError, TransientError } from '../errors.ts';
import type { DnsEndpoint } from './update-request.ts';

/**
 * Handles one reply. Returns true when the exchange is complete; throws to fail it.
 * Replies reach it only when their ID is the request's.
 */
export type ReplyHandler = (raw: Buffer) => boolean;

interface Pending {
  readonly onReply: ReplyHandler;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly timeoutMs: number;
  timer: NodeJS.Timeout;
}

function endpointText(e: DnsEndpoint): string {
  return isIPv6(e.address) ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** Maps a socket error to a transient error carrying its errno code (ECONNREFUSED, ...). */
export function socketError(error: unknown, endpoint: DnsEndpoint): TransientError {
  const code =
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
      ? error.code
      : 'CONNECTION_FAILED';
  return new TransientError(code, `DNS connection to ${endpointText(endpoint)} failed: ${code}`, {
    cause: error,
    detail: { server: endpointText(endpoint) },
  });
}

function timeoutError(endpoint: DnsEndpoint, timeoutMs: number, what: string): TransientError {
  return new TransientError(
    'TIMEOUT',
    `${what} to ${endpointText(endpoint)} timed out after ${timeoutMs} ms`,
    {
      detail: { server: endpointText(endpoint), timeoutMs },
    },
  );
}

/** A random ID not in use (RFC 5452 §9.2: unpredictable IDs). */
function freeId(inUse: ReadonlyMap<number, unknown>): number {
  for (let i = 0; i < 64; i++) {
    const id = randomInt(0, 0x10000);
    if (!inUse.has(id)) return id;
  }
  for (let id = 0; id < 0x10000; id++) if (!inUse.has(id)) return id;
  throw new TransientError('BUSY', 'all 65536 DNS message IDs are in use on one connection');
}

export class TcpConnection {
  readonly endpoint: DnsEndpoint;
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  #chunks: Buffer[] = [];
  #buffered = 0;
  #closed = false;
  /** How many exchanges completed on this connection (0: never used). */
  completed = 0;

  private constructor(endpoint: DnsEndpoint, socket: Socket) {
    this.endpoint = endpoint;
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(socketError(error, endpoint)));
    socket.on('close', () =>
      this.#fail(
        new TransientError('CONNECTION_CLOSED', `${endpointText(endpoint)} closed the connection`),
      ),
    );
    socket.unref();
  }

  static connect(endpoint: DnsEndpoint, timeoutMs: number): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: endpoint.address, port: endpoint.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(timeoutError(endpoint, timeoutMs, 'TCP connect'));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(socketError(error, endpoint));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TcpConnection(endpoint, socket));
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get busy(): number {
    return this.#pending.size;
  }

  /**
   * Sends the message `build` makes for a fresh ID and feeds each reply with that ID to
   * `onReply` until it returns true. The timeout restarts with every reply, so a long
   * AXFR only fails when the server goes quiet.
   */
  exchange(build: (id: number) => Buffer, onReply: ReplyHandler, timeoutMs: number): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TransientError(
          'CONNECTION_CLOSED',
          `${endpointText(this.endpoint)} connection is closed`,
        ),
      );
    }
    const id = freeId(this.#pending);
    const message = build(id);
    if (message.length > 0xffff) {
      return Promise.reject(new DecodeError(`message of ${message.length} bytes exceeds 65535`));
    }
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        onReply,
        resolve,
        reject,
        timeoutMs,
        timer: this.#startTimer(id, timeoutMs),
      };
      this.#pending.set(id, pending);
      this.#socket.ref();
      const frame = Buffer.allocUnsafe(2 + message.length);
      frame.writeUInt16BE(message.length, 0);
      message.copy(frame, 2);
      this.#socket.write(frame);
    });
  }

  #startTimer(id: number, timeoutMs: number): NodeJS.Timeout {
    return setTimeout(() => {
      this.#settle(id, timeoutError(this.endpoint, timeoutMs, 'DNS request'));
    }, timeoutMs);
  }

  /** Ends one exchange: resolves it (no error) or rejects it. */
  #settle(id: number, error?: unknown): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (this.#pending.size === 0 && !this.#closed) this.#socket.unref();
    if (error === undefined) {
      this.completed++;
      pending.resolve();
    } else {
      pending.reject(error);
    }
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= 2) {
      const first = this.#chunks[0]!;
      const length = (first.length >= 2 ? first : this.#flatten()).readUInt16BE(0);
      if (this.#buffered < 2 + length) return;
      const all = this.#flatten();
      const frame = all.subarray(2, 2 + length);
      const rest = all.subarray(2 + length);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      this.#onFrame(frame);
      if (this.#closed) return;
    }
  }

  #flatten(): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [all];
    return all;
  }

  #onFrame(frame: Buffer): void {
    if (frame.length < 12) {
      // Without a whole header the reply cannot be matched to anyone: the stream is broken.
      this.#fail(
        new DecodeError(`${endpointText(this.endpoint)} sent a ${frame.length}-byte message`),
      );
      this.#socket.destroy();
      return;
    }
    const id = frame.readUInt16BE(0);
    const pending = this.#pending.get(id);
    if (pending === undefined) return; // A late reply to a request that timed out.
    let done: boolean;
    try {
      done = pending.onReply(frame);
    } catch (error) {
      this.#settle(id, error);
      return;
    }
    if (done) {
      this.#settle(id);
    } else {
      clearTimeout(pending.timer);
      pending.timer = this.#startTimer(id, pending.timeoutMs);
    }
  }

  #fail(error: unknown): void {
    this.#closed = true;
    for (const id of [...this.#pending.keys()]) this.#settle(id, error);
  }

  /** Closes the connection; pending exchanges fail with CONNECTION_CLOSED. */
  close(): Promise<void> {
    if (this.#socket.destroyed) {
      this.#closed = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.destroy();
    });
  }
}

/**
 * One UDP exchange. Only datagrams from the server's address and port with the request's
 * ID reach `onReply` (the socket is connected); bytes it cannot accept fail the exchange.
 */
export function udpExchange(
  endpoint: DnsEndpoint,
  build: (id: number) => Buffer,
  onReply: (raw: Buffer) => void,
  timeoutMs: number,
): Promise<void> {
  const id = randomInt(0, 0x10000);
  const message = build(id);
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(endpoint.address) ? 'udp6' : 'udp4');
    let finished = false;
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      if (error === undefined) resolve();
      else reject(error);
    };
    const timer = setTimeout(
      () => finish(timeoutError(endpoint, timeoutMs, 'DNS query')),
      timeoutMs,
    );
    socket.on('error', (error) => finish(socketError(error, endpoint)));
    socket.on('message', (raw) => {
      if (raw.length < 2 || raw.readUInt16BE(0) !== id) return; // not ours (RFC 5452 §4.3)
      try {
        onReply(raw);
        finish();
      } catch (error) {
        finish(error);
      }
    });
    socket.connect(endpoint.port, endpoint.address, () => {
      socket.send(message, (error) => {
        if (error) finish(socketError(error, endpoint));
      });
    });
  });
}
