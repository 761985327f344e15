/**
 * Controller configuration from flags, then environment, then defaults; validated once
 * (STYLE.md habit 10). Durations are written `300ms`, `30s`, `5m`, `1h` or as milliseconds.
 */
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../errors.ts';
import { parseSources, type SourceKind } from '../sources/kinds.ts';

export interface ControllerConfig {
  /** Path of a kubeconfig; undefined: in-cluster when `inCluster`, else the default chain. */
  readonly kubeconfig: string | undefined;
  readonly inCluster: boolean;
  /** Namespaces to watch; empty: all. */
  readonly namespaces: readonly string[];
  readonly resyncMs: number;
  readonly concurrency: number;
  /** `host:port` of /healthz, /readyz, /metrics; empty string: no server. */
  readonly metricsAddress: string;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string;
  /** Where the controller's own pods run: a Bind9Cluster's NetworkPolicy opens rndc to them. */
  readonly controllerNamespace: string;
  readonly leaderElectionId: string;
  readonly identity: string;
  /** How often each instance is polled for reachability and lost zones. */
  readonly healthPollMs: number;
  /** How long a deleted object waits for unreachable instances before its finalizer goes. */
  readonly deletionTimeoutMs: number;
  /** Directories below which `directory` delivery may write base files; none: it is off. */
  readonly zoneFileRoots: readonly string[];
  /** Kinds that record resources are generated from (src/sources); none: off. */
  readonly sources: readonly SourceKind[];
  /** Read external-dns's hostname/ttl/target annotations as well as ours. */
  readonly externalDnsAnnotations: boolean;
  readonly logLevel: string;
}

export const CONFIG_HELP = `Options (environment variable in brackets):
  --kubeconfig PATH                 kubeconfig file [KUBECONFIG]; default: in-cluster or ~/.kube/config
  --in-cluster                      use the pod's service account [BIND9_CONTROLLER_IN_CLUSTER=true]
  --namespace NS                    namespace to watch, repeatable or comma-separated; default all
                                    [BIND9_CONTROLLER_NAMESPACES]
  --resync DURATION                 periodic re-check of every zone (default 5m) [BIND9_CONTROLLER_RESYNC]
  --concurrency N                   zones reconciled at once (default 4) [BIND9_CONTROLLER_CONCURRENCY]
  --metrics-address HOST:PORT       /healthz, /readyz, /metrics (default 0.0.0.0:8080) [BIND9_CONTROLLER_METRICS_ADDRESS]
  --leader-elect                    take a Lease before working [BIND9_CONTROLLER_LEADER_ELECT=true]
  --leader-election-namespace NS    namespace of the Lease [POD_NAMESPACE]
  --leader-election-id NAME         name of the Lease (default bind9-controller)
  --health-poll DURATION            instance health poll period (default 3s)
  --deletion-timeout DURATION       give up on unreachable instances when deleting (default 2m)
  --zone-file-root DIR              directory delivery may write base files below DIR; repeatable or
                                    comma-separated; default none: directory delivery is off
                                    [BIND9_CONTROLLER_ZONE_FILE_ROOTS]
  --sources LIST                    generate records from these kinds: service, ingress, gateway
                                    (= gateway-httproute,gateway-grpcroute), gateway-tlsroute;
                                    repeatable or comma-separated; default none [BIND9_CONTROLLER_SOURCES]
  --external-dns-annotations        also read external-dns.alpha.kubernetes.io/hostname, /ttl, /target,
                                    /internal-hostname [BIND9_CONTROLLER_EXTERNAL_DNS_ANNOTATIONS=true]
  --log-level LEVEL                 pino level (default info) [LOG_LEVEL]`;

export function parseDuration(text: string, field: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new ValidationError(field, `not a duration: "${text}" (e.g. 30s, 5m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

function positiveInt(text: string, field: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new ValidationError(field, `must be a positive integer: "${text}"`);
  return n;
}

/** A repeatable, comma-separated flag, else its environment variable, else empty. */
function list(flag: readonly string[] | undefined, env: string | undefined): string[] {
  return (flag ?? (env ?? '').split(','))
    .flatMap((n) => n.split(','))
    .map((n) => n.trim())
    .filter((n) => n !== '');
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v);

export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): ControllerConfig {
  const { values } = parseArgs({
    args: [...argv],
    allowPositionals: false,
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      'in-cluster': { type: 'boolean' },
      namespace: { type: 'string', multiple: true },
      resync: { type: 'string' },
      concurrency: { type: 'string' },
      'metrics-address': { type: 'string' },
      'leader-elect': { type: 'boolean' },
      'leader-election-namespace': { type: 'string' },
      'leader-election-id': { type: 'string' },
      'health-poll': { type: 'string' },
      'deletion-timeout': { type: 'string' },
      'zone-file-root': { type: 'string', multiple: true },
      sources: { type: 'string', multiple: true },
      'external-dns-annotations': { type: 'boolean' },
      'log-level': { type: 'string' },
    },
  });
  const namespaces = list(values.namespace, env.BIND9_CONTROLLER_NAMESPACES);
  const zoneFileRoots = list(values['zone-file-root'], env.BIND9_CONTROLLER_ZONE_FILE_ROOTS);
  for (const root of zoneFileRoots) {
    if (!isAbsolute(root)) {
      throw new ValidationError('zone-file-root', `must be an absolute path: "${root}"`);
    }
  }
  return {
    kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
    inCluster: values['in-cluster'] ?? truthy(env.BIND9_CONTROLLER_IN_CLUSTER),
    namespaces,
    resyncMs: parseDuration(values.resync ?? env.BIND9_CONTROLLER_RESYNC ?? '5m', 'resync'),
    concurrency: positiveInt(
      values.concurrency ?? env.BIND9_CONTROLLER_CONCURRENCY ?? '4',
      'concurrency',
    ),
    metricsAddress:
      values['metrics-address'] ?? env.BIND9_CONTROLLER_METRICS_ADDRESS ?? '0.0.0.0:8080',
    leaderElect: values['leader-elect'] ?? truthy(env.BIND9_CONTROLLER_LEADER_ELECT),
    leaderElectionNamespace:
      values['leader-election-namespace'] ?? env.POD_NAMESPACE ?? 'bind9-controller-system',
    controllerNamespace: env.POD_NAMESPACE ?? 'bind9-controller-system',
    leaderElectionId: values['leader-election-id'] ?? 'bind9-controller',
    identity: env.POD_NAME ?? `${hostname()}-${process.pid}`,
    healthPollMs: parseDuration(values['health-poll'] ?? '3s', 'health-poll'),
    deletionTimeoutMs: parseDuration(values['deletion-timeout'] ?? '2m', 'deletion-timeout'),
    zoneFileRoots,
    sources: parseSources(list(values.sources, env.BIND9_CONTROLLER_SOURCES)),
    externalDnsAnnotations:
      values['external-dns-annotations'] ?? truthy(env.BIND9_CONTROLLER_EXTERNAL_DNS_ANNOTATIONS),
    logLevel: values['log-level'] ?? env.LOG_LEVEL ?? 'info',
  };
}
