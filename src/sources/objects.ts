/**
 * The parts of Services, Ingresses, Gateways and routes that records are generated from,
 * read defensively: these objects come from other controllers and users, so a field of an
 * unexpected shape counts as absent instead of throwing.
 */
import type { KubeObject } from '../kube/client.ts';

type Json = Readonly<Record<string, unknown>>;

const asRecord = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
const asArray = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] =>
  asArray(v).filter((s): s is string => typeof s === 'string');

const specOf = (obj: KubeObject) => asRecord(obj.spec);
const statusOf = (obj: KubeObject) => asRecord(obj.status);

/** `status.loadBalancer.ingress` of a Service or an Ingress: its IPs and host names. */
export function loadBalancerIngress(obj: KubeObject): string[] {
  const ingress = asArray(asRecord(statusOf(obj).loadBalancer).ingress);
  return ingress.flatMap((entry) => {
    const e = asRecord(entry);
    return [asString(e.ip), asString(e.hostname)].filter((v): v is string => v !== undefined);
  });
}

export interface ServiceFields {
  readonly type: string;
  readonly clusterIPs: readonly string[];
  readonly externalIPs: readonly string[];
}

export function serviceFields(svc: KubeObject): ServiceFields {
  const spec = specOf(svc);
  const ips = strings(spec.clusterIPs);
  const single = asString(spec.clusterIP);
  const clusterIPs = (ips.length > 0 ? ips : single === undefined ? [] : [single]).filter(
    (ip) => ip !== '' && ip !== 'None',
  );
  return {
    type: asString(spec.type) ?? 'ClusterIP',
    clusterIPs,
    externalIPs: strings(spec.externalIPs),
  };
}

/** The hosts of an Ingress's rules. */
export function ingressHosts(ing: KubeObject): string[] {
  return asArray(specOf(ing).rules)
    .map((rule) => asString(asRecord(rule).host))
    .filter((h): h is string => h !== undefined && h !== '');
}

/** A route's reference to its parent (Gateway API `ParentReference`), defaults filled in. */
export interface ParentRef {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly sectionName?: string;
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

function parentRef(value: unknown, routeNamespace: string): ParentRef | undefined {
  const r = asRecord(value);
  const name = asString(r.name);
  if (name === undefined) return undefined;
  const sectionName = asString(r.sectionName);
  return {
    group: asString(r.group) ?? GATEWAY_GROUP,
    kind: asString(r.kind) ?? 'Gateway',
    namespace: asString(r.namespace) ?? routeNamespace,
    name,
    ...(sectionName === undefined ? {} : { sectionName }),
  };
}

export interface RouteFields {
  readonly hostnames: readonly string[];
  /** The Gateways among the route's parents. */
  readonly gateways: readonly ParentRef[];
  /** The parents whose status says they accepted the route (Accepted=True). */
  readonly accepted: readonly ParentRef[];
}

const isGateway = (p: ParentRef | undefined): p is ParentRef =>
  p !== undefined && p.group === GATEWAY_GROUP && p.kind === 'Gateway';

function acceptedBy(entry: unknown): boolean {
  return asArray(asRecord(entry).conditions).some((c) => {
    const cond = asRecord(c);
    return cond.type === 'Accepted' && cond.status === 'True';
  });
}

export function routeFields(route: KubeObject): RouteFields {
  const ns = route.metadata.namespace;
  const gateways = asArray(specOf(route).parentRefs)
    .map((p) => parentRef(p, ns))
    .filter(isGateway);
  const accepted = asArray(statusOf(route).parents)
    .filter(acceptedBy)
    .map((entry) => parentRef(asRecord(entry).parentRef, ns))
    .filter(isGateway);
  return { hostnames: strings(specOf(route).hostnames), gateways, accepted };
}

export const sameParent = (a: ParentRef, b: ParentRef) =>
  a.group === b.group &&
  a.kind === b.kind &&
  a.namespace === b.namespace &&
  a.name === b.name &&
  a.sectionName === b.sectionName;

export interface GatewayFields {
  /** Each listener's name and hostname (undefined: any hostname). */
  readonly listeners: readonly { readonly name: string; readonly hostname?: string }[];
  /** `status.addresses` of type IPAddress (the default) or Hostname. */
  readonly addresses: readonly string[];
}

export function gatewayFields(gw: KubeObject): GatewayFields {
  const listeners = asArray(specOf(gw).listeners).flatMap((l) => {
    const r = asRecord(l);
    const name = asString(r.name);
    const hostname = asString(r.hostname);
    return name === undefined ? [] : [{ name, ...(hostname === undefined ? {} : { hostname }) }];
  });
  const addresses = asArray(statusOf(gw).addresses).flatMap((a) => {
    const r = asRecord(a);
    const type = asString(r.type) ?? 'IPAddress';
    const value = asString(r.value);
    return value !== undefined && (type === 'IPAddress' || type === 'Hostname') ? [value] : [];
  });
  return { listeners, addresses };
}
