/**
 * An rndc client in Node: what the `rndc` binary does (BIND `bin/rndc/rndc.c`), without it.
 *
 * Per connection: a first signed message of type `null` fetches the server's nonce (named
 * executes nothing for it); every later message echoes that nonce in `_ctrl._nonce`. One
 * connection carries any number of commands, one at a time. Every reply's HMAC is checked
 * before anything in it is believed.
 *
 * Errors: refused / unreachable / timed out → TransientError. named closing the channel
 * in answer to our first message means it refused our signature, our clock or our key
 * → PermanentError `RNDC_AUTH`, unless the port turns out to speak TLS or HTTP, or sends
 * no ISCCC frame (`RNDC_SPEAKS_TLS`, `RNDC_SPEAKS_HTTP`, `RNDC_NOT_RNDC`: the wrong port). A reply with a wrong HMAC → PermanentError
 * `RNDC_REPLY_AUTH`. A command that named ran and failed → a Permanent/TransientError with
 * named's own text (`RNDC_NOT_FOUND`, `RNDC_ALREADY_EXISTS`, ...).
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import {
  ControllerError,
  DecodeError,
  PermanentError,
  TransientError,
  ValidationError,
} from '../../errors.ts';
import type { SecretKey } from '../keyfile.ts';
import type { DnsEndpoint } from '../update-request.ts';
import {
  type CcTable,
  decodeMessage,
  encodeMessage,
  tableOf,
  textOf,
  textTable,
  verifyMessage,
} from './codec.ts';
import { ConnectionClosedError, FrameConnection, NotRndcError, notRndc } from './connection.ts';
import { parseStatus, parseZoneStatus, type ServerStatus, type ZoneStatus } from './results.ts';

export interface RndcClientOptions {
  readonly endpoint: DnsEndpoint;
  readonly key: SecretKey;
  /** Bound on each reply. Default 10 s. */
  readonly timeoutMs?: number;
  /** Bound on connecting; default 3 s (at most `timeoutMs`): a dead server fails fast. */
  readonly connectTimeoutMs?: number;
  /** Milliseconds since the epoch; `_tim` must be within 300 s of named's clock. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** What named answered to one command. */
export interface RndcReply {
  /** ISC result code (0 = success). */
  readonly result: number;
  /** named's name for the result (`not found`, `already exists`), when it failed. */
  readonly err: string | undefined;
  /** The command's output text (may be empty). */
  readonly text: string;
}

/** named reads control messages of at most 32 KiB (PROTOCOLS.md). */
const MAX_REQUEST = 32 * 1024;

/**
 * named's results that are worth retrying unchanged. `file not found` is among them: a
 * base file delivered through a ConfigMap reaches named's mount only after the kubelet's
 * next sync, so `addzone` can run before the file is there.
 */
const TRANSIENT_RESULTS = new Set([
  'shutting down',
  'timed out',
  'quota reached',
  'out of memory',
  'file not found',
]);

/** Zone and view arguments of the typed commands: a strict domain-name shape. */
const ZONE_ARG =
  /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63})*\.?$/;

export interface DelzoneOptions {
  /** `-clean`: named also removes the zone's files (addzone'd zones only). */
  readonly clean?: boolean;
}

export class RndcClient {
  readonly #options: RndcClientOptions;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #conn: FrameConnection | undefined;
  #nonce: string | undefined;
  #serial = randomInt(1, 2 ** 30);
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: RndcClientOptions) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get endpoint(): DnsEndpoint {
    return this.#options.endpoint;
  }

  /**
   * Runs one command line (words joined by spaces, as `rndc` sends it) and returns named's
   * answer; a non-zero result is thrown (code `RNDC_` + named's result text, e.g.
   * `RNDC_NOT_FOUND`; `detail` has `command`, `result`, `err`, `text`).
   */
  command(line: string): Promise<RndcReply> {
    const run = this.#queue.then(
      () => this.#run(line),
      () => this.#run(line),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Closes the connection; the next command opens a new one. */
  close(): void {
    this.#conn?.close();
    this.#conn = undefined;
    this.#nonce = undefined;
  }

  // ------------------------------------------------------------ typed commands

  async status(): Promise<ServerStatus> {
    return parseStatus((await this.command('status')).text);
  }

  async zonestatus(zone: string): Promise<ZoneStatus> {
    return parseZoneStatus((await this.command(`zonestatus ${zoneArg(zone)}`)).text);
  }

  /** The zone's configuration as named prints it: `zone "x" { ... };`. */
  async showzone(zone: string): Promise<string> {
    return (await this.command(`showzone ${zoneArg(zone)}`)).text;
  }

  /** `config` is the zone body `{ ... };`, built by the caller from validated values. */
  async addzone(zone: string, config: string): Promise<RndcReply> {
    return this.command(`addzone ${zoneArg(zone)} in _default ${config}`);
  }

  async modzone(zone: string, config: string): Promise<RndcReply> {
    return this.command(`modzone ${zoneArg(zone)} in _default ${config}`);
  }

  async delzone(zone: string, options: DelzoneOptions = {}): Promise<RndcReply> {
    return this.command(`delzone ${options.clean ? '-clean ' : ''}${zoneArg(zone)}`);
  }

  async reload(zone?: string): Promise<RndcReply> {
    return this.command(zone === undefined ? 'reload' : `reload ${zoneArg(zone)}`);
  }

  /** Writes journals into zone files (`-clean` also removes the journals). */
  async sync(zone?: string, options: { clean?: boolean } = {}): Promise<RndcReply> {
    const clean = options.clean ? '-clean ' : '';
    return this.command(
      zone === undefined ? `sync ${clean}`.trim() : `sync ${clean}${zoneArg(zone)}`,
    );
  }

  async notify(zone: string): Promise<RndcReply> {
    return this.command(`notify ${zoneArg(zone)}`);
  }

  async retransfer(zone: string): Promise<RndcReply> {
    return this.command(`retransfer ${zoneArg(zone)}`);
  }

  // ------------------------------------------------------------ protocol

  async #run(line: string): Promise<RndcReply> {
    const verb = line.split(' ', 1)[0] ?? '';
    const reused = this.#conn !== undefined && !this.#conn.closed;
    let reply: RndcReply;
    try {
      reply = await this.#exchange(await this.#connection(), line);
    } catch (error) {
      // A kept-open connection that named closed (idle, or just as we wrote) fails without
      // a reply; named did not answer, so try once on a fresh connection, like an HTTP
      // client with keep-alive. Callers treat 'already exists'/'not found' as done.
      if (!(reused && connectionLost(error))) throw error;
      this.close();
      reply = await this.#exchange(await this.#connection(), line);
    }
    this.#options.logger?.debug({ verb, result: reply.result }, 'rndc command answered');
    if (reply.result !== 0) throw commandError(verb, reply);
    return { result: reply.result, err: reply.err, text: reply.text };
  }

  /** An open, handshaken connection: reused while named keeps it open. */
  async #connection(): Promise<FrameConnection> {
    if (this.#conn !== undefined && !this.#conn.closed && this.#nonce !== undefined) {
      return this.#conn;
    }
    this.close();
    const connectMs = Math.min(this.#options.connectTimeoutMs ?? 3_000, this.#timeoutMs);
    const conn = await FrameConnection.open(this.#options.endpoint, connectMs);
    try {
      const hello = await this.#exchange(conn, 'null');
      this.#nonce = hello.nonce;
    } catch (error) {
      conn.close();
      throw await helloError(error, this.#options, this.#timeoutMs);
    }
    this.#conn = conn;
    return conn;
  }

  async #exchange(conn: FrameConnection, type: string): Promise<RndcReply & { nonce?: string }> {
    const serial = String(this.#serial++);
    const frame = encodeMessage(this.#request(serial, type), this.#options.key);
    if (frame.length > MAX_REQUEST) {
      // named drops larger messages by closing the channel; say why instead.
      throw new ValidationError('command', `rndc command of ${frame.length} bytes exceeds 32 KiB`);
    }
    const reply = await conn.exchange(frame, this.#timeoutMs);
    try {
      return this.#accept(reply, serial);
    } catch (error) {
      // After a reply we cannot trust, the stream is in an unknown state: start afresh.
      conn.close();
      throw error;
    }
  }

  /** Decodes a reply, checks its HMAC first, then that it answers request `serial`. */
  #accept(frame: Buffer, serial: string): RndcReply & { nonce?: string } {
    const decoded = decodeMessage(frame);
    if (!verifyMessage(decoded, this.#options.key)) {
      throw new PermanentError(
        'RNDC_REPLY_AUTH',
        'rndc: the reply is not signed with our rndc key (tampered with, or not from named)',
      );
    }
    return readReply(decoded.table, serial);
  }

  #request(serial: string, type: string): CcTable {
    const tim = Math.floor(this.#now() / 1000);
    const ctrl: Record<string, string> = {
      _ser: serial,
      _tim: String(tim),
      _exp: String(tim + 60),
    };
    if (this.#nonce !== undefined) ctrl._nonce = this.#nonce;
    return new Map([
      ['_ctrl', textTable(ctrl)],
      ['_data', textTable({ type })],
    ]);
  }
}

function readReply(table: CcTable, serial: string): RndcReply & { nonce?: string } {
  const ctrl = tableOf(table, '_ctrl');
  const data = tableOf(table, '_data');
  if (ctrl === undefined || data === undefined || textOf(ctrl, '_ser') !== serial) {
    throw new PermanentError('RNDC_BAD_REPLY', 'rndc: reply does not answer our request');
  }
  const result = Number(textOf(data, 'result') ?? '0');
  const nonce = textOf(ctrl, '_nonce');
  return {
    result: Number.isInteger(result) ? result : -1,
    err: textOf(data, 'err'),
    text: textOf(data, 'text') ?? '',
    ...(nonce === undefined ? {} : { nonce }),
  };
}

function commandError(verb: string, reply: RndcReply): ControllerError {
  const err = reply.err ?? `result ${reply.result}`;
  const code = `RNDC_${err.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
  const message = `rndc ${verb} failed: ${err}${reply.text ? `: ${reply.text.trim()}` : ''}`;
  const options = { detail: { command: verb, result: reply.result, err, text: reply.text } };
  return TRANSIENT_RESULTS.has(err)
    ? new TransientError(code, message, options)
    : new PermanentError(code, message, options);
}

function connectionLost(error: unknown): boolean {
  return (
    error instanceof ConnectionClosedError ||
    (error instanceof TransientError && error.code === 'RNDC_UNREACHABLE')
  );
}

/**
 * Why the first message of a connection got no usable answer. named closes the channel
 * on a signature, clock or key it refuses, but so does a TLS server (the API server's port,
 * say) on bytes that are no handshake: a TLS handshake of our own tells the two apart, so
 * the operator is not sent to check a key when the port is wrong. A reply that is no
 * ISCCC frame at all means the port speaks something else.
 */
async function helloError(
  error: unknown,
  options: RndcClientOptions,
  timeoutMs: number,
): Promise<unknown> {
  if (error instanceof NotRndcError) return error;
  if (error instanceof DecodeError) return notRndc(options.endpoint, undefined);
  if (!(error instanceof ConnectionClosedError)) return error;
  const tls = await speaksTls(options.endpoint, Math.min(timeoutMs, 3_000));
  return tls ? notRndc(options.endpoint, 'TLS') : authRefused(options);
}

/** Whether a TLS handshake with the endpoint completes (its certificate is not judged). */
function speaksTls(endpoint: DnsEndpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: endpoint.address,
      port: endpoint.port,
      rejectUnauthorized: false,
      ...(isIP(endpoint.address) === 0 ? { servername: endpoint.address } : {}),
    });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function authRefused(options: RndcClientOptions): PermanentError {
  const { address, port } = options.endpoint;
  return new PermanentError(
    'RNDC_AUTH',
    `rndc: ${address}:${port} refused our control message: the rndc key "${options.key.name}" ` +
      `(${options.key.algorithm}) is not the one named expects, or the clocks differ by more than 5 minutes`,
    { detail: { key: options.key.name, algorithm: options.key.algorithm } },
  );
}

function zoneArg(zone: string): string {
  if (!ZONE_ARG.test(zone)) {
    throw new ValidationError(
      'zone',
      `rndc: refusing zone argument ${JSON.stringify(zone.slice(0, 80))}`,
    );
  }
  return zone;
}

/** True when `error` is named's answer `result` (e.g. 'not found') to a command. */
export function isRndcResult(error: unknown, err: string): boolean {
  return (
    error instanceof ControllerError &&
    error.code === `RNDC_${err.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`
  );
}
