/**
 * The record resources generated from a source (issue #15): ordinary ARecord, AAAARecord
 * and CNAMERecord objects in the zone's namespace, so the zone reconcile treats them as any
 * other (ownership, conflicts, finalizers, status) and `kubectl get dns` lists them.
 *
 * Each carries who made it and for which source:
 * - labels `app.kubernetes.io/managed-by: bind9-controller`, `dns.bind9-controller.io/
 *   source-kind`, `-namespace`, `-name` (shortened with a digest past 63 characters) and
 *   `-uid`, to select them with kubectl;
 * - the annotation `dns.bind9-controller.io/source: Kind/namespace/name`, the identity the
 *   controller goes by (a label value cannot hold every object name);
 * - an owner reference to the source when it is in the same namespace (one cannot point
 *   across namespaces), so the garbage collector also takes it with the source.
 *
 * A record is found again after a restart by these, never by memory. Its name is
 * `<abbrev>-<source>-<host>-<digest>`: readable, and the digest of source, host name and
 * zone keeps two of them apart; the A and AAAA of one name share it.
 */
import { createHash } from 'node:crypto';
import { objectId } from '../api/ids.ts';
import type { DNSZone, RecordResource } from '../api/kinds.ts';
import { API_GROUP_VERSION } from '../api/meta.ts';
import { relativeName } from '../dns/rrset.ts';
import type { Manifest, OwnerReference } from '../kube/apply.ts';
import type { KubeObject } from '../kube/client.ts';
import { MANAGED_BY } from '../kube/configmap-store.ts';
import type { Endpoint } from './endpoints.ts';
import { isSourceKind, SOURCE_KINDS, type SourceKind } from './kinds.ts';

/** The label that says an object is the controller's (kube/configmap-store.ts: one spelling). */
const MANAGED_BY_KEY = 'app.kubernetes.io/managed-by';
export const SOURCE_ANNOTATION = 'dns.bind9-controller.io/source';
export const SOURCE_LABELS = {
  kind: 'dns.bind9-controller.io/source-kind',
  namespace: 'dns.bind9-controller.io/source-namespace',
  name: 'dns.bind9-controller.io/source-name',
  uid: 'dns.bind9-controller.io/source-uid',
} as const;

export type GeneratedKind = 'ARecord' | 'AAAARecord' | 'CNAMERecord';
export const GENERATED_KINDS: readonly GeneratedKind[] = ['ARecord', 'AAAARecord', 'CNAMERecord'];

export interface SourceRef {
  readonly kind: SourceKind;
  readonly namespace: string;
  readonly name: string;
}

/** `Kind/namespace/name`, as the annotation writes it and keys use it. */
export const sourceId = (ref: SourceRef) => `${ref.kind}/${ref.namespace}/${ref.name}`;

export function parseSourceId(id: string): SourceRef | undefined {
  const [kind, namespace, name, ...rest] = id.split('/');
  if (kind === undefined || !isSourceKind(kind) || !namespace || !name || rest.length > 0)
    return undefined;
  return { kind, namespace, name };
}

/** One generated record as it should be. */
export interface Wanted {
  readonly kind: GeneratedKind;
  readonly namespace: string;
  readonly name: string;
  readonly hostname: string;
  readonly zone: DNSZone;
  readonly manifest: Manifest;
}

const digest = (text: string, n: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, n);

/** Lower-case letters, digits and inner dashes, at most `max` long. */
function slug(text: string, max: number): string {
  const s = text
    .toLowerCase()
    .replace(/\*/g, 'wildcard')
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max);
  return s.replace(/^-+|-+$/g, '');
}

export function recordName(source: SourceRef, hostname: string, zone: DNSZone): string {
  const host = relativeName(hostname, zone.spec.zoneName);
  const parts = [SOURCE_KINDS[source.kind].abbrev, slug(source.name, 24), slug(host, 16)];
  const stem = parts.filter((p) => p !== '').join('-');
  return `${stem}-${digest(`${sourceId(source)} ${hostname} ${objectId(zone.metadata)}`, 10)}`;
}

/** A label value: the text, or for a longer one its start and a digest (63 at most). */
function labelValue(text: string): string {
  if (text.length <= 63) return text;
  return `${text.slice(0, 52).replace(/[-_.]+$/, '')}-${digest(text, 10)}`;
}

function recordData(e: Endpoint): { kind: GeneratedKind; data: Record<string, unknown> }[] {
  const out: { kind: GeneratedKind; data: Record<string, unknown> }[] = [];
  if (e.targets.ipv4.length > 0)
    out.push({ kind: 'ARecord', data: { ipv4Addresses: e.targets.ipv4 } });
  if (e.targets.ipv6.length > 0)
    out.push({ kind: 'AAAARecord', data: { ipv6Addresses: e.targets.ipv6 } });
  const host = e.targets.hosts[0];
  if (out.length === 0 && host !== undefined)
    out.push({ kind: 'CNAMERecord', data: { target: `${host}.` } });
  return out;
}

function ownerOf(source: KubeObject, namespace: string): OwnerReference[] {
  if (source.metadata.namespace !== namespace || source.metadata.uid === undefined) return [];
  const { apiVersion, kind } = SOURCE_KINDS[source.kind as SourceKind];
  const { name, uid } = source.metadata;
  return [{ apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: false }];
}

/** The records one endpoint of `source` gets in `zone`. */
export function wantedRecords(source: KubeObject, e: Endpoint, zone: DNSZone): Wanted[] {
  const ref: SourceRef = {
    kind: source.kind as SourceKind,
    namespace: source.metadata.namespace,
    name: source.metadata.name,
  };
  const namespace = zone.metadata.namespace;
  const name = recordName(ref, e.hostname, zone);
  const labels = {
    ...MANAGED_BY,
    [SOURCE_LABELS.kind]: ref.kind,
    [SOURCE_LABELS.namespace]: ref.namespace,
    [SOURCE_LABELS.name]: labelValue(ref.name),
    ...(source.metadata.uid === undefined ? {} : { [SOURCE_LABELS.uid]: source.metadata.uid }),
  };
  const owners = ownerOf(source, namespace);
  const spec = {
    zone: zone.metadata.name,
    name: relativeName(e.hostname, zone.spec.zoneName),
    ...(e.ttl === undefined ? {} : { ttl: e.ttl }),
  };
  return recordData(e).map(({ kind, data }) => ({
    kind,
    namespace,
    name,
    hostname: e.hostname,
    zone,
    manifest: {
      apiVersion: API_GROUP_VERSION,
      kind,
      metadata: {
        name,
        namespace,
        labels,
        annotations: { [SOURCE_ANNOTATION]: sourceId(ref) },
        ...(owners.length === 0 ? {} : { ownerReferences: owners }),
      },
      spec: { ...spec, ...data },
    },
  }));
}

/** The source a record was generated from, or undefined for a record someone wrote. */
export function generatedFrom(record: KubeObject): SourceRef | undefined {
  const m = record.metadata;
  if (m.labels?.[MANAGED_BY_KEY] !== MANAGED_BY[MANAGED_BY_KEY]) return undefined;
  const id = m.annotations?.[SOURCE_ANNOTATION];
  return id === undefined ? undefined : parseSourceId(id);
}

/** Canonical JSON (object keys sorted), so equal values compare equal whatever their order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** True when the cached record already is as wanted (nothing to apply). */
export function isAsWanted(cached: RecordResource, wanted: Wanted): boolean {
  const m = wanted.manifest.metadata;
  const labels = cached.metadata.labels ?? {};
  const annotations = cached.metadata.annotations ?? {};
  const owners = (cached.metadata as { ownerReferences?: readonly OwnerReference[] })
    .ownerReferences;
  return (
    canonical(cached.spec) === canonical(wanted.manifest.spec) &&
    Object.entries(m.labels ?? {}).every(([k, v]) => labels[k] === v) &&
    Object.entries(m.annotations ?? {}).every(([k, v]) => annotations[k] === v) &&
    canonical((owners ?? []).map((o) => o.uid)) ===
      canonical((m.ownerReferences ?? []).map((o) => o.uid))
  );
}
