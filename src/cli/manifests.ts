/**
 * Resource manifests read from files, for `plan` and `apply` without an API server:
 * multi-document YAML (or JSON), directories walked recursively, every document validated
 * with the same schemas the CRDs carry, then grouped into zones with the same desired-state
 * code the controller runs. Every problem names the file, the document and the field;
 * callers send nothing when there is any.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { objectId, resourceKey } from '../api/ids.ts';
import { type DNSZone, isKindName, type RecordResource } from '../api/kinds.ts';
import { API_GROUP_VERSION } from '../api/meta.ts';
import { isRecordKind } from '../api/records.ts';
import { validateResource } from '../api/validate.ts';
import { normalizeName } from '../dns/rrset.ts';
import { belongsToZone, type DesiredState, desiredState } from '../reconcilers/desired.ts';

/** Where a document came from: the file and its position (1-based) in that file. */
export interface Source {
  readonly file: string;
  readonly document: number;
}

export interface ManifestIssue {
  readonly source: Source;
  /** `Kind namespace/name` when known. */
  readonly object?: string;
  readonly field?: string;
  readonly message: string;
}

export interface Loaded<T> {
  readonly source: Source;
  readonly object: T;
}

export interface ZoneManifests {
  readonly zone: Loaded<DNSZone>;
  readonly records: Loaded<RecordResource>[];
  readonly desired: DesiredState;
}

export interface ManifestSet {
  readonly zones: ZoneManifests[];
  readonly issues: ManifestIssue[];
  /** Documents of other APIs or kinds the CLI has no use for (e.g. Namespace, Bind9Instance). */
  readonly ignored: Source[];
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** The files named, directories expanded recursively to their YAML/JSON files, sorted. */
export async function manifestFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      const found = entries
        .filter((e) => e.isFile() && MANIFEST_FILE.test(e.name))
        .map((e) => join(e.parentPath, e.name));
      files.push(...found.sort());
    } else {
      files.push(path);
    }
  }
  return [...new Set(files)];
}

export function formatIssue(issue: ManifestIssue): string {
  const where = `${issue.source.file}: document ${issue.source.document}`;
  const what = issue.object === undefined ? '' : ` (${issue.object})`;
  const field = issue.field === undefined ? '' : `${issue.field}: `;
  return `${where}${what}: ${field}${issue.message}`;
}

interface RawDocument {
  readonly source: Source;
  readonly value: unknown;
}

/** Every non-empty document of one file; YAML syntax errors become issues. */
async function readDocuments(
  file: string,
): Promise<{ docs: RawDocument[]; issues: ManifestIssue[] }> {
  const docs: RawDocument[] = [];
  const issues: ManifestIssue[] = [];
  const parsed = parseAllDocuments(await readFile(file, 'utf8'));
  const list = Array.isArray(parsed) ? parsed : [parsed];
  list.forEach((doc, i) => {
    const source = { file, document: i + 1 };
    const error = doc.errors[0];
    if (error !== undefined) issues.push({ source, message: `YAML: ${error.message.trim()}` });
    else {
      const value: unknown = doc.toJS();
      if (value !== null && value !== undefined) docs.push({ source, value });
    }
  });
  return { docs, issues };
}

/** The namespace of a manifest that names none, as kubectl would apply it. */
const DEFAULT_NAMESPACE = 'default';

function describeObject(value: Record<string, unknown>): string | undefined {
  const metadata = value.metadata as { name?: unknown; namespace?: unknown } | undefined;
  if (typeof value.kind !== 'string' || typeof metadata?.name !== 'string') return undefined;
  const ns = typeof metadata.namespace === 'string' ? metadata.namespace : DEFAULT_NAMESPACE;
  return `${value.kind} ${ns}/${metadata.name}`;
}

/** The object with its namespace filled in: from here on every object has one (api/meta.ts). */
function namespacedObject<T extends { readonly metadata: { readonly namespace: string } }>(
  value: T,
): T {
  const namespace = (value.metadata as { namespace?: string }).namespace ?? DEFAULT_NAMESPACE;
  return { ...value, metadata: { ...value.metadata, namespace } };
}

type Checked =
  | { readonly kind: 'zone'; readonly loaded: Loaded<DNSZone> }
  | { readonly kind: 'record'; readonly loaded: Loaded<RecordResource> }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'invalid'; readonly issues: ManifestIssue[] };

/** Validates one document against its kind's schema; other APIs and kinds are ignored. */
function checkDocument(doc: RawDocument): Checked {
  const value = doc.value as Record<string, unknown>;
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'invalid', issues: [{ source: doc.source, message: 'not an object' }] };
  }
  const kind = value.kind;
  if (value.apiVersion !== API_GROUP_VERSION || typeof kind !== 'string')
    return { kind: 'ignored' };
  // Servers are the controller's business: the CLI talks to the one given on its command line.
  if (!isKindName(kind) || kind === 'Bind9Instance' || kind === 'Bind9Cluster') {
    return { kind: 'ignored' };
  }
  const result = validateResource(kind, value);
  const object = describeObject(value);
  if (!result.ok) {
    const issues = result.errors.map((e) => ({ source: doc.source, object, ...e }));
    return { kind: 'invalid', issues };
  }
  if (kind === 'DNSZone') {
    const object = namespacedObject(result.value as DNSZone);
    return { kind: 'zone', loaded: { source: doc.source, object } };
  }
  if (!isRecordKind(kind)) return { kind: 'ignored' };
  const record = namespacedObject(result.value as RecordResource);
  return { kind: 'record', loaded: { source: doc.source, object: record } };
}

/** `namespace/name` of a DNSZone document that failed validation. */
function invalidZoneKey(value: unknown): string | undefined {
  const described = describeObject(value as Record<string, unknown>);
  return described?.startsWith('DNSZone ') ? described.slice('DNSZone '.length) : undefined;
}

/** Two DNSZone objects with one name, or two for one zone: the CLI could not tell which wins. */
function duplicateZones(zones: readonly Loaded<DNSZone>[]): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const byName = new Map<string, Loaded<DNSZone>>();
  const byZone = new Map<string, Loaded<DNSZone>>();
  for (const z of zones) {
    const object = `DNSZone ${objectId(z.object.metadata)}`;
    const zoneName = normalizeName(z.object.spec.zoneName);
    const first = byName.get(objectId(z.object.metadata)) ?? byZone.get(zoneName);
    if (first !== undefined) {
      const message = `duplicates the DNSZone of ${first.source.file}: document ${first.source.document}`;
      issues.push({ source: z.source, object, field: 'spec.zoneName', message });
      continue;
    }
    byName.set(objectId(z.object.metadata), z);
    byZone.set(zoneName, z);
  }
  return issues;
}

/** Records whose zone is in no manifest, and records the desired-state rules refuse. */
function zoneIssues(
  zones: readonly ZoneManifests[],
  records: readonly Loaded<RecordResource>[],
  invalidZones: ReadonlySet<string>,
) {
  const issues: ManifestIssue[] = [];
  for (const r of records) {
    if (zones.some((z) => belongsToZone(r.object, z.zone.object))) continue;
    // Its zone is there but invalid, and already reported: one message is enough.
    const namespace = r.object.metadata.namespace;
    if (invalidZones.has(objectId({ namespace, name: r.object.spec.zone }))) continue;
    const message = `no DNSZone named "${r.object.spec.zone}" in namespace ${namespace} among the manifests`;
    issues.push({
      source: r.source,
      object: `${r.object.kind} ${objectId(r.object.metadata)}`,
      field: 'spec.zone',
      message,
    });
  }
  for (const z of zones) {
    for (const r of z.records) {
      const outcome = z.desired.outcomes.get(resourceKey(r.object));
      if (outcome === undefined || outcome.ok) continue;
      const object = `${r.object.kind} ${objectId(r.object.metadata)}`;
      const message = `${outcome.reason}: ${outcome.message}`;
      issues.push({ source: r.source, object, field: outcome.field, message });
    }
  }
  return issues;
}

/**
 * Loads, validates and groups manifests. The order of documents decides which of two
 * conflicting records wins (manifests carry no creation time): the first one read.
 */
export async function loadManifests(paths: readonly string[]): Promise<ManifestSet> {
  const issues: ManifestIssue[] = [];
  const ignored: Source[] = [];
  const zoneDocs: Loaded<DNSZone>[] = [];
  const records: Loaded<RecordResource>[] = [];
  const invalidZones = new Set<string>();
  for (const file of await manifestFiles(paths)) {
    const read = await readDocuments(file);
    issues.push(...read.issues);
    for (const doc of read.docs) {
      const checked = checkDocument(doc);
      if (checked.kind === 'zone') zoneDocs.push(checked.loaded);
      else if (checked.kind === 'record') records.push(checked.loaded);
      else if (checked.kind === 'ignored') ignored.push(doc.source);
      else {
        issues.push(...checked.issues);
        const zone = invalidZoneKey(doc.value);
        if (zone !== undefined) invalidZones.add(zone);
      }
    }
  }
  issues.push(...duplicateZones(zoneDocs));
  const zones = zoneDocs.map((zone) => {
    const mine = records.filter((r) => belongsToZone(r.object, zone.object));
    // Order of reading stands in for age: stamp it so "oldest wins" means "first read".
    const stamped = mine.map((r, i) => ({
      ...r.object,
      metadata: { ...r.object.metadata, creationTimestamp: new Date(i * 1000).toISOString() },
    }));
    return { zone, records: mine, desired: desiredState(zone.object, stamped) };
  });
  issues.push(...zoneIssues(zones, records, invalidZones));
  issues.sort((a, b) =>
    a.source.file === b.source.file
      ? a.source.document - b.source.document
      : a.source.file < b.source.file
        ? -1
        : 1,
  );
  return { zones, issues, ignored };
}
