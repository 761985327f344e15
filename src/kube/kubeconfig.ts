/**
 * Where the API server is and how to authenticate to it, read from a kubeconfig file or
 * from the in-cluster service account, without @kubernetes/client-node: importing that
 * client costs ~80 MB RSS and ~0.8 s, most of a controller's budget (issue #9).
 *
 * Users that need a plugin (`exec`, `auth-provider`) are the exception: the target then
 * says `auth.kind === 'plugin'`, and `createAuthenticator` loads the full client lazily,
 * only for them.
 *
 * Every key that changes who we are or where requests go is either honoured or refused by
 * name, never ignored: impersonation (`as`, `as-uid`, `as-groups`, `as-user-extra`) is sent
 * as the Impersonate-* headers; a `KUBECONFIG` list of files is merged as client-go merges
 * it; `proxy-url` is refused (we have no proxy transport), so the controller never talks to
 * the API server other than the way the file says, or as someone other than it says.
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
      readonly context: string;
      readonly contextFile: string;
      /** Where the context's user and cluster are defined (files of a KUBECONFIG list). */
      readonly user: { readonly name: string; readonly file: string };
      readonly cluster: { readonly name: string; readonly file: string };
    };

/** kubeconfig impersonation (`as` and friends): sent as Impersonate-* headers on every request. */
export interface Impersonation {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export interface KubeTarget {
  /** `https://host:port` (maybe with a path prefix), no trailing slash. */
  readonly server: string;
  /** Act as another user (the kubeconfig user's `as`); undefined: as ourselves. */
  readonly impersonate?: Impersonation;
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
 * The default chain, as kubectl and client-go read it: an explicit file, else the files
 * of $KUBECONFIG merged, else ~/.kube/config if it exists, else the in-cluster account.
 */
export async function loadKubeconfig(options: LoadOptions = {}): Promise<KubeTarget> {
  const env = options.env ?? process.env;
  if (options.path !== undefined) return loadKubeconfigFile(options.path, options.context);
  if (options.inCluster) return loadInCluster(env, options.serviceAccountDir);
  const fromEnv = (env.KUBECONFIG ?? '').split(':').filter((p) => p !== '');
  if (fromEnv.length > 0) return loadKubeconfigFiles(fromEnv, options.context);
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

/** One parsed kubeconfig file: relative paths in its entries resolve against its directory. */
interface SourceFile {
  readonly path: string;
  readonly doc: Doc;
}

/** Reads one kubeconfig file; relative paths inside it resolve against its directory. */
export async function loadKubeconfigFile(path: string, context?: string): Promise<KubeTarget> {
  const absolute = resolve(path);
  const text = readOrFail(absolute, 'kubeconfig').toString('utf8');
  return parseKubeconfig(text, absolute, context);
}

/**
 * A `KUBECONFIG` list, merged as client-go merges it: files that do not exist are skipped
 * (all missing is an error); the first file to set `current-context` wins, and the first
 * file to define a cluster, user or context of a given name wins that name.
 */
export async function loadKubeconfigFiles(
  paths: readonly string[],
  context?: string,
): Promise<KubeTarget> {
  const files: SourceFile[] = [];
  for (const path of paths.map((p) => resolve(p))) {
    if (!readable(path)) continue;
    const text = readOrFail(path, 'kubeconfig').toString('utf8');
    files.push({ path, doc: await parseDocumentText(text, path) });
  }
  if (files.length === 0) {
    throw new KubeconfigError(`none of the KUBECONFIG files exists: ${paths.join(', ')}`);
  }
  return targetOf(files, context);
}

/** Parses kubeconfig text; `path` names the file (messages, relative paths, plugins). */
export async function parseKubeconfig(
  text: string,
  path: string,
  contextName?: string,
): Promise<KubeTarget> {
  return targetOf([{ path, doc: await parseDocumentText(text, path) }], contextName);
}

function targetOf(files: readonly SourceFile[], contextName?: string): KubeTarget {
  const where = files.map((f) => f.path).join(':');
  const name =
    contextName ?? files.map((f) => stringField(f.doc, 'current-context')).find((c) => !!c);
  if (!name) throw new KubeconfigError(`${where} has no current-context`, { path: where });
  const origin = `kubeconfig ${where} context ${name}`;
  const context = namedEntry(files, 'contexts', 'context', name);
  const clusterName = stringField(context.body, 'cluster');
  const userName = stringField(context.body, 'user');
  if (!clusterName) throw new KubeconfigError(`${origin} names no cluster`, { path: where });
  const cluster = namedEntry(files, 'clusters', 'cluster', clusterName);
  const user = userName
    ? namedEntry(files, 'users', 'user', userName)
    : { body: {}, path: context.path };
  const server = stringField(cluster.body, 'server');
  if (!server) throw new KubeconfigError(`${origin}: cluster ${clusterName} has no server`);
  refuseProxy(cluster.body, clusterName, origin);
  const impersonate = impersonationOf(user.body, userName ?? '', origin);
  return {
    server: server.replace(/\/+$/, ''),
    namespace: stringField(context.body, 'namespace') || 'default',
    tls: tlsOf(cluster, user, origin),
    auth: authOf(user, {
      context: name,
      contextFile: context.path,
      user: { name: userName ?? '', file: user.path },
      cluster: { name: clusterName, file: cluster.path },
    }),
    ...(impersonate === undefined ? {} : { impersonate }),
    origin,
  };
}

/**
 * `proxy-url` would send every request through a proxy; our transport has none, and going
 * around the proxy the user configured is a surprise, so the file is refused.
 */
function refuseProxy(cluster: Doc, name: string, origin: string): void {
  if (cluster['proxy-url'] === undefined) return;
  throw new KubeconfigError(
    `${origin}: cluster ${name} sets proxy-url, which bind9-controller does not support; connect without a proxy (remove proxy-url) or run the controller where it reaches the API server directly`,
    { key: 'proxy-url' },
  );
}

/** `as`, `as-uid`, `as-groups`, `as-user-extra` of a kubeconfig user, validated. */
function impersonationOf(user: Doc, userName: string, origin: string): Impersonation | undefined {
  const fail = (key: string, why: string) => {
    throw new KubeconfigError(`${origin}: user ${userName}: ${key} ${why}`, { key });
  };
  const as = user.as;
  const uid = user['as-uid'];
  const groups = user['as-groups'];
  const extra = user['as-user-extra'];
  if (as !== undefined && (typeof as !== 'string' || as === '')) fail('as', 'must be a user name');
  if (uid !== undefined && typeof uid !== 'string') fail('as-uid', 'must be a string');
  if (groups !== undefined && !isStringList(groups)) fail('as-groups', 'must be a list of names');
  const extraOk =
    extra === undefined ||
    (isDoc(extra) && Object.values(extra).every((v) => isStringList(v) || typeof v === 'string'));
  if (!extraOk) fail('as-user-extra', 'must map keys to lists of strings');
  if (as === undefined) {
    // client-go refuses these without a user to impersonate; so do we, rather than ignore them.
    for (const [key, value] of [
      ['as-uid', uid],
      ['as-groups', groups],
      ['as-user-extra', extra],
    ]) {
      if (value !== undefined) fail(key as string, 'needs as (the user to impersonate)');
    }
    return undefined;
  }
  return {
    user: as as string,
    ...(typeof uid === 'string' && uid !== '' ? { uid } : {}),
    groups: (groups as string[] | undefined) ?? [],
    extra: Object.fromEntries(
      Object.entries((extra as Doc | undefined) ?? {}).map(([k, v]) => [
        k,
        ([] as string[]).concat(v as string),
      ]),
    ),
  };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
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

/** An entry's body and the file it came from (its relative paths resolve there). */
interface Entry {
  readonly body: Doc;
  readonly path: string;
}

/**
 * `contexts[name=..].context` and the like, from the first file that defines the name; an
 * entry without its body counts as empty.
 */
function namedEntry(
  files: readonly SourceFile[],
  list: string,
  field: string,
  name: string,
): Entry {
  for (const { doc, path } of files) {
    const entries = doc[list];
    const entry = Array.isArray(entries)
      ? entries.find((e: unknown) => isDoc(e) && e.name === name)
      : undefined;
    if (isDoc(entry)) return { body: isDoc(entry[field]) ? (entry[field] as Doc) : {}, path };
  }
  const where = files.map((f) => f.path).join(':');
  throw new KubeconfigError(`${where} has no ${field} named ${name}`, {
    path: where,
    [field]: name,
  });
}

/** `<key>-data` (base64) wins over `<key>` (a file), as in client-go. */
function material(entry: Entry, key: string, origin: string): Buffer | undefined {
  const data = stringField(entry.body, `${key}-data`);
  if (data) return Buffer.from(data, 'base64');
  const file = stringField(entry.body, key);
  if (!file) return undefined;
  const absolute = isAbsolute(file) ? file : join(dirname(entry.path), file);
  return readOrFail(absolute, `${key} of ${origin}:`);
}

function tlsOf(cluster: Entry, user: Entry, origin: string): TlsMaterial {
  const key = material(user, 'client-key', origin);
  const serverName = stringField(cluster.body, 'tls-server-name');
  return {
    ca: material(cluster, 'certificate-authority', origin),
    cert: material(user, 'client-certificate', origin),
    ...(key ? { key: new Sensitive(key) } : {}),
    insecureSkipTlsVerify: cluster.body['insecure-skip-tls-verify'] === true,
    ...(serverName ? { serverName } : {}),
  };
}

type PluginWhere = Omit<Extract<KubeAuth, { kind: 'plugin' }>, 'kind' | 'plugin'>;

function authOf(entry: Entry, where: PluginWhere): KubeAuth {
  const user = entry.body;
  const base = dirname(entry.path);
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
      return pluginAuthenticator(auth);
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
 * From a KUBECONFIG list it gets the user and cluster our merge chose, each read from the
 * file that defines it (client-node's own merge throws on names defined twice).
 */
async function pluginAuthenticator(where: PluginWhere): Promise<Authenticator> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const load = (file: string) => {
    const one = new KubeConfig();
    one.loadFromFile(file);
    return one;
  };
  const kc = load(where.user.file);
  const oneFile = where.cluster.file === where.user.file && where.contextFile === where.user.file;
  if (oneFile) {
    kc.setCurrentContext(where.context);
  } else {
    const user = kc.getUser(where.user.name);
    const cluster = load(where.cluster.file).getCluster(where.cluster.name);
    kc.loadFromOptions({
      users: user === null ? [] : [user],
      clusters: cluster === null ? [] : [cluster],
      contexts: [{ name: where.context, user: where.user.name, cluster: where.cluster.name }],
      currentContext: where.context,
    });
  }
  return { apply: (o) => kc.applyToHTTPSOptions(o) };
}
