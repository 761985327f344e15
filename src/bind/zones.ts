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
import { join, resolve } from 'node:path';
import { ValidationError } from '../dns/errors.ts';
import type { SecretKey } from '../dns/keyfile.ts';
import { isRndcResult, RndcClient } from '../dns/rndc/client.ts';
import type { DnsEndpoint } from '../dns/update-request.ts';
import {
  validateAddress,
  validateKeyName,
  validatePath,
  validatePort,
  validateZoneName,
} from './names.ts';
import { renderZoneFile, validateZoneConfig, type ZoneConfig } from './zone-file.ts';

export type { ZoneConfig, ZoneNameServer, ZoneSoa } from './zone-file.ts';

/** How base files reach named: a directory now, a ConfigMap later (controller). */
export interface ZoneFileStore {
  /** Stores the zone's base file; `file` is the path named opens. */
  write(zone: string, content: string): Promise<{ file: string }>;
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

/**
 * Base files as `<directory>/<zone>.db`, written atomically (temporary file, then rename).
 * Writing also removes a journal left from an earlier life of the zone: named would roll
 * it forward onto the new base file and refuse the zone ("journal out of sync").
 */
export function directoryStore(path: string): ZoneFileStore {
  const directory = resolve(path);
  const fileOf = (zone: string) => join(directory, `${zone}.db`);
  return {
    async write(zone, content) {
      const file = fileOf(zone);
      await mkdir(directory, { recursive: true });
      await rm(`${file}.jnl`, { force: true });
      const temporary = `${file}.${randomUUID()}.tmp`;
      await writeFile(temporary, content, { mode: 0o644 });
      await rename(temporary, file);
      return { file };
    },
    async remove(zone) {
      const file = fileOf(zone);
      for (const f of [file, `${file}.jnl`, `${file}.jbk`]) await rm(f, { force: true });
    },
  };
}

// ------------------------------------------------------------ zone statements

/** The body of the zone statement we want named to have: `{ ...; };`. */
export function zoneStatementBody(target: BindTarget, file: string): string {
  const key = `"${validateKeyName(target.updateKey.name, 'updateKey.name')}"`;
  const path = validatePath(file, 'file');
  if (target.role === 'primary') {
    return `{ type primary; file "${path}"; update-policy { grant ${key} zonesub ANY; }; allow-transfer { key ${key}; }; };`;
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

/** The value of the zone's `file` statement in named's configuration text, if any. */
function fileOf(showzone: string): string | undefined {
  return /(?:^|[{;\s])file\s+"([^"]*)"/.exec(showzone)?.[1];
}

// ------------------------------------------------------------ ensure / remove

function validateTarget(target: BindTarget): void {
  validateAddress(target.rndc.address, 'rndc.address');
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

/** Delivers what named needs before `addzone`; returns the file named should use. */
async function prepareFile(target: BindTarget, zone: ZoneConfig): Promise<string> {
  if (target.role === 'secondary') return secondaryFile(zone.name);
  const { file } = await target.files!.write(zone.name, renderZoneFile(zone));
  return file;
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
  const file =
    target.role === 'primary'
      ? (fileOf(current) ?? (await prepareFile(target, config)))
      : secondaryFile(config.name);
  const body = zoneStatementBody(target, file);
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
