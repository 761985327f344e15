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

/**
 * The port answers, but not as an rndc control channel: an HTTP or TLS server (the API
 * server's port, say) or anything else that does not send ISCCC frames. A DecodeError
 * (the bytes are no rndc reply) with a code that says what they are; retrying the same
 * endpoint cannot help: the Bind9Instance names the wrong port.
 */
export class NotRndcError extends DecodeError {
  override readonly name: string = 'NotRndcError';
}

/** What the first bytes of a reply say the other side speaks, when it is not ISCCC. */
export function foreignProtocol(bytes: Buffer): 'HTTP' | 'TLS' | undefined {
  if (bytes.subarray(0, 5).toString('latin1') === 'HTTP/') return 'HTTP';
  // A TLS record: content type 20-23 (alert, handshake ...), then version 3.x (RFC 8446 §5.1).
  const type = bytes[0] ?? 0;
  if (type >= 20 && type <= 23 && bytes[1] === 3 && (bytes[2] ?? 9) <= 4) return 'TLS';
  return undefined;
}

/** The error for a port that speaks `protocol` instead of rndc. */
export function notRndc(endpoint: DnsEndpoint, protocol: 'HTTP' | 'TLS' | undefined): NotRndcError {
  const at = where(endpoint);
  if (protocol === undefined) {
    return new NotRndcError(
      `rndc: ${at} answered, but not with the rndc control protocol: is this named's controls port (953 by default)?`,
      { code: 'RNDC_NOT_RNDC', detail: { endpoint: at } },
    );
  }
  const what =
    protocol === 'HTTP' ? 'an HTTP server' : 'a TLS server (HTTPS, the Kubernetes API ...)';
  return new NotRndcError(
    `rndc: ${at} speaks ${protocol}: it is ${what}, not named's control channel; point rndc at named's controls port (953 by default)`,
    { code: `RNDC_SPEAKS_${protocol}`, detail: { endpoint: at, protocol } },
  );
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
    if (this.#buffer.length < 5) return;
    const foreign = foreignProtocol(this.#buffer);
    if (foreign !== undefined) {
      this.#fail(notRndc(this.#endpoint, foreign));
      return;
    }
    const length = this.#buffer.readUInt32BE(0);
    if (length > MAX_FRAME) {
      this.#fail(notRndc(this.#endpoint, undefined));
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
