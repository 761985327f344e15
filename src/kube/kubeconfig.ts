/**
 * Where the API server is and how to authenticate to it, read from a kubeconfig file or
 * from the in-cluster service account, without @kubernetes/client-node: importing that
 * client costs ~80 MB RSS and ~0.8 s, most of a controller's budget (issue #9).
 *
 * Users that need a plugin (`exec`, `auth-provider`) are the exception: the target then
 * says `auth.kind === 'plugin'`, and `createAuthenticator` loads the full client lazily,
 * only for them.
 *
 * Secrets (tokens, passwords, private keys) are held in `Sensitive` wrappers, so they
 * never appear in `JSON.stringify`, `inspect` or logs, and never in error messages: a
 * YAML error is reported by line and column only, because the parser's excerpt of the
 * source could quote a token.
 */
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { PermanentError } from '../errors.ts';

/** A secret value that renders as `[redacted]` everywhere except through `reveal()`. */
export class Sensitive<T = string> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  reveal(): T {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

/** The kubeconfig is unreadable, malformed, or names something it does not define. */
export class KubeconfigError extends PermanentError {
  override readonly name: string = 'KubeconfigError';
  constructor(message: string, detail: Record<string, string> = {}) {
    super('KUBECONFIG', message, { detail });
  }
}

export interface TlsMaterial {
  /** PEM of the CA bundle; the system roots when undefined. */
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Sensitive<Buffer>;
  /** kubeconfig `insecure-skip-tls-verify`. */
  readonly insecureSkipTlsVerify: boolean;
  /** kubeconfig `tls-server-name` (SNI and certificate name check). */
  readonly serverName?: string;
}

export type KubeAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: Sensitive }
  /** Re-read periodically: bound service-account tokens rotate (about hourly). */
  | { readonly kind: 'tokenFile'; readonly path: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: Sensitive }
  /** Needs @kubernetes/client-node (exec or auth-provider): see createAuthenticator. */
  | {
      readonly kind: 'plugin';
      readonly plugin: 'exec' | 'auth-provider';
      readonly kubeconfigPath: string;
      readonly context: string;
    };

export interface KubeTarget {
  /** `https://host:port` (maybe with a path prefix), no trailing slash. */
  readonly server: string;
  /** The context's namespace, the service account's, or `default`. */
  readonly namespace: string;
  readonly tls: TlsMaterial;
  readonly auth: KubeAuth;
  /** For messages: `kubeconfig <path> context <name>` or `in-cluster`. */
  readonly origin: string;
}

export interface LoadOptions {
  /** A kubeconfig file; wins over everything else. */
  readonly path?: string;
  /** A context other than `current-context`. */
  readonly context?: string;
  /** Use the service account even if a kubeconfig exists. */
  readonly inCluster?: boolean;
  /** Defaults to process.env (KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT). */
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to /var/run/secrets/kubernetes.io/serviceaccount. */
  readonly serviceAccountDir?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The default chain, as kubectl and client-go read it: an explicit file, else the first
 * file of $KUBECONFIG, else ~/.kube/config if it exists, else the in-cluster account.
 */
export async function loadKubeconfig(options: LoadOptions = {}): Promise<KubeTarget> {
  const env = options.env ?? process.env;
  if (options.path !== undefined) return loadKubeconfigFile(options.path, options.context);
  if (options.inCluster) return loadInCluster(env, options.serviceAccountDir);
  const fromEnv = env.KUBECONFIG?.split(':').find((p) => p !== '');
  if (fromEnv !== undefined) return loadKubeconfigFile(fromEnv, options.context);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (readable(home)) return loadKubeconfigFile(home, options.context);
  if (env.KUBERNETES_SERVICE_HOST) return loadInCluster(env, options.serviceAccountDir);
  throw new KubeconfigError(
    'no kubeconfig: set KUBECONFIG, create ~/.kube/config, or run in a pod',
  );
}

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

function readOrFail(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new KubeconfigError(`cannot read ${what} ${path}: ${String(code ?? 'error')}`, {
      path,
    });
  }
}

// ---------------------------------------------------------------------------------------
// In-cluster

/** The pod's service account, as rest.InClusterConfig reads it in client-go. */
export function loadInCluster(
  env: NodeJS.ProcessEnv = process.env,
  dir: string = SERVICE_ACCOUNT_DIR,
): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeconfigError(
      'not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set',
    );
  }
  const tokenPath = join(dir, 'token');
  readOrFail(tokenPath, 'service account token');
  const namespacePath = join(dir, 'namespace');
  const namespace = readable(namespacePath)
    ? readFileSync(namespacePath, 'utf8').trim()
    : 'default';
  // An IPv6 service address needs brackets in a URL (RFC 3986 §3.2.2).
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    namespace: namespace || 'default',
    tls: {
      ca: readOrFail(join(dir, 'ca.crt'), 'service account CA'),
      insecureSkipTlsVerify: false,
    },
    auth: { kind: 'tokenFile', path: tokenPath },
    origin: 'in-cluster',
  };
}

// ---------------------------------------------------------------------------------------
// Kubeconfig files

type Doc = Record<string, unknown>;

/** Reads one kubeconfig file; relative paths inside it resolve against its directory. */
export async function loadKubeconfigFile(path: string, context?: string): Promise<KubeTarget> {
  const absolute = resolve(path);
  const text = readOrFail(absolute, 'kubeconfig').toString('utf8');
  return parseKubeconfig(text, absolute, context);
}

/** Parses kubeconfig text; `path` names the file (messages, relative paths, plugins). */
export async function parseKubeconfig(
  text: string,
  path: string,
  contextName?: string,
): Promise<KubeTarget> {
  const doc = await parseDocumentText(text, path);
  const name = contextName ?? stringField(doc, 'current-context');
  if (!name) throw new KubeconfigError(`${path} has no current-context`, { path });
  const origin = `kubeconfig ${path} context ${name}`;
  const context = namedEntry(doc, 'contexts', 'context', name, path);
  const clusterName = stringField(context, 'cluster');
  const userName = stringField(context, 'user');
  if (!clusterName) throw new KubeconfigError(`${origin} names no cluster`, { path });
  const cluster = namedEntry(doc, 'clusters', 'cluster', clusterName, path);
  const user = userName ? namedEntry(doc, 'users', 'user', userName, path) : {};
  const base = dirname(path);
  const server = stringField(cluster, 'server');
  if (!server) throw new KubeconfigError(`${origin}: cluster ${clusterName} has no server`);
  return {
    server: server.replace(/\/+$/, ''),
    namespace: stringField(context, 'namespace') || 'default',
    tls: tlsOf(cluster, user, base, origin),
    auth: authOf(user, base, { kubeconfigPath: path, context: name }),
    origin,
  };
}

/**
 * JSON is YAML, and cheap to parse: only a file that is not JSON loads the YAML parser
 * (~15 MB RSS; the in-cluster path never needs it).
 */
async function parseDocumentText(text: string, path: string): Promise<Doc> {
  if (/^\s*\{/.test(text)) {
    try {
      const value: unknown = JSON.parse(text);
      if (isDoc(value)) return value;
    } catch {
      // Flow-style YAML can start with '{' too: let the YAML parser judge it.
    }
  }
  const { parseDocument } = await import('yaml');
  const parsed = parseDocument(text);
  const first = parsed.errors[0];
  if (first !== undefined) {
    // Position and code only: the parser's message quotes the source, which may hold a token.
    const at = first.linePos?.[0];
    const where = at ? `line ${at.line} column ${at.col}` : 'unknown position';
    throw new KubeconfigError(`${path} is not valid YAML (${first.code} at ${where})`, { path });
  }
  const value: unknown = parsed.toJS();
  if (!isDoc(value)) throw new KubeconfigError(`${path} is not a kubeconfig mapping`, { path });
  return value;
}

function isDoc(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(doc: Doc, key: string): string | undefined {
  const value = doc[key];
  return typeof value === 'string' ? value : undefined;
}

/** `contexts[name=..].context` and the like; an entry without its body counts as empty. */
function namedEntry(doc: Doc, list: string, field: string, name: string, path: string): Doc {
  const entries = doc[list];
  const entry = Array.isArray(entries)
    ? entries.find((e: unknown) => isDoc(e) && e.name === name)
    : undefined;
  if (!isDoc(entry)) {
    throw new KubeconfigError(`${path} has no ${field} named ${name}`, { path, [field]: name });
  }
  const body = entry[field];
  return isDoc(body) ? body : {};
}

/** `<key>-data` (base64) wins over `<key>` (a file), as in client-go. */
function material(doc: Doc, key: string, base: string, origin: string): Buffer | undefined {
  const data = stringField(doc, `${key}-data`);
  if (data) return Buffer.from(data, 'base64');
  const file = stringField(doc, key);
  if (!file) return undefined;
  const absolute = isAbsolute(file) ? file : join(base, file);
  return readOrFail(absolute, `${key} of ${origin}:`);
}

function tlsOf(cluster: Doc, user: Doc, base: string, origin: string): TlsMaterial {
  const key = material(user, 'client-key', base, origin);
  const serverName = stringField(cluster, 'tls-server-name');
  return {
    ca: material(cluster, 'certificate-authority', base, origin),
    cert: material(user, 'client-certificate', base, origin),
    ...(key ? { key: new Sensitive(key) } : {}),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    ...(serverName ? { serverName } : {}),
  };
}

function authOf(
  user: Doc,
  base: string,
  where: { kubeconfigPath: string; context: string },
): KubeAuth {
  if (isDoc(user.exec)) return { kind: 'plugin', plugin: 'exec', ...where } as const;
  if (isDoc(user['auth-provider'])) {
    return { kind: 'plugin', plugin: 'auth-provider', ...where } as const;
  }
  // client-go prefers the file when both are given: it is the one that gets rotated.
  const tokenFile = stringField(user, 'tokenFile');
  if (tokenFile) {
    return {
      kind: 'tokenFile',
      path: isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile),
    };
  }
  const token = stringField(user, 'token');
  if (token) return { kind: 'token', token: new Sensitive(token) } as const;
  const username = stringField(user, 'username');
  if (username) {
    const password = new Sensitive(stringField(user, 'password') ?? '');
    return { kind: 'basic', username, password } as const;
  }
  return { kind: 'none' } as const;
}

// ---------------------------------------------------------------------------------------
// Authenticating requests

/** Adds one request's credentials (headers, and TLS material for plugins). */
export interface Authenticator {
  apply(options: RequestOptions): Promise<void>;
}

export interface AuthenticatorOptions {
  /** Milliseconds; for the token file's re-read period. Default Date.now. */
  readonly now?: () => number;
  /** How long a token read from a file is used before reading it again. Default 60 s. */
  readonly tokenFileTtlMs?: number;
}

/**
 * The authenticator for a target. Only a plugin user imports @kubernetes/client-node,
 * and only here, on first need.
 */
export async function createAuthenticator(
  target: KubeTarget,
  options: AuthenticatorOptions = {},
): Promise<Authenticator> {
  const auth = target.auth;
  switch (auth.kind) {
    case 'none':
      return { apply: async () => {} };
    case 'token':
      return bearer(async () => auth.token.reveal());
    case 'basic':
      return {
        apply: async (o) => {
          const pair = `${auth.username}:${auth.password.reveal()}`;
          setHeader(o, 'Authorization', `Basic ${Buffer.from(pair).toString('base64')}`);
        },
      };
    case 'tokenFile':
      return bearer(tokenFileReader(auth.path, options));
    case 'plugin':
      return pluginAuthenticator(auth.kubeconfigPath, auth.context);
  }
}

function setHeader(options: RequestOptions, name: string, value: string): void {
  options.headers = { ...(options.headers as Record<string, string> | undefined), [name]: value };
}

function bearer(token: () => Promise<string>): Authenticator {
  return {
    apply: async (o) => setHeader(o, 'Authorization', `Bearer ${await token()}`),
  };
}

/** Reads the token file at most once per TTL; kubelet rewrites it before it expires. */
export function tokenFileReader(path: string, options: AuthenticatorOptions = {}) {
  const now = options.now ?? Date.now;
  const ttl = options.tokenFileTtlMs ?? 60_000;
  let cached: { token: string; at: number } | undefined;
  return async (): Promise<string> => {
    if (cached === undefined || now() - cached.at >= ttl) {
      const token = readOrFail(path, 'token file').toString('utf8').trim();
      if (!token) throw new KubeconfigError(`token file ${path} is empty`, { path });
      cached = { token, at: now() };
    }
    return cached.token;
  };
}

/**
 * exec and auth-provider users: the full client runs the plugin and caches its
 * credentials. Its `applyToHTTPSOptions` also sets a fresh `agent` each call; the caller
 * replaces it with its own keep-alive agent (TLS options on the request still apply).
 */
async function pluginAuthenticator(path: string, context: string): Promise<Authenticator> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  kc.setCurrentContext(context);
  return { apply: (o) => kc.applyToHTTPSOptions(o) };
}
