/**
 * One TCP connection to an rndc control channel, carrying length-prefixed ISCCC frames.
 * It only moves bytes: one request at a time, one whole reply frame back. The caller
 * (client.ts) signs, verifies and sequences.
 */
import { connect, type Socket } from 'node:net';
import { DecodeError, TransientError } from '../../errors.ts';
import type { DnsEndpoint } from '../update-request.ts';
import { MAX_FRAME } from './codec.ts';

/** The server closed the connection before a whole reply arrived. */
export class ConnectionClosedError extends TransientError {
  override readonly name: string = 'ConnectionClosedError';
}

type Pending = { resolve: (frame: Buffer) => void; reject: (error: Error) => void };

export class FrameConnection {
  readonly #socket: Socket;
  readonly #endpoint: DnsEndpoint;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: Pending | undefined;
  #closed = false;
  #failure: Error | undefined;

  private constructor(socket: Socket, endpoint: DnsEndpoint) {
    this.#socket = socket;
    this.#endpoint = endpoint;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(transportError(error, endpoint)));
    socket.on('close', () =>
      this.#fail(
        new ConnectionClosedError(
          'RNDC_CLOSED',
          `rndc: ${where(endpoint)} closed the control channel before answering`,
        ),
      ),
    );
  }

  /** Connects within `timeoutMs`; refused or unreachable → TransientError. */
  static open(endpoint: DnsEndpoint, timeoutMs: number): Promise<FrameConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: endpoint.address, port: endpoint.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(timeoutError(endpoint, 'connecting', timeoutMs));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(transportError(error, endpoint));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new FrameConnection(socket, endpoint));
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one frame and resolves with the next whole frame received. */
  exchange(frame: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.#closed) {
      return Promise.reject(this.#failure ?? new ConnectionClosedError('RNDC_CLOSED', 'closed'));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(timeoutError(this.#endpoint, 'waiting for a reply', timeoutMs));
      }, timeoutMs);
      this.#pending = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#socket.write(frame);
    });
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    if (this.#buffer.length < 4) return;
    const length = this.#buffer.readUInt32BE(0);
    if (length > MAX_FRAME) {
      this.#fail(new DecodeError(`rndc reply of ${length} bytes exceeds ${MAX_FRAME}`));
      return;
    }
    if (this.#buffer.length < 4 + length) return;
    const frame = this.#buffer.subarray(0, 4 + length);
    this.#buffer = this.#buffer.subarray(4 + length);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined) {
      this.#fail(new DecodeError('rndc server sent a frame nobody asked for'));
      return;
    }
    pending.resolve(Buffer.from(frame));
  }

  #fail(error: Error): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#failure = error;
      this.#socket.destroy();
    }
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(this.#failure ?? error);
  }
}

function where(endpoint: DnsEndpoint): string {
  return endpoint.address.includes(':')
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}

function timeoutError(endpoint: DnsEndpoint, doing: string, ms: number): TransientError {
  return new TransientError(
    'TIMEOUT',
    `rndc: timed out after ${ms} ms ${doing} ${where(endpoint)}`,
    {
      detail: { endpoint: where(endpoint) },
    },
  );
}

function transportError(error: Error, endpoint: DnsEndpoint): TransientError {
  const code = (error as NodeJS.ErrnoException).code ?? 'ECONNECTION';
  const reason =
    code === 'ECONNREFUSED' ? 'connection refused (is named listening?)' : error.message;
  return new TransientError('RNDC_UNREACHABLE', `rndc: ${where(endpoint)}: ${reason}`, {
    cause: error,
    detail: { endpoint: where(endpoint), errno: code },
  });
}
