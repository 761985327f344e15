/**
 * Watches and paged lists on KubeRest.
 *
 * A watch response is a stream of JSON objects, one per line (`{"type":..,"object":..}\n`),
 * cut into chunks wherever TCP and chunked encoding please: a chunk may end inside an
 * object, or inside a multi-byte UTF-8 character. Lines are therefore split on the byte
 * 0x0A (it never occurs inside a multi-byte UTF-8 sequence) and decoded only once whole.
 *
 * The stream ends when the server's `timeoutSeconds` runs out: the caller resumes from the
 * last resourceVersion it saw. A resourceVersion too old for the server's watch cache ends
 * the watch with 410 Gone, as an HTTP status or as an `ERROR` event whose Status has code
 * 410; both are thrown as the same KubePermanentError (`isGone(error)`), and the informer
 * relists. Any other `ERROR` event is thrown as the error its code maps to, so the events
 * an iteration yields are only ever ADDED, MODIFIED, DELETED and BOOKMARK.
 */
import { DecodeError } from '../errors.ts';
import {
  errorForStatus,
  isKubeApiError,
  type KubeRest,
  type KubeStatus,
  KubeTransientError,
  type Query,
} from './rest.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T = unknown> {
  readonly type: WatchEventType;
  /** The object; for BOOKMARK only `metadata.resourceVersion` is meaningful. */
  readonly object: T;
}

/** Splits a byte stream into lines on 0x0A and parses each as JSON. */
export class NdjsonSplitter {
  readonly #maxLineBytes: number;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxLineBytes = 16 * 1024 * 1024) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** The values completed by this chunk, in order. */
  push(chunk: Uint8Array): unknown[] {
    const values: unknown[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      // A line wholly inside this chunk is decoded where it lies: no copy (issue #16).
      const line = chunk.subarray(start, nl);
      let value: unknown;
      if (this.#pending.length === 0) {
        this.#checkLength(line.length);
        value = this.#parse(line);
      } else {
        this.#append(line);
        value = this.#takeLine();
      }
      if (value !== undefined) values.push(value);
      start = nl + 1;
    }
    this.#append(chunk.subarray(start));
    return values;
  }

  /** The last value when the stream ends without a final newline. */
  end(): unknown[] {
    const value = this.#takeLine();
    return value === undefined ? [] : [value];
  }

  #checkLength(bytes: number): void {
    if (bytes > this.#maxLineBytes) {
      throw new DecodeError(`watch line longer than ${this.#maxLineBytes} bytes`);
    }
  }

  #append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#pendingBytes += bytes.length;
    this.#checkLength(this.#pendingBytes);
    // Copy: the caller may reuse the chunk's memory.
    this.#pending.push(Buffer.from(bytes));
  }

  #takeLine(): unknown {
    const line = Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    return this.#parse(line);
  }

  #parse(line: Uint8Array): unknown {
    let text: string;
    try {
      text = this.#decoder.decode(line).trim();
    } catch (error) {
      throw new DecodeError('watch line is not UTF-8', { cause: error });
    }
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new DecodeError('watch line is not JSON', { cause: error });
    }
  }
}

export interface WatchOptions {
  /** Resume after this version (from a list or the last event); omit for "from now". */
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
  /**
   * Server-side end of the watch. Default: random in [300, 600) s, as client-go's
   * reflector does, so many watches do not all restart at once.
   */
  readonly timeoutSeconds?: number;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Streaming list (KEP-3157, on by default since 1.32): the server first sends every
   * existing object as ADDED, then a BOOKMARK annotated `k8s.io/initial-events-end`, so no
   * separate list (and no whole list in memory) is needed. Implies bookmarks.
   */
  readonly sendInitialEvents?: boolean;
  /** Ends the iteration quietly (no error) when aborted. */
  readonly signal?: AbortSignal;
  /** Called once the server has accepted the watch (2xx headers), before any event. */
  readonly onOpen?: () => void;
}

/** The annotation on the BOOKMARK that ends a streaming list's initial events. */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

const EVENT_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

function toEvent<T>(value: unknown, action: string): WatchEvent<T> {
  const v = value as { type?: unknown; object?: unknown } | null;
  if (typeof v !== 'object' || v === null || typeof v.type !== 'string') {
    throw new DecodeError(`${action}: watch event without a type`);
  }
  if (!EVENT_TYPES.has(v.type)) throw new DecodeError(`${action}: unknown event type ${v.type}`);
  if (v.type === 'ERROR') {
    const status = (v.object ?? {}) as KubeStatus;
    throw errorForStatus(action, typeof status.code === 'number' ? status.code : 500, status);
  }
  return { type: v.type as WatchEventType, object: v.object as T };
}

function watchQuery(options: WatchOptions): Query {
  const timeoutSeconds = options.timeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
  return {
    watch: 1,
    resourceVersion: options.resourceVersion,
    allowWatchBookmarks: options.sendInitialEvents ? true : options.allowWatchBookmarks,
    sendInitialEvents: options.sendInitialEvents,
    resourceVersionMatch: options.sendInitialEvents ? 'NotOlderThan' : undefined,
    timeoutSeconds,
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
  };
}

/**
 * Watches a collection path (`/apis/g/v/namespaces/ns/plural`). The iteration ends when
 * the server closes the stream or `signal` aborts; it throws a typed error on a failure,
 * an `ERROR` event or undecodable bytes. Breaking out of the loop closes the connection.
 */
export async function* watch<T = unknown>(
  rest: KubeRest,
  path: string,
  options: WatchOptions = {},
): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const action = `WATCH ${path}`;
  const query = watchQuery(options);
  // The client's deadline backs up the server's, for connections that die silently.
  const timeoutMs = (Number(query.timeoutSeconds) + 30) * 1000;
  const signal = options.signal;
  const res = await rest
    .open('GET', path, { query, timeoutMs, ...(signal ? { signal } : {}) })
    .catch((error: unknown) => {
      if (signal?.aborted) return undefined;
      throw error;
    });
  if (res === undefined) return;
  options.onOpen?.();
  const splitter = new NdjsonSplitter();
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      for (const value of splitter.push(chunk)) {
        // One chunk can hold several events: none is delivered after an abort.
        if (signal?.aborted) return;
        yield toEvent<T>(value, action);
      }
    }
    for (const value of splitter.end()) yield toEvent<T>(value, action);
  } catch (error) {
    if (signal?.aborted) return;
    if (isKubeApiError(error) || error instanceof DecodeError) throw error;
    throw new KubeTransientError('WATCH_BROKEN', `${action}: stream broke`, { cause: error });
  } finally {
    res.destroy();
  }
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Page size. Default 500, as client-go's pager. */
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

interface ListPage<T> {
  readonly items?: T[];
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
}

/**
 * Every item of a collection, following `continue` tokens, and the list's
 * resourceVersion (that of the first page: later pages are served from the same
 * snapshot). An expired token (410) is thrown as is: the caller lists again.
 */
export async function listAll<T = unknown>(
  rest: KubeRest,
  path: string,
  options: ListOptions = {},
): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let token: string | undefined;
  // Bounded: a server that kept handing out tokens would otherwise never let go.
  for (let page = 0; page < 100_000; page++) {
    const query = {
      limit: options.limit ?? 500,
      continue: token,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    };
    const signal = options.signal;
    const list = await rest.request<ListPage<T>>('GET', path, {
      query,
      ...(signal ? { signal } : {}),
    });
    items.push(...(list.items ?? []));
    resourceVersion ??= list.metadata?.resourceVersion;
    token = list.metadata?.continue || undefined;
    if (token === undefined) return { items, resourceVersion: resourceVersion ?? '' };
  }
  throw new DecodeError(`LIST ${path}: too many pages`);
}
