/**
 * A small Kubernetes REST client on node:https: JSON in and out, one keep-alive agent,
 * typed errors. It replaces @kubernetes/client-node in the controller's run path (that
 * client loads every generated model on import: ~80 MB RSS, ~0.8 s; issue #9).
 *
 * Errors are sorted where the status is seen (STYLE.md habit 8):
 * - no response, a timeout, 5xx, 408, 409 Conflict, 429: `KubeTransientError` (retry
 *   after a re-read; a 409 means our resourceVersion was stale);
 * - any other 4xx (404, 403, 422, 410 ...): `KubePermanentError`.
 * Both carry `status` (and `statusCode`, so the existing `httpStatus()`/`isNotFound()`
 * helpers of client.ts keep working), the Status `reason` and `message`, and for 429 the
 * server's `Retry-After` in seconds. Nothing here retries: backoff lives in src/controller.
 */
import type { IncomingMessage } from 'node:http';
import { Agent, type RequestOptions, request } from 'node:https';
import {
  type ControllerErrorOptions,
  DecodeError,
  PermanentError,
  TransientError,
} from '../errors.ts';
import { Http2Channel, type Http2Errors } from './http2.ts';
import {
  type Authenticator,
  createAuthenticator,
  type Impersonation,
  type KubeTarget,
  type LoadOptions,
  loadKubeconfig,
} from './kubeconfig.ts';

export type ContentType = 'json' | 'merge-patch' | 'json-patch' | 'apply-patch+yaml';

const MEDIA_TYPES: Record<ContentType, string> = {
  json: 'application/json',
  'merge-patch': 'application/merge-patch+json',
  'json-patch': 'application/json-patch+json',
  'apply-patch+yaml': 'application/apply-patch+yaml',
};

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RestRequestOptions {
  readonly query?: Query;
  /** Serialised as JSON (also for apply-patch+yaml: JSON is YAML). A string is sent as is. */
  readonly body?: unknown;
  /** Default `json`; for PATCH choose the patch type explicitly. */
  readonly contentType?: ContentType;
  readonly signal?: AbortSignal;
  /** Whole-request deadline. Default: the client's (30 s). */
  readonly timeoutMs?: number;
}

export interface KubeRestOptions {
  /** Default request deadline in milliseconds. Default 30 s. */
  readonly timeoutMs?: number;
  /** Largest response body accepted, in bytes. Default 64 MiB. */
  readonly maxResponseBytes?: number;
  readonly userAgent?: string;
  /** Most sockets kept to the API server. Default: unbounded (watches hold one each). */
  readonly maxSockets?: number;
  /**
   * Send `request()`s over one HTTP/2 connection (http2.ts), when the server offers it and
   * the user is not authenticated by a client-node plugin. Default true. Streaming
   * responses (`open`: watches) use HTTP/1.1 either way.
   */
  readonly http2?: boolean;
}

export interface KubeApiErrorInfo {
  /** HTTP status; undefined when no response came. */
  readonly status: number | undefined;
  /** Kubernetes Status `reason` (`NotFound`, `Conflict`, `AlreadyExists`, `Expired` ...). */
  readonly reason: string | undefined;
  /** Seconds the server asked us to wait (429 Retry-After), reported, never slept on. */
  readonly retryAfterSeconds: number | undefined;
}

interface KubeErrorFields extends ControllerErrorOptions {
  readonly status?: number;
  readonly reason?: string;
  readonly retryAfterSeconds?: number;
}

/** Worth retrying: the API server was unreachable, overloaded, or our read was stale. */
export class KubeTransientError extends TransientError implements KubeApiErrorInfo {
  override readonly name: string = 'KubeTransientError';
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: string, message: string, fields: KubeErrorFields = {}) {
    super(code, message, fields);
    this.status = fields.status;
    this.reason = fields.reason;
    this.retryAfterSeconds = fields.retryAfterSeconds;
  }
  get statusCode(): number | undefined {
    return this.status;
  }
}

/** The same request will fail the same way (forbidden, invalid, not found, gone). */
export class KubePermanentError extends PermanentError implements KubeApiErrorInfo {
  override readonly name: string = 'KubePermanentError';
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: string, message: string, fields: KubeErrorFields = {}) {
    super(code, message, fields);
    this.status = fields.status;
    this.reason = fields.reason;
    this.retryAfterSeconds = fields.retryAfterSeconds;
  }
  get statusCode(): number | undefined {
    return this.status;
  }
}

export type KubeApiError = KubeTransientError | KubePermanentError;

export function isKubeApiError(error: unknown): error is KubeApiError {
  return error instanceof KubeTransientError || error instanceof KubePermanentError;
}

/** The HTTP status of one of our errors (or a watch ERROR event's code). */
export function statusOf(error: unknown): number | undefined {
  return isKubeApiError(error) ? error.status : undefined;
}

export const isNotFound = (error: unknown): boolean => statusOf(error) === 404;
export const isConflict = (error: unknown): boolean => statusOf(error) === 409;
/** 410 Gone: a resourceVersion or continue token too old; the informer must relist. */
export const isGone = (error: unknown): boolean => statusOf(error) === 410;

/** A metav1.Status, as far as we read it. */
export interface KubeStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
}

/** Sorts an HTTP error status into our error types (see the module comment). */
export function errorForStatus(
  action: string,
  status: number,
  body: KubeStatus | undefined,
  retryAfterSeconds?: number,
): KubeApiError {
  const reason = body?.reason;
  const text = body?.message ? `: ${body.message}` : '';
  const message = `${action}: HTTP ${status}${reason ? ` ${reason}` : ''}${text}`;
  const fields = {
    status,
    ...(reason ? { reason } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    detail: { status, ...(reason ? { reason } : {}) },
  };
  const transient = status >= 500 || [408, 409, 429].includes(status) || status < 400;
  return transient
    ? new KubeTransientError(`HTTP_${status}`, message, fields)
    : new KubePermanentError(`HTTP_${status}`, message, fields);
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function parseStatus(text: string): KubeStatus | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as KubeStatus) : undefined;
  } catch {
    // Not JSON (a proxy's page, a panic): keep a short excerpt as the message.
    return text ? { message: text.slice(0, 200) } : undefined;
  }
}

export function encodeQuery(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * Reads a body up to `max` bytes, or fails with a typed error. With 'data' and 'end'
 * listeners: an async iterator over the response costs a promise and a few allocations
 * per chunk, for every one of the thousands of small responses of a burst (issue #16).
 */
export function readBody(res: IncomingMessage, max: number, action: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (error: unknown) => {
      res.off('data', onData);
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      const error = new KubePermanentError(
        'RESPONSE_TOO_LARGE',
        `${action}: response over ${max} bytes`,
      );
      res.destroy(error);
      fail(error);
    };
    res.on('data', onData);
    res.once('end', () =>
      resolve(
        chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
      ),
    );
    res.once('error', fail);
    // Destroyed without an error (the deadline ends the response with one; an abort too).
    res.once('close', () => {
      if (!res.complete)
        fail(new KubeTransientError('STREAM_ENDED', `${action}: response ended early`));
    });
  });
}

function networkError(action: string, error: unknown): KubeApiError {
  if (isKubeApiError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const why = typeof code === 'string' ? code : error instanceof Error ? error.message : 'error';
  return new KubeTransientError('KUBE_UNREACHABLE', `${action}: no response (${why})`, {
    cause: error,
  });
}

/** Where requests go: the server URL taken apart once, not parsed again for every request. */
interface Endpoint {
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string | undefined;
  /** The server URL's own path (a proxy's prefix), without the final slash. */
  readonly base: string;
}

/** A request's options, and its URL when the server could not be taken apart. */
interface Where {
  readonly url?: string;
  readonly options: RequestOptions;
}

function endpointOf(server: string): Endpoint | undefined {
  try {
    const url = new URL(server);
    return {
      protocol: url.protocol,
      // An IPv6 literal keeps its brackets in a URL, not in a socket address.
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? undefined : url.port,
      base: url.pathname.replace(/\/$/, ''),
    };
  } catch {
    // Not a URL: every request fails as node:https reports it.
    return undefined;
  }
}

export class KubeRest {
  readonly target: KubeTarget;
  readonly #auth: Authenticator;
  readonly #agent: Agent;
  readonly #endpoint: Endpoint | undefined;
  readonly #http2: Http2Channel | undefined;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #userAgent: string;

  constructor(target: KubeTarget, auth: Authenticator, options: KubeRestOptions = {}) {
    this.target = target;
    this.#auth = auth;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.#userAgent = options.userAgent ?? 'bind9-controller';
    const { tls } = target;
    this.#endpoint = endpointOf(target.server);
    this.#http2 = http2ChannelFor(target, this.#endpoint, options);
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets ?? Number.POSITIVE_INFINITY,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key.reveal() } : {}),
      ...(tls.serverName ? { servername: tls.serverName } : {}),
      rejectUnauthorized: !tls.insecureSkipTlsVerify,
    });
  }

  /** A client for a kubeconfig or the in-cluster account (see loadKubeconfig). */
  static async connect(load: LoadOptions = {}, options: KubeRestOptions = {}): Promise<KubeRest> {
    const target = await loadKubeconfig(load);
    return new KubeRest(target, await createAuthenticator(target), options);
  }

  /** One request; resolves with the parsed JSON body (undefined when empty). */
  async request<T>(method: string, path: string, options: RestRequestOptions = {}): Promise<T> {
    const action = `${method} ${path}`;
    const text =
      (await this.#overHttp2(method, path, options, action)) ??
      (await this.#overHttp1(method, path, options, action));
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new DecodeError(`${action}: response is not JSON`, { cause: error });
    }
  }

  async #overHttp1(method: string, path: string, options: RestRequestOptions, action: string) {
    const res = await this.open(method, path, options);
    return readBody(res, this.#maxBytes, action).catch((e: unknown) => {
      throw networkError(action, e);
    });
  }

  /** The body of a 2xx answer over HTTP/2; undefined when the server has no HTTP/2. */
  async #overHttp2(
    method: string,
    path: string,
    options: RestRequestOptions,
    action: string,
  ): Promise<string | undefined> {
    if (this.#http2 === undefined || this.#http2.unsupported) return undefined;
    const { payload, headers } = this.#payload(options);
    const req: RequestOptions = { method, headers };
    await this.#auth.apply(req);
    const answer = await this.#http2.exchange(
      {
        method,
        path: `${this.#endpoint?.base ?? ''}${path}${encodeQuery(options.query)}`,
        headers: req.headers as Record<string, string | string[]>,
        ...(payload === undefined ? {} : { payload }),
        timeoutMs: options.timeoutMs ?? this.#timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        maxBytes: this.#maxBytes,
      },
      http2Errors(action, options.signal),
    );
    if (answer === undefined) return undefined;
    if (answer.status >= 200 && answer.status < 300) return answer.text;
    const retryAfter = answer.status === 429 ? parseRetryAfter(answer.retryAfter) : undefined;
    throw errorForStatus(action, answer.status, parseStatus(answer.text), retryAfter);
  }

  /**
   * Sends a request and resolves with the response once its status is 2xx (the body not
   * yet read: watches stream it); rejects with a typed error otherwise. The deadline
   * covers the whole exchange, body included; `timeoutMs: 0` disables it.
   */
  async open(method: string, path: string, options: RestRequestOptions = {}) {
    const action = `${method} ${path}`;
    const { payload, headers } = this.#payload(options);
    const req: RequestOptions = { method, headers };
    await this.#auth.apply(req);
    // A plugin authenticator sets an agent of its own per call; ours keeps connections.
    req.agent = this.#agent;
    const res = await this.#send(this.#where(path, options.query, req), payload, options, action);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const text = await readBody(res, 1024 * 1024, action).catch(() => '');
    const retryAfter = parseRetryAfter(res.headers['retry-after'] as string | undefined);
    throw errorForStatus(
      action,
      status,
      parseStatus(text),
      status === 429 ? retryAfter : undefined,
    );
  }

  /** The request's options with its address: the endpoint and the path, or a whole URL. */
  #where(path: string, query: Query | undefined, req: RequestOptions): Where {
    const full = `${path}${encodeQuery(query)}`;
    const at = this.#endpoint;
    if (at === undefined) return { url: `${this.target.server}${full}`, options: req };
    const port = at.port === undefined ? {} : { port: at.port };
    const address = { protocol: at.protocol, hostname: at.hostname, ...port };
    return { options: { ...address, ...req, path: at.base + full } };
  }

  #payload(options: RestRequestOptions) {
    const headers: Record<string, string | string[]> = {
      Accept: 'application/json',
      'User-Agent': this.#userAgent,
      ...impersonationHeaders(this.target.impersonate),
    };
    if (options.body === undefined) return { payload: undefined, headers };
    const payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] = MEDIA_TYPES[options.contentType ?? 'json'];
    headers['Content-Length'] = String(Buffer.byteLength(payload));
    return { payload, headers };
  }

  /**
   * The deadline is one plain timer, cleared as soon as the exchange ends (response closed
   * or request failed). `AbortSignal.timeout()` would keep a Timeout, an AbortSignal and
   * the WeakRefs of `AbortSignal.any()` alive for the whole deadline after the request
   * ended: ~16,000 of them (~4 MB) while 10,000 records converge (issue #9).
   */
  #send(
    where: Where,
    payload: string | undefined,
    options: RestRequestOptions,
    action: string,
  ): Promise<IncomingMessage> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const caller = options.signal;
    return new Promise((resolve, reject) => {
      if (caller?.aborted) return reject(abortedError(action, caller));
      let response: IncomingMessage | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const end = (error: KubeTransientError) => {
        response?.destroy(error);
        r.destroy(error);
      };
      const onAbort = () => end(abortedError(action, caller));
      const done = () => {
        clearTimeout(timer);
        caller?.removeEventListener('abort', onAbort);
      };
      const onResponse = (res: IncomingMessage) => {
        response = res;
        // The deadline keeps running while the body is read: it ends the response too.
        res.once('close', done);
        resolve(res);
      };
      const r =
        where.url === undefined
          ? request(where.options, onResponse)
          : request(where.url, where.options, onResponse);
      if (timeoutMs > 0) {
        timer = setTimeout(() => end(timeoutError(action, timeoutMs)), timeoutMs);
        // Like AbortSignal.timeout(): a pending deadline alone does not keep the process up.
        timer.unref();
      }
      caller?.addEventListener('abort', onAbort, { once: true });
      r.on('error', (error) => {
        done();
        reject(networkError(action, error));
      });
      r.once('close', () => {
        if (response === undefined) done();
      });
      r.end(payload);
    });
  }

  /** How `request()`s travel: HTTP/2 sessions opened so far, and whether the server refused it. */
  get http2(): { readonly sessions: number; readonly unsupported: boolean } | undefined {
    const channel = this.#http2;
    return channel && { sessions: channel.sessions, unsupported: channel.unsupported };
  }

  /** Closes idle keep-alive connections (open watches end when their signals abort). */
  close(): void {
    this.#http2?.close();
    this.#agent.destroy();
  }
}

/**
 * kubeconfig `as` and friends, as kubectl sends them: one Impersonate-Group header per
 * group, `Impersonate-Extra-<key>` (key percent-encoded, RFC 3986 unreserved kept) per
 * extra, each value a header of its own.
 */
export function impersonationHeaders(
  who: Impersonation | undefined,
): Record<string, string | string[]> {
  if (who === undefined) return {};
  const headers: Record<string, string | string[]> = { 'Impersonate-User': who.user };
  if (who.uid !== undefined) headers['Impersonate-Uid'] = who.uid;
  if (who.groups.length > 0) headers['Impersonate-Group'] = [...who.groups];
  for (const [key, values] of Object.entries(who.extra)) {
    if (values.length > 0) headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = [...values];
  }
  return headers;
}

/** The HTTP/2 channel of a client: for https servers, unless a plugin authenticates. */
function http2ChannelFor(
  target: KubeTarget,
  endpoint: Endpoint | undefined,
  options: KubeRestOptions,
): Http2Channel | undefined {
  // A client-node plugin may set TLS material per request: HTTP/1.1 with its options.
  if (options.http2 === false || target.auth.kind === 'plugin') return undefined;
  if (endpoint === undefined || endpoint.protocol !== 'https:') return undefined;
  const { tls } = target;
  const host = endpoint.hostname.includes(':') ? `[${endpoint.hostname}]` : endpoint.hostname;
  const origin = `https://${host}${endpoint.port === undefined ? '' : `:${endpoint.port}`}`;
  return new Http2Channel(origin, {
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key.reveal() } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
    rejectUnauthorized: !tls.insecureSkipTlsVerify,
  });
}

/** The errors of one request over HTTP/2, as the HTTP/1.1 path makes them. */
function http2Errors(action: string, caller: AbortSignal | undefined): Http2Errors {
  return {
    timeout: (ms) => timeoutError(action, ms),
    aborted: () => abortedError(action, caller),
    tooLarge: (max) =>
      new KubePermanentError('RESPONSE_TOO_LARGE', `${action}: response over ${max} bytes`),
    network: (cause) => networkError(action, cause),
  };
}

function abortedError(action: string, caller: AbortSignal | undefined) {
  return new KubeTransientError('ABORTED', `${action}: aborted`, { cause: caller?.reason });
}

function timeoutError(action: string, timeoutMs: number) {
  return new KubeTransientError('TIMEOUT', `${action}: timed out after ${timeoutMs} ms`);
}

// ---------------------------------------------------------------------------------------
// Paths

export interface ResourcePath {
  /** '' (or undefined) for the core group. */
  readonly group?: string;
  readonly version: string;
  readonly plural: string;
  readonly namespace?: string;
  readonly name?: string;
  /** `status`, `scale` ... */
  readonly subresource?: string;
}

/** `/api/v1/namespaces/ns/secrets/x` or `/apis/g/v/namespaces/ns/plural/x/status`. */
export function resourcePath(p: ResourcePath): string {
  const e = encodeURIComponent;
  const root = p.group ? `/apis/${e(p.group)}/${e(p.version)}` : `/api/${e(p.version)}`;
  const ns = p.namespace !== undefined ? `/namespaces/${e(p.namespace)}` : '';
  const name = p.name !== undefined ? `/${e(p.name)}` : '';
  const sub = p.subresource !== undefined && p.name !== undefined ? `/${e(p.subresource)}` : '';
  return `${root}${ns}/${e(p.plural)}${name}${sub}`;
}
