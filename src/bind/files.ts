/**
 * How base zone files reach named (DESIGN.md "BIND9 facts"): a store per instance. The
 * directory store is here; the ConfigMap store is src/kube/configmap-store.ts (it needs
 * the Kubernetes client), structurally the same `ZoneFileStore`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Paths named uses for a primary zone. */
export interface ZoneFiles {
  readonly file: string;
  readonly journal?: string;
}

/** Where base files go: a directory named reads, or a ConfigMap its pods mount. */
export interface ZoneFileStore {
  /**
   * Where the files go, as text (`directory:/var/lib/bind/zones`): a zone ensured through
   * one store is not ensured through another (ensured.ts compares it).
   */
  readonly where: string;
  /**
   * Stores the zone's base file; `file` is the path named opens. `journal`, when given, is
   * where named keeps the zone's journal (for base files on a read-only mount, such as a
   * ConfigMap); otherwise named writes `<file>.jnl`.
   */
  write(zone: string, content: string): Promise<ZoneFiles>;
  /** Removes the zone's base file; no error when it is already gone. */
  remove(zone: string): Promise<void>;
}

export interface DirectoryStoreOptions {
  /** Put journals here (`<zone>.jnl`) instead of beside the base files. */
  readonly journalDirectory?: string;
}

/**
 * Base files as `<directory>/<zone>.db`, written atomically (temporary file, then rename).
 * Writing also removes a journal left from an earlier life of the zone: named would roll
 * it forward onto the new base file and refuse the zone ("journal out of sync").
 */
export function directoryStore(path: string, options: DirectoryStoreOptions = {}): ZoneFileStore {
  const directory = resolve(path);
  const journals = options.journalDirectory && resolve(options.journalDirectory);
  const filesOf = (zone: string): ZoneFiles => {
    const file = join(directory, `${zone}.db`);
    return journals ? { file, journal: join(journals, `${zone}.jnl`) } : { file };
  };
  const journalOf = (files: ZoneFiles) => files.journal ?? `${files.file}.jnl`;
  return {
    where: journals ? `directory:${directory} journals:${journals}` : `directory:${directory}`,
    async write(zone, content) {
      const files = filesOf(zone);
      await mkdir(directory, { recursive: true });
      if (journals) await mkdir(journals, { recursive: true });
      await rm(journalOf(files), { force: true });
      const temporary = `${files.file}.${randomUUID()}.tmp`;
      await writeFile(temporary, content, { mode: 0o644 });
      await rename(temporary, files.file);
      return files;
    },
    async remove(zone) {
      const files = filesOf(zone);
      const journal = journalOf(files);
      for (const f of [files.file, journal, `${journal}.jbk`]) await rm(f, { force: true });
    },
  };
}
