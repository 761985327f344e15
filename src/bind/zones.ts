/**
 * Zones on a BIND9 server, through the rndc control channel (DESIGN.md "Data flow"):
 *
 * - `ensureZone` is idempotent. Absent → deliver the base file and `addzone`; present with
 *   the configuration we want → nothing; present but different → `modzone`. A present
 *   zone's file is never rewritten: its data lives in named (and its journal) and only
 *   changes by UPDATE.
 * - `removeZone` → `delzone -clean`, then the base file goes.
 * - `serverFingerprint` is one `status`: a changed boot time or a smaller zone count says
 *   named lost zones (restart with an empty disk) and every zone must be ensured again.
 *
 * Every value that reaches rndc command text is validated first (names.ts). Calls for one
 * zone on one server are expected to be serialized by the caller (the controller runs one
 * reconcile per zone at a time); concurrent calls still end consistent ('already exists'
 * is resolved by comparing), but may rewrite the base file of a zone just added.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { SecretKey } from '../dns/keyfile.ts';
import { isRndcResult, RndcClient } from '../dns/rndc/client.ts';
import type { DnsEndpoint } from '../dns/update-request.ts';
import { ValidationError } from '../errors.ts';
import {
  validateAddress,
  validateHostname,
  validateKeyName,
  validatePath,
  validatePort,
  validateZoneName,
} from './names.ts';
import { renderZoneFile, validateZoneConfig, type ZoneConfig } from './zone-file.ts';

export type { ZoneConfig, ZoneNameServer, ZoneSoa } from './zone-file.ts';

/** Paths named uses for a primary zone. */
export interface ZoneFiles {
  readonly file: string;
  readonly journal?: string;
}

/** How base files reach named: a directory now, a ConfigMap later (controller). */
export interface ZoneFileStore {
  /**
   * Stores the zone's base file; `file` is the path named opens. `journal`, when given, is
   * where named keeps the zone's journal (for base files on a read-only mount, such as a
   * ConfigMap); otherwise named writes `<file>.jnl`.
   */
  write(zone: string, content: string): Promise<ZoneFiles>;
  /** Removes the zone's base file; no error when it is already gone. */
  remove(zone: string): Promise<void>;
}

export interface BindTarget {
  readonly name: string;
  readonly role: 'primary' | 'secondary';
  readonly dns: DnsEndpoint;
  readonly rndc: DnsEndpoint;
  readonly rndcKey: SecretKey;
  /** The controller's TSIG key: granted updates on primaries, signs zone transfers. */
  readonly updateKey: SecretKey;
  /** Primaries: where base zone files go. */
  readonly files?: ZoneFileStore;
  /** Secondaries: where to transfer zones from. */
  readonly primaries?: readonly DnsEndpoint[];
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

// ------------------------------------------------------------ zone statements

/** The body of the zone statement we want named to have: `{ ...; };`. */
export function zoneStatementBody(target: BindTarget, files: ZoneFiles): string {
  const key = `"${validateKeyName(target.updateKey.name, 'updateKey.name')}"`;
  const path = validatePath(files.file, 'file');
  if (target.role === 'primary') {
    const journal =
      files.journal === undefined ? '' : ` journal "${validatePath(files.journal, 'journal')}";`;
    return `{ type primary; file "${path}";${journal} update-policy { grant ${key} zonesub ANY; }; allow-transfer { key ${key}; }; };`;
  }
  const primaries = (target.primaries ?? []).map(
    (p, i) =>
      `${validateAddress(p.address, `primaries[${i}].address`)} port ${validatePort(p.port, `primaries[${i}].port`)} key ${key};`,
  );
  return `{ type secondary; primaries { ${primaries.join(' ')} }; file "${path}"; };`;
}

/** Secondaries keep transferred data in `<zone>.sec` in named's own directory. */
function secondaryFile(zone: string): string {
  return `${zone}.sec`;
}

type Statement = string;

/**
 * A zone configuration as a sorted list of normalized top-level statements, so that
 * named's `showzone` printing (its own clause order, quoting, spacing and `ANY` in quotes)
 * compares equal to what we sent. Older keywords are mapped to their current names.
 */
export function canonicalZoneConfig(text: string): Statement[] {
  const synonyms: Readonly<Record<string, string>> = {
    master: 'primary',
    slave: 'secondary',
    masters: 'primaries',
  };
  const tokens = [...text.matchAll(/"([^"]*)"|([{};])|([^\s{};"]+)/g)].map((m) =>
    m[1] !== undefined
      ? m[1].toLowerCase()
      : (m[2] ?? synonyms[m[3]!.toLowerCase()] ?? m[3]!.toLowerCase()),
  );
  const open = tokens.indexOf('{');
  const statements: Statement[] = [];
  let depth = 0;
  let current: string[] = [];
  for (const token of tokens.slice(open + 1)) {
    if (token === '{') depth++;
    if (token === '}') depth--;
    if (depth < 0) break;
    current.push(token);
    if (token === ';' && depth === 0) {
      statements.push(current.join(' '));
      current = [];
    }
  }
  return statements.sort();
}

/** The `file` and `journal` of a zone in named's configuration text, if it has a file. */
function filesOf(showzone: string): ZoneFiles | undefined {
  const file = /(?:^|[{;\s])file\s+"([^"]*)"/.exec(showzone)?.[1];
  const journal = /(?:^|[{;\s])journal\s+"([^"]*)"/.exec(showzone)?.[1];
  if (file === undefined) return undefined;
  return journal === undefined ? { file } : { file, journal };
}

// ------------------------------------------------------------ ensure / remove

function validateTarget(target: BindTarget): void {
  // The rndc endpoint never enters command text, so a Service host name is fine there;
  // primaries do, and named wants IP addresses in them.
  if (isIP(target.rndc.address) === 0) validateHostname(target.rndc.address, 'rndc.address');
  validatePort(target.rndc.port, 'rndc.port');
  validateKeyName(target.updateKey.name, 'updateKey.name');
  if (target.role === 'primary' && target.files === undefined) {
    throw new ValidationError('files', `primary ${target.name} needs a zone file store`);
  }
  if (target.role === 'secondary' && (target.primaries ?? []).length === 0) {
    throw new ValidationError('primaries', `secondary ${target.name} needs at least one primary`);
  }
  (target.primaries ?? []).forEach((p, i) => {
    validateAddress(p.address, `primaries[${i}].address`);
    validatePort(p.port, `primaries[${i}].port`);
  });
}

async function withClient<T>(
  target: BindTarget,
  rndc: RndcClient | undefined,
  run: (client: RndcClient) => Promise<T>,
): Promise<T> {
  const client = rndc ?? new RndcClient({ endpoint: target.rndc, key: target.rndcKey });
  try {
    return await run(client);
  } finally {
    if (rndc === undefined) client.close();
  }
}

async function showzone(client: RndcClient, zone: string): Promise<string | undefined> {
  try {
    return await client.showzone(zone);
  } catch (error) {
    if (isRndcResult(error, 'not found')) return undefined;
    throw error;
  }
}

/** Delivers what named needs before `addzone`; returns the files named should use. */
async function prepareFile(target: BindTarget, zone: ZoneConfig): Promise<ZoneFiles> {
  if (target.role === 'secondary') return { file: secondaryFile(zone.name) };
  return target.files!.write(zone.name, renderZoneFile(zone));
}

/**
 * Makes the zone exist on the server with the configuration this target calls for.
 * Idempotent; safe against a concurrent `addzone` of the same zone.
 */
export async function ensureZone(
  target: BindTarget,
  zone: ZoneConfig,
  rndc?: RndcClient,
): Promise<'created' | 'unchanged' | 'modified'> {
  const config = validateZoneConfig(zone);
  validateTarget(target);
  return withClient(target, rndc, async (client) => {
    const current = await showzone(client, config.name);
    if (current !== undefined) return reconcile(target, config, client, current);
    try {
      await add(target, config, client);
      return 'created';
    } catch (error) {
      // Someone else added it between our showzone and addzone: compare with theirs.
      if (!isRndcResult(error, 'already exists')) throw error;
      const now = await showzone(client, config.name);
      if (now === undefined) throw error;
      return reconcile(target, config, client, now);
    }
  });
}

async function add(target: BindTarget, config: ZoneConfig, client: RndcClient): Promise<void> {
  const body = zoneStatementBody(target, await prepareFile(target, config));
  await client.addzone(config.name, body);
}

async function reconcile(
  target: BindTarget,
  config: ZoneConfig,
  client: RndcClient,
  current: string,
): Promise<'unchanged' | 'modified'> {
  const statements = canonicalZoneConfig(current);
  if (!statements.includes(`type ${target.role} ;`)) {
    // named applies a modzone that changes the type only at its next reconfiguration
    // (seen with 9.18: showzone says secondary, zonestatus still primary), so a role
    // change is a delete and a fresh add.
    await client.delzone(config.name, { clean: true });
    await add(target, config, client);
    return 'modified';
  }
  // Keep the file the zone already uses: its data (and journal) are named's now.
  const files =
    target.role === 'primary'
      ? (filesOf(current) ?? (await prepareFile(target, config)))
      : { file: secondaryFile(config.name) };
  const body = zoneStatementBody(target, files);
  if (statements.join('\n') === canonicalZoneConfig(body).join('\n')) return 'unchanged';
  await client.modzone(config.name, body);
  return 'modified';
}

/** Deletes the zone and its files. Idempotent. */
export async function removeZone(
  target: BindTarget,
  zoneName: string,
  rndc?: RndcClient,
): Promise<'removed' | 'absent'> {
  const zone = validateZoneName(zoneName);
  return withClient(target, rndc, async (client) => {
    let outcome: 'removed' | 'absent' = 'removed';
    try {
      await client.delzone(zone, { clean: true });
    } catch (error) {
      if (!isRndcResult(error, 'not found')) throw error;
      outcome = 'absent';
    }
    await target.files?.remove(zone);
    return outcome;
  });
}

/** Cheap lost-zone detection: one `status`. */
export async function serverFingerprint(
  target: BindTarget,
  rndc?: RndcClient,
): Promise<{ bootTime: string; zoneCount: number }> {
  return withClient(target, rndc, async (client) => {
    const status = await client.status();
    return { bootTime: status.bootTime, zoneCount: status.zoneCount };
  });
}
