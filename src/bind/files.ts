/**
 * How base zone files reach named (DESIGN.md "BIND9 facts"): a store per instance. The
 * directory store is here; the ConfigMap store is src/kube/configmap-store.ts (it needs
 * the Kubernetes client), structurally the same `ZoneFileStore`.
 */
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { access, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { PermanentError } from '../errors.ts';
import { isRenderedBaseFile } from './zone-file.ts';

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

/** Base files may not go where the operator did not allow, nor replace what we did not write. */
export function deliveryRefused(message: string): PermanentError {
  return new PermanentError('DELIVERY_REFUSED', message);
}

/**
 * Beside each base file the controller writes `<file>.bind9-controller`: the mark that the
 * base file and its journal are ours to replace and remove. A mark in the file itself would
 * not last: named rewrites the base file of a dynamic zone when it dumps the zone. A base
 * file that starts with the header renderZoneFile writes (older controllers wrote no mark)
 * counts as ours too.
 */
const MARK_SUFFIX = '.bind9-controller';
const MARK_TEXT =
  'The base zone file beside this one and its journal were written by bind9-controller;\n' +
  'it replaces them, and removes them with the zone. It leaves any other file alone.\n';

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function firstLine(path: string): Promise<string> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return '';
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, 256, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').split('\n', 1)[0] ?? '';
  } finally {
    await handle.close();
  }
}

async function isOurs(file: string): Promise<boolean> {
  return (await exists(`${file}${MARK_SUFFIX}`)) || isRenderedBaseFile(await firstLine(file));
}

/**
 * Base files as `<directory>/<zone>.db`, written atomically (temporary file, then rename).
 * Writing also removes a journal left from an earlier life of the zone: named would roll
 * it forward onto the new base file and refuse the zone ("journal out of sync"). A base
 * file or journal that is there and not ours (no mark, no header) is neither replaced nor
 * removed: the write is refused (DELIVERY_REFUSED) and a removal leaves it.
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
      const journal = journalOf(files);
      if (!(await isOurs(files.file))) {
        for (const f of [files.file, journal]) {
          if (await exists(f)) {
            throw deliveryRefused(
              `${f} exists and was not written by bind9-controller: it is left as it is; remove it, or deliver the zone's base file to another directory`,
            );
          }
        }
      }
      await mkdir(directory, { recursive: true });
      if (journals) await mkdir(journals, { recursive: true });
      await writeFile(`${files.file}${MARK_SUFFIX}`, MARK_TEXT, { mode: 0o644 });
      await rm(journal, { force: true });
      const temporary = `${files.file}.${randomUUID()}.tmp`;
      await writeFile(temporary, content, { mode: 0o644 });
      await rename(temporary, files.file);
      return files;
    },
    async remove(zone) {
      const files = filesOf(zone);
      if (!(await isOurs(files.file))) return;
      const journal = journalOf(files);
      // The mark goes last: a removal cut short is finished by the next one.
      for (const f of [journal, `${journal}.jbk`, files.file, `${files.file}${MARK_SUFFIX}`]) {
        await rm(f, { force: true });
      }
    },
  };
}

/**
 * Directory delivery confined to the roots the operator gave the controller
 * (`--zone-file-root`): a Bind9Instance names a path, and without this check any path the
 * controller's user may write. `path` must be a root or lie below one, also once symbolic
 * links in the part that exists are followed. No roots: directory delivery is off.
 */
export function confinedDirectoryStore(
  path: string,
  roots: readonly string[],
  options: DirectoryStoreOptions = {},
): ZoneFileStore {
  if (roots.length === 0) {
    throw deliveryRefused(
      `directory delivery is off: the controller was started without --zone-file-root, so it writes no base files to ${path}; use configMap delivery, or start it with --zone-file-root covering that directory`,
    );
  }
  const allowed = roots.flatMap((root) => [resolve(root), realExisting(resolve(root))]);
  const inside = (p: string) => allowed.some((root) => within(p, root));
  const resolved = resolve(path);
  if (!inside(resolved) || !inside(realExisting(resolved))) {
    throw deliveryRefused(
      `directory ${path} is outside the roots the controller may write base files to (${roots.join(', ')}); choose a directory below one of them`,
    );
  }
  return directoryStore(resolved, options);
}

function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** `path` with symbolic links resolved in its longest existing prefix (roots included). */
function realExisting(path: string): string {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(head), ...tail.reverse());
    } catch {
      const parent = dirname(head);
      if (parent === head) return path;
      tail.push(head.slice(parent.length + (parent.endsWith('/') ? 0 : 1)));
      head = parent;
    }
  }
}
