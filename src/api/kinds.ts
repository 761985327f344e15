/**
 * The registry of kinds: names, printer columns, and for record kinds the record type and
 * the spec → rdata mapping. The CRDs, the validator and the controller all read from here,
 * so a kind is described in exactly one place. Each kind's schemas are in kind-schemas.ts,
 * which only the generators (CRD YAML, validators) load: the controller needs the names
 * and the static types, not the schema library.
 */
import type { Bind9ClusterSpec, Bind9ClusterStatus } from './bind9cluster.ts';
import type { Bind9InstanceSpec, Bind9InstanceStatus } from './bind9instance.ts';
import type { DNSZoneSpec, DNSZoneStatus } from './dnszone.ts';
import type { RecordStatus, Resource, ResourceStatus } from './meta.ts';
import { anchored, CLUSTER_NAME, MAX_CLUSTER_NAME_LENGTH } from './patterns.ts';
import {
  type RdataMapper,
  RECORD_KIND_TYPES,
  RECORD_RDATA,
  type RecordKind,
  type RecordSpecByKind,
  type RecordTypeOf,
} from './records.ts';

export interface SpecByKind extends RecordSpecByKind {
  Bind9Cluster: Bind9ClusterSpec;
  Bind9Instance: Bind9InstanceSpec;
  DNSZone: DNSZoneSpec;
}
export type KindName = keyof SpecByKind;

export type StatusByKind = { [K in KindName]: ResourceStatus } & {
  [K in RecordKind]: RecordStatus;
} & {
  Bind9Cluster: Bind9ClusterStatus;
  Bind9Instance: Bind9InstanceStatus;
  DNSZone: DNSZoneStatus;
};

/** A whole object of one kind, e.g. `ResourceOf<'DNSZone'>`. */
export type ResourceOf<K extends KindName> = Resource<SpecByKind[K], StatusByKind[K], K>;

export type Bind9Cluster = ResourceOf<'Bind9Cluster'>;
export type Bind9Instance = ResourceOf<'Bind9Instance'>;
export type DNSZone = ResourceOf<'DNSZone'>;
export type ARecord = ResourceOf<'ARecord'>;
export type AAAARecord = ResourceOf<'AAAARecord'>;
export type CNAMERecord = ResourceOf<'CNAMERecord'>;
export type TXTRecord = ResourceOf<'TXTRecord'>;
export type MXRecord = ResourceOf<'MXRecord'>;
export type NSRecord = ResourceOf<'NSRecord'>;
export type SRVRecord = ResourceOf<'SRVRecord'>;
export type CAARecord = ResourceOf<'CAARecord'>;
export type PTRRecord = ResourceOf<'PTRRecord'>;
export type RecordResource = ResourceOf<RecordKind>;

/** A column of `kubectl get` (apiextensions.k8s.io/v1 additionalPrinterColumns). */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description: string;
  /** 0: always shown; 1: only with `-o wide`. */
  readonly priority?: number;
}

/** A CEL rule on the whole object (the only place a CRD may check `metadata.name`). */
export interface RootValidation {
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
}

export interface KindInfo<K extends KindName = KindName> {
  readonly kind: K;
  readonly plural: string;
  readonly singular: string;
  readonly listKind: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly description: string;
  readonly printerColumns: readonly PrinterColumn[];
  readonly rootValidations?: readonly RootValidation[];
}

export interface RecordKindInfo<K extends RecordKind = RecordKind> extends KindInfo<K> {
  readonly recordType: RecordTypeOf<K>;
  /** The spec field that holds the record data, e.g. `ipv4Addresses`. */
  readonly dataField: string;
  /** spec → rdata in the src/dns/rrset.ts vocabulary (see `recordRdata`, which also dedups). */
  readonly toRdata: RdataMapper<K>;
}

export const CATEGORIES = ['dns'] as const;

const READY = '.status.conditions[?(@.type=="Ready")]';

const STATUS_COLUMNS: readonly PrinterColumn[] = [
  { name: 'Ready', type: 'string', jsonPath: `${READY}.status`, description: 'Ready condition.' },
  {
    name: 'Reason',
    type: 'string',
    jsonPath: `${READY}.reason`,
    description: 'Why the resource is or is not ready.',
    priority: 1,
  },
  {
    name: 'Age',
    type: 'date',
    jsonPath: '.metadata.creationTimestamp',
    description: 'Time since creation.',
  },
];

function kindInfo<K extends KindName>(
  kind: K,
  plural: string,
  shortNames: readonly string[],
  description: string,
  columns: readonly PrinterColumn[],
): KindInfo<K> {
  return {
    kind,
    plural,
    singular: kind.toLowerCase(),
    listKind: `${kind}List`,
    shortNames,
    categories: CATEGORIES,
    description,
    printerColumns: [...columns, ...STATUS_COLUMNS],
  };
}

interface RecordKindOptions<K extends RecordKind> {
  readonly kind: K;
  readonly dataField: string;
  /** JSONPath of the column showing the data; the data field itself by default. */
  readonly dataPath?: string;
  readonly what: string;
}

function recordKind<K extends RecordKind>(options: RecordKindOptions<K>): RecordKindInfo<K> {
  const type = RECORD_KIND_TYPES[options.kind];
  const lower = type.toLowerCase();
  const dataPath = options.dataPath ?? `.spec.${options.dataField}`;
  const info = kindInfo(
    options.kind,
    `${lower}records`,
    [`${lower}rec`],
    `One ${type} RRset (${options.what}) in a DNSZone, written to every BIND9 instance serving the zone.`,
    [
      { name: 'Zone', type: 'string', jsonPath: '.spec.zone', description: 'DNSZone.' },
      { name: 'Name', type: 'string', jsonPath: '.spec.name', description: 'Owner name.' },
      { name: 'Data', type: 'string', jsonPath: dataPath, description: 'Record data.' },
      {
        name: 'TTL',
        type: 'integer',
        jsonPath: '.spec.ttl',
        description: 'TTL (zone default when empty).',
      },
    ],
  );
  return {
    ...info,
    recordType: type,
    dataField: options.dataField,
    toRdata: RECORD_RDATA[options.kind],
  };
}

export type ResourceKinds = {
  readonly Bind9Cluster: KindInfo<'Bind9Cluster'>;
  readonly Bind9Instance: KindInfo<'Bind9Instance'>;
  readonly DNSZone: KindInfo<'DNSZone'>;
} & { readonly [K in RecordKind]: RecordKindInfo<K> };

export const RESOURCE_KINDS: ResourceKinds = {
  Bind9Cluster: {
    ...kindInfo(
      'Bind9Cluster',
      'bind9clusters',
      ['b9c'],
      'A BIND9 fleet the controller runs: one primary and N secondaries (StatefulSets), their named.conf, keys and Services, and one Bind9Instance per pod labelled bind9-controller.io/cluster=<name>, which DNSZones select.',
      [
        {
          name: 'Secondaries',
          type: 'integer',
          jsonPath: '.spec.secondaries.replicas',
          description: 'Secondaries asked for.',
        },
        {
          name: 'Pods Ready',
          type: 'integer',
          jsonPath: '.status.readyReplicas',
          description: 'Ready pods, primary and secondaries.',
        },
        {
          name: 'Address',
          type: 'string',
          jsonPath: '.status.serviceAddress',
          description: 'Cluster IP of the query Service.',
        },
        {
          name: 'Image',
          type: 'string',
          jsonPath: '.spec.image',
          description: 'BIND9 image.',
          priority: 1,
        },
      ],
    ),
    rootValidations: [
      {
        rule: `self.metadata.name.size() <= ${MAX_CLUSTER_NAME_LENGTH} && self.metadata.name.matches(r'${anchored(CLUSTER_NAME)}')`,
        // No fieldPath: the CRD schema does not describe metadata, so the message names it.
        message: `metadata.name of a Bind9Cluster must be a DNS label of at most ${MAX_CLUSTER_NAME_LENGTH} characters starting with a letter (it prefixes its pods, Services and keys)`,
      },
    ],
  },
  Bind9Instance: kindInfo(
    'Bind9Instance',
    'bind9instances',
    ['b9', 'bind9'],
    'A BIND9 server (or a Service in front of one) that the controller creates zones on (rndc) and updates (TSIG-signed RFC 2136 UPDATE). Its labels are what DNSZones select.',
    [
      {
        name: 'Role',
        type: 'string',
        jsonPath: '.spec.role',
        description: 'primary or secondary.',
      },
      {
        name: 'Address',
        type: 'string',
        jsonPath: '.spec.dns.address',
        description: 'DNS address.',
      },
      { name: 'Port', type: 'integer', jsonPath: '.spec.dns.port', description: 'DNS port.' },
    ],
  ),
  DNSZone: kindInfo(
    'DNSZone',
    'dnszones',
    ['zone', 'dz'],
    'A DNS zone, created on every selected primary Bind9Instance and transferred to selected secondaries.',
    [
      { name: 'Zone', type: 'string', jsonPath: '.spec.zoneName', description: 'Zone name.' },
      { name: 'TTL', type: 'integer', jsonPath: '.spec.ttl', description: 'Default TTL.' },
      {
        name: 'Serial',
        type: 'string',
        jsonPath: '.status.instances[*].serial',
        description: 'SOA serial on each instance.',
        priority: 1,
      },
    ],
  ),
  ARecord: recordKind({
    kind: 'ARecord',
    dataField: 'ipv4Addresses',
    what: 'IPv4 addresses',
  }),
  AAAARecord: recordKind({
    kind: 'AAAARecord',
    dataField: 'ipv6Addresses',
    what: 'IPv6 addresses',
  }),
  CNAMERecord: recordKind({
    kind: 'CNAMERecord',
    dataField: 'target',
    what: 'an alias',
  }),
  TXTRecord: recordKind({
    kind: 'TXTRecord',
    dataField: 'values',
    what: 'text values',
  }),
  MXRecord: recordKind({
    kind: 'MXRecord',
    dataField: 'mailServers',
    dataPath: '.spec.mailServers[*].host',
    what: 'mail exchangers',
  }),
  NSRecord: recordKind({
    kind: 'NSRecord',
    dataField: 'nameServers',
    what: 'name servers',
  }),
  SRVRecord: recordKind({
    kind: 'SRVRecord',
    dataField: 'services',
    dataPath: '.spec.services[*].target',
    what: 'service locations',
  }),
  CAARecord: recordKind({
    kind: 'CAARecord',
    dataField: 'authorizations',
    dataPath: '.spec.authorizations[*].value',
    what: 'certification authority authorizations',
  }),
  PTRRecord: recordKind({
    kind: 'PTRRecord',
    dataField: 'targets',
    what: 'reverse pointers',
  }),
};

/** Every kind, in a fixed order (clusters, instances, zones, then records). */
export const KIND_NAMES = Object.keys(RESOURCE_KINDS) as KindName[];

export function isKindName(kind: string): kind is KindName {
  return Object.hasOwn(RESOURCE_KINDS, kind);
}

/** The registry entry of a record kind. */
export function recordKindInfo<K extends RecordKind>(kind: K): RecordKindInfo<K> {
  const records: { readonly [J in RecordKind]: RecordKindInfo<J> } = RESOURCE_KINDS;
  return records[kind];
}
