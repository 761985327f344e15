/**
 * `bind9-controller crds [--out DIR] [--check]`: writes the CRD YAML generated from
 * src/api, or with `--check` only compares it with DIR and exits 1 naming each file that
 * differs, is missing, or is stale (a CRD file of ours that is no longer generated).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCrdFiles } from '../api/crd.ts';
import { API_GROUP } from '../api/meta.ts';

export interface CrdsOptions {
  readonly out: string;
  readonly check: boolean;
}

export interface CrdDrift {
  readonly file: string;
  readonly problem: 'differs' | 'missing' | 'stale';
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** How `dir` differs from the generated files; empty when it is up to date. */
export async function crdDrift(dir: string): Promise<CrdDrift[]> {
  const generated = generateCrdFiles();
  const drift: CrdDrift[] = [];
  for (const [file, content] of generated) {
    const existing = await readOrUndefined(join(dir, file));
    if (existing === undefined) drift.push({ file, problem: 'missing' });
    else if (existing !== content) drift.push({ file, problem: 'differs' });
  }
  for (const file of await listDir(dir)) {
    if (file.startsWith(`${API_GROUP}_`) && !generated.has(file)) {
      drift.push({ file, problem: 'stale' });
    }
  }
  return drift;
}

/** Writes every generated file into `dir`; returns the names written. */
export async function writeCrds(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = generateCrdFiles();
  for (const [file, content] of files) await writeFile(join(dir, file), content);
  return [...files.keys()];
}

export function parseCrdsArgs(args: readonly string[]): CrdsOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      out: { type: 'string', default: 'crds' },
      check: { type: 'boolean', default: false },
    },
    strict: true,
  });
  return { out: values.out, check: values.check };
}

export async function runCrds(args: readonly string[]): Promise<number> {
  const options = parseCrdsArgs(args);
  if (!options.check) {
    const written = await writeCrds(options.out);
    console.log(`wrote ${written.length} files to ${options.out}`);
    return 0;
  }
  const drift = await crdDrift(options.out);
  for (const { file, problem } of drift) {
    console.error(`${join(options.out, file)}: ${problem}`);
  }
  if (drift.length > 0) {
    console.error('CRDs are out of date: run `npm run crds` and commit the result.');
    return 1;
  }
  return 0;
}
