/**
 * Reads the manifests we ship the way users get them: `kubectl kustomize DIR` renders a
 * kustomization exactly as `kubectl apply -k DIR` would, and we parse the result.
 * Shared by the demo and the deploy tests.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

/** The fields of a Kubernetes object that our tooling reads; the rest is kept as is. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

function isManifest(value: unknown): value is Manifest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const meta = v.metadata as Record<string, unknown> | undefined;
  return (
    typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof meta?.name === 'string'
  );
}

/** Every object of a multi-document YAML text; a document that is not an object is an error. */
export function parseManifests(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  for (const [index, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0) {
      throw new SyntaxError(`${source} document ${index}: ${doc.errors[0]?.message}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isManifest(value)) {
      throw new SyntaxError(`${source} document ${index}: not a Kubernetes object`);
    }
    out.push(value);
  }
  return out;
}

/** The objects `kubectl apply -k dir` would send. */
export async function renderKustomization(dir: string): Promise<Manifest[]> {
  const { stdout } = await run(KUBECTL, ['kustomize', dir], { maxBuffer: 64 * 1024 * 1024 });
  return parseManifests(stdout, `kubectl kustomize ${dir}`);
}

export async function readManifests(file: string): Promise<Manifest[]> {
  return parseManifests(await readFile(file, 'utf8'), file);
}

/** The object of `kind` named `name` among `objects`; throws when it is missing. */
export function findManifest(objects: readonly Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new RangeError(`no ${kind} named ${name}`);
  return found;
}
