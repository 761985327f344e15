/**
 * Rules a JSON Schema cannot express, checked after the schema. Fields are relative to the
 * spec. Rules that need other objects (a name outside its zone, two resources for one
 * RRset) belong to the reconcilers; these need only the one spec.
 */

import { absoluteName, isInZone } from '../dns/rrset.ts';
import type { Bind9ClusterSpec } from './bind9cluster.ts';
import type { Bind9InstanceSpec } from './bind9instance.ts';
import type { DNSZoneSpec, LabelSelector } from './dnszone.ts';
import type { KindName } from './kinds.ts';
import {
  anchored,
  CLUSTER_NAME,
  MAX_CLUSTER_NAME_LENGTH,
  MAX_NAME_LENGTH,
  QUALIFIED_NAME,
} from './patterns.ts';
import type {
  CNAMERecordSpec,
  MXRecordSpec,
  NSRecordSpec,
  PTRRecordSpec,
  SRVRecordSpec,
  TXTRecordSpec,
} from './record-specs.ts';
import type { RecordKind, RecordSpec } from './records.ts';

export interface SpecIssue {
  readonly field: string;
  readonly message: string;
}

/** Label keys: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
const LABEL_KEY =
  /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** The semantic issues of one spec of `kind` (which the schema has already accepted). */
export function semanticIssues(kind: KindName, spec: unknown): SpecIssue[] {
  switch (kind) {
    case 'Bind9Cluster':
      return clusterIssues(spec as Bind9ClusterSpec);
    case 'Bind9Instance':
      return instanceIssues(spec as Bind9InstanceSpec);
    case 'DNSZone':
      return zoneIssues(spec as DNSZoneSpec);
    case 'CNAMERecord':
      return cnameIssues(spec as CNAMERecordSpec);
    case 'MXRecord':
      return mxIssues(spec as MXRecordSpec);
    case 'NSRecord':
      return nsIssues(spec as NSRecordSpec);
    case 'TXTRecord':
      return txtIssues(spec as TXTRecordSpec);
    default:
      return [];
  }
}

const QUALIFIED = new RegExp(anchored(QUALIFIED_NAME));

/**
 * Mirrors the CRD's rule on Service annotation keys, and checks the node selector's keys,
 * which the StatefulSet would otherwise refuse only when the controller applies it.
 */
function clusterIssues(spec: Bind9ClusterSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const key of Object.keys(spec.service.annotations ?? {})) {
    if (key.length > 317 || !QUALIFIED.test(key)) {
      issues.push({
        field: 'service.annotations',
        message: `${JSON.stringify(key)} is not a valid annotation key`,
      });
    }
  }
  for (const key of Object.keys(spec.nodeSelector ?? {})) {
    if (!LABEL_KEY.test(key)) {
      issues.push({
        field: 'nodeSelector',
        message: `${JSON.stringify(key)} is not a valid label key`,
      });
    }
  }
  return issues;
}

const CLUSTER_NAME_RE = new RegExp(anchored(CLUSTER_NAME));

/**
 * Rules on `metadata.name` (the CRD's root CEL rules): a Bind9Cluster's name prefixes its
 * pods, Services and key names, so it must be a short DNS label.
 */
export function nameIssues(kind: KindName, name: string): SpecIssue[] {
  if (kind !== 'Bind9Cluster') return [];
  if (name.length <= MAX_CLUSTER_NAME_LENGTH && CLUSTER_NAME_RE.test(name)) return [];
  return [
    {
      field: 'metadata.name',
      message: `${JSON.stringify(name)} is not a DNS label of at most ${MAX_CLUSTER_NAME_LENGTH} characters starting with a letter`,
    },
  ];
}

/** Mirrors the CRD's x-kubernetes-validations rules on Bind9Instance. */
function instanceIssues(spec: Bind9InstanceSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const recordsOnly = spec.recordsOnly === true;
  if (spec.role === 'primary' && spec.zoneFiles === undefined && !recordsOnly) {
    issues.push({ field: 'zoneFiles', message: 'a primary needs zoneFiles (unless recordsOnly)' });
  }
  if (spec.rndc === undefined && !recordsOnly) {
    issues.push({ field: 'rndc', message: 'rndc is required unless recordsOnly' });
  }
  if (recordsOnly && (spec.role !== 'primary' || spec.rndc !== undefined || spec.zoneFiles)) {
    const message = 'a recordsOnly instance is a primary with neither rndc nor zoneFiles';
    issues.push({ field: 'recordsOnly', message });
  }
  if (spec.role === 'secondary' && spec.primaries === undefined) {
    issues.push({ field: 'primaries', message: 'a secondary needs primaries' });
  }
  if (spec.role === 'secondary' && spec.zoneFiles !== undefined) {
    issues.push({ field: 'zoneFiles', message: 'only a primary has zoneFiles' });
  }
  return issues;
}

function zoneIssues(spec: DNSZoneSpec): SpecIssue[] {
  const publish = spec.publish?.namespaceSelector;
  return [
    ...selectorIssues(spec.instanceSelector, 'instanceSelector'),
    ...(publish === undefined ? [] : selectorIssues(publish, 'publish.namespaceSelector')),
    ...nameLengthIssue(spec.soaRecord.primaryNs, spec.zoneName, 'soaRecord.primaryNs'),
    ...mailboxIssues(spec.soaRecord.adminEmail),
    ...nameServerIssues(spec),
  ];
}

/** The local part is one label of the RNAME, dots and all: at most 63 octets (RFC 1035 §2.3.4). */
function mailboxIssues(adminEmail: string): SpecIssue[] {
  const local = adminEmail.slice(0, adminEmail.lastIndexOf('@'));
  if (Buffer.byteLength(local) <= 63) return [];
  return [{ field: 'soaRecord.adminEmail', message: 'the part before @ is longer than 63 octets' }];
}

/** Mirrors `metav1.LabelSelector` validation (apimachinery's ValidateLabelSelector). */
export function selectorIssues(selector: LabelSelector, field: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const key of Object.keys(selector.matchLabels ?? {})) {
    if (!LABEL_KEY.test(key)) {
      issues.push({
        field: `${field}.matchLabels`,
        message: `${JSON.stringify(key)} is not a valid label key`,
      });
    }
  }
  (selector.matchExpressions ?? []).forEach((expression, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    const count = expression.values?.length ?? 0;
    if (!LABEL_KEY.test(expression.key)) {
      issues.push({
        field: `${at}.key`,
        message: `${JSON.stringify(expression.key)} is not a valid label key`,
      });
    }
    const needsValues = expression.operator === 'In' || expression.operator === 'NotIn';
    if (needsValues && count === 0) {
      issues.push({
        field: `${at}.values`,
        message: `${expression.operator} needs at least one value`,
      });
    }
    if (!needsValues && count > 0) {
      issues.push({ field: `${at}.values`, message: `${expression.operator} takes no values` });
    }
  });
  return issues;
}

/** A relative name plus the zone may exceed the 255-octet limit the schema alone cannot see. */
function nameLengthIssue(name: string, zone: string, field: string): SpecIssue[] {
  return absoluteName(name, zone).length > MAX_NAME_LENGTH
    ? [{ field, message: `with the zone appended the name is over 255 octets` }]
    : [];
}

const NO_ADDRESS =
  'named does not load a zone whose in-zone name server has no address (A or AAAA) in the base zone file';

function nameServerIssues(spec: DNSZoneSpec): SpecIssue[] {
  const inZone = (name: string) => isInZone(absoluteName(name, spec.zoneName), spec.zoneName);
  if (spec.nameServers === undefined) {
    return inZone(spec.soaRecord.primaryNs)
      ? [
          {
            field: 'soaRecord.primaryNs',
            message: `is inside the zone and would be its only name server: list it in nameServers with a glue address (${NO_ADDRESS})`,
          },
        ]
      : [];
  }
  const seen = new Set<string>();
  return spec.nameServers.flatMap((ns, i) => {
    const at = `nameServers[${i}]`;
    const host = absoluteName(ns.hostname, spec.zoneName);
    const issues = nameLengthIssue(ns.hostname, spec.zoneName, `${at}.hostname`);
    if (seen.has(host))
      issues.push({ field: `${at}.hostname`, message: `${host} is listed twice` });
    seen.add(host);
    // Glue is address data for a name inside the zone: named ignores out-of-zone data, and
    // refuses to load a zone whose in-zone name server has none.
    const hasGlue = (ns.ipv4Address ?? ns.ipv6Address) !== undefined;
    if (hasGlue && !inZone(ns.hostname)) {
      issues.push({
        field: at,
        message: 'glue addresses are only for a name server inside the zone',
      });
    }
    if (!hasGlue && inZone(ns.hostname)) {
      issues.push({ field: at, message: `needs ipv4Address or ipv6Address (${NO_ADDRESS})` });
    }
    return issues;
  });
}

/** RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME cannot sit beside the apex SOA and NS. */
function cnameIssues(spec: CNAMERecordSpec): SpecIssue[] {
  return spec.name === '@'
    ? [{ field: 'name', message: 'a CNAME cannot be at the zone apex' }]
    : [];
}

/** RFC 7505 §3: a null MX ("." with preference 0) must be the only MX of its name. */
function mxIssues(spec: MXRecordSpec): SpecIssue[] {
  const nullAt = spec.mailServers.findIndex((mx) => mx.host === '.');
  if (nullAt < 0) return [];
  const alone = spec.mailServers.length === 1 && spec.mailServers[0]?.preference === 0;
  return alone
    ? []
    : [
        {
          field: `mailServers[${nullAt}]`,
          message: 'a null MX (".") must be alone with preference 0',
        },
      ];
}

/** Apex NS records come from the DNSZone's nameServers, never from an NSRecord. */
function nsIssues(spec: NSRecordSpec): SpecIssue[] {
  return spec.name === '@'
    ? [{ field: 'name', message: "apex NS records are declared in the DNSZone's nameServers" }]
    : [];
}

/** RFC 1035 §3.2.1: RDLENGTH is 16 bits, and every 255-byte piece costs one length octet. */
function txtIssues(spec: TXTRecordSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  spec.values.forEach((value, i) => {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes + Math.max(1, Math.ceil(bytes / 255)) > 65535) {
      issues.push({ field: `values[${i}]`, message: 'is longer than a TXT record can hold' });
    }
  });
  return issues;
}

type NamedField = readonly [field: string, name: string];

/** The host names a record spec writes in its data, each with its field. */
function dataNames(kind: RecordKind, spec: RecordSpec): NamedField[] {
  switch (kind) {
    case 'CNAMERecord':
      return [['target', (spec as CNAMERecordSpec).target]];
    case 'MXRecord':
      return (spec as MXRecordSpec).mailServers.map((mx, i) => [`mailServers[${i}].host`, mx.host]);
    case 'NSRecord':
      return (spec as NSRecordSpec).nameServers.map((host, i) => [`nameServers[${i}]`, host]);
    case 'SRVRecord':
      return (spec as SRVRecordSpec).services.map((srv, i) => [
        `services[${i}].target`,
        srv.target,
      ]);
    case 'PTRRecord':
      return (spec as PTRRecordSpec).targets.map((target, i) => [`targets[${i}]`, target]);
    default:
      return [];
  }
}

/**
 * Issues that appear only once the zone is known: a relative owner or host name that, with
 * the zone appended, is longer than a domain name can be (RFC 1035 §3.1). Whether the owner
 * lies inside the zone is the planner's question (NameOutsideZone), not a spec error.
 */
export function recordZoneIssues(
  kind: RecordKind,
  spec: RecordSpec,
  zoneName: string,
): SpecIssue[] {
  const names: NamedField[] = [['name', spec.name], ...dataNames(kind, spec)];
  return names.flatMap(([field, name]) => nameLengthIssue(name, zoneName, field));
}
