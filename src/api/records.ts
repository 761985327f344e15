/**
 * From a record resource's spec to the shared record vocabulary (src/dns/rrset.ts): the
 * owner name, the TTL and the list of rdata of the one RRset the resource declares.
 *
 * Names follow zone-file rules (RFC 1035 §5.1): `@` is the apex, a name ending in `.` is
 * absolute, anything else is relative to the zone. Values are put in the canonical form
 * the wire decoder produces, so a declared RRset compares equal to the one read back.
 */
import {
  absoluteName,
  type RdataByType,
  type RRset,
  type RRsetOf,
  rdataText,
  splitTxt,
} from '../dns/rrset.ts';
import type {
  AAAARecordSpec,
  ARecordSpec,
  CAARecordSpec,
  CNAMERecordSpec,
  MXRecordSpec,
  NSRecordSpec,
  PTRRecordSpec,
  SRVRecordSpec,
  TXTRecordSpec,
} from './record-specs.ts';

/** Each record kind and the one record type it declares. */
export const RECORD_KIND_TYPES = {
  ARecord: 'A',
  AAAARecord: 'AAAA',
  CNAMERecord: 'CNAME',
  TXTRecord: 'TXT',
  MXRecord: 'MX',
  NSRecord: 'NS',
  SRVRecord: 'SRV',
  CAARecord: 'CAA',
  PTRRecord: 'PTR',
} as const;

export type RecordKind = keyof typeof RECORD_KIND_TYPES;
export type RecordTypeOf<K extends RecordKind> = (typeof RECORD_KIND_TYPES)[K];

export interface RecordSpecByKind {
  ARecord: ARecordSpec;
  AAAARecord: AAAARecordSpec;
  CNAMERecord: CNAMERecordSpec;
  TXTRecord: TXTRecordSpec;
  MXRecord: MXRecordSpec;
  NSRecord: NSRecordSpec;
  SRVRecord: SRVRecordSpec;
  CAARecord: CAARecordSpec;
  PTRRecord: PTRRecordSpec;
}

/** Any record spec: the fields every record kind shares. */
export type RecordSpec = RecordSpecByKind[RecordKind];

export type RdataMapper<K extends RecordKind> = (
  spec: RecordSpecByKind[K],
  zone: string,
) => RdataByType[RecordTypeOf<K>][];

export const RECORD_KINDS_LIST = Object.keys(RECORD_KIND_TYPES) as RecordKind[];

export function isRecordKind(kind: string): kind is RecordKind {
  return Object.hasOwn(RECORD_KIND_TYPES, kind);
}

/**
 * IPv6 in the RFC 5952 form: lower case, no leading zeros, the longest run of zero groups
 * as `::`. The WHATWG URL host serializer implements exactly that; an embedded IPv4 tail
 * comes out as two hex groups, which is also how an AAAA record decodes.
 */
export function canonicalIpv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** The spec → rdata mapping of each record kind. */
export const RECORD_RDATA: { readonly [K in RecordKind]: RdataMapper<K> } = {
  ARecord: (spec) => spec.ipv4Addresses.map((address) => ({ address })),
  AAAARecord: (spec) => spec.ipv6Addresses.map((a) => ({ address: canonicalIpv6(a) })),
  CNAMERecord: (spec, zone) => [{ target: absoluteName(spec.target, zone) }],
  // One value is one RR; a value over 255 bytes becomes several character-strings of it.
  TXTRecord: (spec) => spec.values.map((value) => ({ strings: splitTxt(value) })),
  MXRecord: (spec, zone) =>
    spec.mailServers.map((mx) => ({
      preference: mx.preference,
      exchange: absoluteName(mx.host, zone),
    })),
  NSRecord: (spec, zone) => spec.nameServers.map((host) => ({ host: absoluteName(host, zone) })),
  SRVRecord: (spec, zone) =>
    spec.services.map((srv) => ({
      priority: srv.priority,
      weight: srv.weight,
      port: srv.port,
      target: absoluteName(srv.target, zone),
    })),
  CAARecord: (spec) =>
    spec.authorizations.map((caa) => ({ flags: caa.flags ?? 0, tag: caa.tag, value: caa.value })),
  PTRRecord: (spec, zone) => spec.targets.map((target) => ({ target: absoluteName(target, zone) })),
};

/**
 * The rdata a record resource declares, duplicates removed (an RRset is a set, RFC 2181
 * §5), in the order written.
 */
export function recordRdata<K extends RecordKind>(
  kind: K,
  spec: RecordSpecByKind[K],
  zone: string,
): RdataByType[RecordTypeOf<K>][] {
  const type = RECORD_KIND_TYPES[kind];
  const seen = new Set<string>();
  return RECORD_RDATA[kind](spec, zone).filter((rdata) => {
    const key = rdataText(type, rdata);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The absolute owner name of a record resource in `zone`. */
export function recordOwner(spec: Pick<RecordSpec, 'name'>, zone: string): string {
  return absoluteName(spec.name, zone);
}

/** The whole RRset a record resource declares; `defaultTtl` is the zone's `ttl`. */
export function recordRRset<K extends RecordKind>(
  kind: K,
  spec: RecordSpecByKind[K],
  zone: string,
  defaultTtl: number,
): RRsetOf<RecordTypeOf<K>> {
  return {
    name: recordOwner(spec, zone),
    type: RECORD_KIND_TYPES[kind],
    ttl: spec.ttl ?? defaultTtl,
    rdata: recordRdata(kind, spec, zone),
  };
}

/**
 * The RRset of any record resource, when the kind is only known at run time (a union of
 * resources): TypeScript cannot correlate `kind` and `spec` of a union, so the cast lives
 * here once instead of at every caller.
 */
export function declaredRRset(
  record: { readonly kind: RecordKind; readonly spec: RecordSpec },
  zone: string,
  defaultTtl: number,
): RRset {
  return recordRRset(record.kind, record.spec as never, zone, defaultTtl) as RRset;
}
