/**
 * What one source asks to publish: host names and what each points at (issue #15). Pure:
 * from the object, its annotations (annotations.ts) and, for routes, the Gateways they
 * attach to.
 *
 * - Service: the names of its hostname annotation → `status.loadBalancer.ingress` (type
 *   LoadBalancer) and `spec.externalIPs`; the names of its internal-hostname annotation →
 *   its cluster IPs (ClusterIP is published only when asked so).
 * - Ingress: the hosts of its rules, or the annotation's names → `status.loadBalancer.ingress`.
 * - HTTPRoute, GRPCRoute, TLSRoute: for each parent Gateway whose status accepted the route,
 *   the route's hostnames as the listeners they attach to allow (the intersection the
 *   Gateway API defines), or the annotation's names → the Gateway's `status.addresses`.
 * - The target annotation replaces the addresses in every case.
 *
 * Addresses become A/AAAA, a host name a CNAME (one target: the first, sorted; beside any
 * address it is left out, as a CNAME cannot share its name).
 */
import type { KubeObject } from '../kube/client.ts';
import {
  type Annotations,
  hasTargets,
  hostName,
  mergeTargets,
  type Problem,
  readAnnotations,
  type Targets,
  toTargets,
} from './annotations.ts';
import { ROUTE_KINDS, type SourceKind } from './kinds.ts';
import {
  gatewayFields,
  ingressHosts,
  loadBalancerIngress,
  type ParentRef,
  routeFields,
  sameParent,
  serviceFields,
} from './objects.ts';

export interface Endpoint {
  readonly hostname: string;
  readonly targets: Targets;
  readonly ttl?: number;
}

export interface Computed {
  /** Sorted by host name; each has at least one target. */
  readonly endpoints: readonly Endpoint[];
  readonly problems: readonly Problem[];
}

export interface GatewayView {
  gateway(namespace: string, name: string): KubeObject | undefined;
}

export interface EndpointOptions {
  /** Read external-dns's annotations too (`--external-dns-annotations`). */
  readonly externalDns: boolean;
  readonly gateways: GatewayView;
}

type Pair = readonly [hostname: string, targets: Targets];

const pairs = (names: readonly string[], targets: Targets): Pair[] =>
  names.map((n) => [n, targets] as const);

function serviceEndpoints(svc: KubeObject, a: Annotations): Pair[] {
  const f = serviceFields(svc);
  const balancer = f.type === 'LoadBalancer' ? loadBalancerIngress(svc) : [];
  const own = toTargets([...balancer, ...f.externalIPs]).targets;
  const internal = toTargets(f.clusterIPs).targets;
  return [...pairs(a.hostnames, a.target ?? own), ...pairs(a.internalHostnames, internal)];
}

function ingressEndpoints(ing: KubeObject, a: Annotations): Pair[] {
  const hosts = a.hostnames.length > 0 ? a.hostnames : ingressHosts(ing);
  const names = hosts.map((h) => hostName(h)).filter((h): h is string => h !== undefined);
  return pairs(names, a.target ?? toTargets(loadBalancerIngress(ing)).targets);
}

/** `name` matches a listener's wildcard `*.example.com`: one or more labels in front. */
const underWildcard = (name: string, wildcard: string) =>
  name !== wildcard && name.endsWith(wildcard.slice(1));

/** The Gateway API intersection of a route hostname and a listener hostname, if any. */
export function intersect(route: string, listener: string | undefined): string | undefined {
  if (listener === undefined || route === listener) return route;
  if (listener.startsWith('*.') && underWildcard(route, listener)) return route;
  if (route.startsWith('*.') && underWildcard(listener, route)) return listener;
  return undefined;
}

/** The names a route gets through the listeners it attaches to. */
function attachedNames(routeHosts: readonly string[], listeners: readonly (string | undefined)[]) {
  const out: string[] = [];
  for (const listener of listeners) {
    if (routeHosts.length === 0) {
      if (listener !== undefined) out.push(listener);
      continue;
    }
    for (const host of routeHosts) {
      const name = intersect(host, listener);
      if (name !== undefined) out.push(name);
    }
  }
  return out;
}

function viaGateway(route: KubeObject, ref: ParentRef, a: Annotations, view: GatewayView): Pair[] {
  const gw = view.gateway(ref.namespace, ref.name);
  if (gw === undefined) return [];
  const g = gatewayFields(gw);
  const listeners = g.listeners
    .filter((l) => ref.sectionName === undefined || l.name === ref.sectionName)
    .map((l) => (l.hostname === undefined ? undefined : hostName(l.hostname)));
  const routeHosts = routeFields(route)
    .hostnames.map((h) => hostName(h))
    .filter((h): h is string => h !== undefined);
  const names = a.hostnames.length > 0 ? a.hostnames : attachedNames(routeHosts, listeners);
  return pairs(names, a.target ?? toTargets(g.addresses).targets);
}

function routeEndpoints(route: KubeObject, a: Annotations, view: GatewayView): Pair[] {
  const f = routeFields(route);
  const accepted = f.gateways.filter((ref) => f.accepted.some((p) => sameParent(p, ref)));
  return accepted.flatMap((ref) => viaGateway(route, ref, a, view));
}

/** One endpoint per name, its targets merged; a CNAME target kept only where it can be. */
function endpointsOfPairs(list: readonly Pair[], a: Annotations, problems: Problem[]): Endpoint[] {
  const byName = new Map<string, Targets[]>();
  for (const [name, targets] of list) byName.set(name, [...(byName.get(name) ?? []), targets]);
  const out: Endpoint[] = [];
  for (const [hostname, all] of [...byName].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const targets = cnameSafe(hostname, mergeTargets(all), problems);
    if (!hasTargets(targets)) continue;
    out.push({ hostname, targets, ...(a.ttl === undefined ? {} : { ttl: a.ttl }) });
  }
  return out;
}

function cnameSafe(hostname: string, t: Targets, problems: Problem[]): Targets {
  const field = `targets of ${hostname}`;
  if (t.hosts.length > 0 && t.ipv4.length + t.ipv6.length > 0) {
    const message = `addresses and host names at once; the host names (${t.hosts.join(', ')}) are left out: a CNAME cannot share its name with A/AAAA`;
    problems.push({ reason: 'TargetLeftOut', field, message });
    return { ...t, hosts: [] };
  }
  if (t.hosts.length > 1) {
    const message = `a CNAME has one target: ${t.hosts[0]} is used, ${t.hosts.slice(1).join(', ')} left out`;
    problems.push({ reason: 'TargetLeftOut', field, message });
    return { ...t, hosts: t.hosts.slice(0, 1) };
  }
  return t;
}

/** What `obj` (a source of `kind`) asks to publish, and what is wrong with its input. */
export function endpointsOf(kind: SourceKind, obj: KubeObject, o: EndpointOptions): Computed {
  const { annotations: a, problems } = readAnnotations(obj.metadata.annotations, o.externalDns);
  const list =
    kind === 'Service'
      ? serviceEndpoints(obj, a)
      : kind === 'Ingress'
        ? ingressEndpoints(obj, a)
        : ROUTE_KINDS.has(kind)
          ? routeEndpoints(obj, a, o.gateways)
          : [];
  return { endpoints: endpointsOfPairs(list, a, problems), problems };
}

export const NOTHING: Computed = { endpoints: [], problems: [] };
