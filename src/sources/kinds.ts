/**
 * The kinds that records may be generated from (issue #15), each switched on by its name in
 * `--sources`: where the API server serves it, what it is called in keys, record names and
 * labels. One table, read by the flag parser, the informers, the event mapping and the RBAC
 * test, so a source is described in exactly one place.
 *
 * `gateway` is shorthand for the two route kinds of the Gateway API's standard channel
 * that every release since v1.1 serves (HTTPRoute, GRPCRoute); TLSRoute is served as v1
 * only since v1.5, so it is asked for by its own name.
 */
import { ValidationError } from '../errors.ts';
import type { ApiResource } from '../kube/rest-kube.ts';

export type SourceKind = 'Service' | 'Ingress' | 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute';

export interface SourceKindInfo {
  readonly kind: SourceKind;
  /** `v1`, `networking.k8s.io/v1`, ...: what an Event's involvedObject names. */
  readonly apiVersion: string;
  readonly collection: ApiResource;
  /** Its name in `--sources`. */
  readonly flag: string;
  /** The start of the records generated from it (`svc-web-1a2b3c4d5e`). */
  readonly abbrev: string;
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

function route(kind: SourceKind, plural: string, flag: string, abbrev: string): SourceKindInfo {
  const collection = { group: GATEWAY_GROUP, version: 'v1', plural };
  return { kind, apiVersion: `${GATEWAY_GROUP}/v1`, collection, flag, abbrev };
}

export const SOURCE_KINDS: { readonly [K in SourceKind]: SourceKindInfo } = {
  Service: {
    kind: 'Service',
    apiVersion: 'v1',
    collection: { group: '', version: 'v1', plural: 'services' },
    flag: 'service',
    abbrev: 'svc',
  },
  Ingress: {
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    collection: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' },
    flag: 'ingress',
    abbrev: 'ing',
  },
  HTTPRoute: route('HTTPRoute', 'httproutes', 'gateway-httproute', 'httproute'),
  GRPCRoute: route('GRPCRoute', 'grpcroutes', 'gateway-grpcroute', 'grpcroute'),
  TLSRoute: route('TLSRoute', 'tlsroutes', 'gateway-tlsroute', 'tlsroute'),
};

export const SOURCE_KIND_LIST = Object.keys(SOURCE_KINDS) as SourceKind[];

/** The Gateways routes attach to: watched whenever a route kind is. */
export const GATEWAYS: ApiResource = { group: GATEWAY_GROUP, version: 'v1', plural: 'gateways' };
export const GATEWAY_KIND = 'Gateway';

export const ROUTE_KINDS: ReadonlySet<SourceKind> = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute']);

const SHORTHANDS: Readonly<Record<string, readonly SourceKind[]>> = {
  gateway: ['HTTPRoute', 'GRPCRoute'],
};

export function isSourceKind(kind: string): kind is SourceKind {
  return Object.hasOwn(SOURCE_KINDS, kind);
}

/** `--sources` values (already split at commas) → the kinds, in table order; throws on a name it does not know. */
export function parseSources(names: readonly string[]): SourceKind[] {
  const chosen = new Set<SourceKind>();
  for (const name of names) {
    const kinds = SHORTHANDS[name] ?? SOURCE_KIND_LIST.filter((k) => SOURCE_KINDS[k].flag === name);
    if (kinds.length === 0) {
      const known = [
        ...SOURCE_KIND_LIST.map((k) => SOURCE_KINDS[k].flag),
        ...Object.keys(SHORTHANDS),
      ];
      throw new ValidationError('sources', `unknown source "${name}"; known: ${known.join(', ')}`);
    }
    for (const k of kinds) chosen.add(k);
  }
  return SOURCE_KIND_LIST.filter((k) => chosen.has(k));
}
