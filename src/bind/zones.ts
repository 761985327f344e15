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
import { isIP } from 'node:net';
import { isRndcResult, RndcClient } from '../dns/rndc/client.ts';
import { TransientError, ValidationError } from '../errors.ts';
import type { ZoneFiles } from './files.ts';
import {
  validateAddress,
  validateHostname,
  validateKeyName,
  validatePath,
  validatePort,
  validateZoneName,
} from './names.ts';
import type { InstanceTarget, RndcAccess } from './target.ts';
import { renderZoneFile, validateZoneConfig, type ZoneConfig } from './zone-file.ts';

export type { ZoneConfig, ZoneNameServer, ZoneSoa } from './zone-file.ts';

// ------------------------------------------------------------ zone statements

/** The body of the zone statement we want named to have: `{ ...; };`. */
export function zoneStatementBody(target: InstanceTarget, files: ZoneFiles): string {
  const key = `"${validateKeyName(target.tsigKey.name, 'tsigKey.name')}"`;
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

/** The control channel of a target; one without is not ours to create zones on. */
function rndcOf(target: InstanceTarget): RndcAccess {
  if (target.rndc !== undefined) return target.rndc;
  throw new ValidationError(
    'rndc',
    `${target.id} has no rndc endpoint: its zones are provisioned outside the controller`,
  );
}

function validateTarget(target: InstanceTarget): void {
  // The rndc endpoint never enters command text, so a Service host name is fine there;
  // primaries do, and named wants IP addresses in them.
  const { endpoint } = rndcOf(target);
  if (isIP(endpoint.address) === 0) validateHostname(endpoint.address, 'rndc.address');
  validatePort(endpoint.port, 'rndc.port');
  validateKeyName(target.tsigKey.name, 'tsigKey.name');
  if (target.role === 'primary' && target.files === undefined) {
    throw new ValidationError('files', `primary ${target.id} needs a zone file store`);
  }
  if (target.role === 'secondary' && (target.primaries ?? []).length === 0) {
    throw new ValidationError('primaries', `secondary ${target.id} needs at least one primary`);
  }
  (target.primaries ?? []).forEach((p, i) => {
    validateAddress(p.address, `primaries[${i}].address`);
    validatePort(p.port, `primaries[${i}].port`);
  });
}

async function withClient<T>(
  target: InstanceTarget,
  rndc: RndcClient | undefined,
  run: (client: RndcClient) => Promise<T>,
): Promise<T> {
  const client = rndc ?? new RndcClient(rndcOf(target));
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
async function prepareFile(target: InstanceTarget, zone: ZoneConfig): Promise<ZoneFiles> {
  if (target.role === 'secondary') return { file: secondaryFile(zone.name) };
  return target.files!.write(zone.name, renderZoneFile(zone));
}

/**
 * Makes the zone exist on the server with the configuration this target calls for.
 * Idempotent; safe against a concurrent `addzone` of the same zone.
 */
export async function ensureZone(
  target: InstanceTarget,
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

async function add(target: InstanceTarget, config: ZoneConfig, client: RndcClient): Promise<void> {
  const files = await prepareFile(target, config);
  const body = zoneStatementBody(target, files);
  try {
    await client.addzone(config.name, body);
  } catch (error) {
    if (!isRndcResult(error, 'file not found') || target.role === 'secondary') throw error;
    throw notDelivered(target, config.name, files.file, error);
  }
}

/**
 * The base file was delivered, but named cannot open it yet. With configMap delivery that
 * is the usual first minute: the kubelet refreshes a ConfigMap volume about once a minute.
 * With directory delivery it means named reads another directory than the one written.
 */
function notDelivered(target: InstanceTarget, zone: string, file: string, cause: unknown) {
  const where = target.files?.where ?? 'the base-file store';
  const configMap = where.startsWith('configMap:');
  const why = configMap
    ? 'the kubelet refreshes a ConfigMap volume about once a minute, so a new base file reaches the pod within about a minute'
    : 'the directory written is not the one named reads, or named may not read it';
  return new TransientError(
    'BASE_FILE_NOT_DELIVERED',
    `named cannot open the base file ${file} of zone ${zone} yet (${where}): ${why}; looked at again every few seconds`,
    { cause, detail: { zone, file } },
  );
}

/** What a present zone needs to become what this target calls for. */
type Needed =
  | { readonly action: 'none' }
  | { readonly action: 'replace' }
  | { readonly action: 'modify'; readonly body: string };

function needed(target: InstanceTarget, config: ZoneConfig, current: string): Needed | 'file' {
  const statements = canonicalZoneConfig(current);
  // named applies a modzone that changes the type only at its next reconfiguration (seen
  // with 9.18: showzone says secondary, zonestatus still primary), so a role change is a
  // delete and a fresh add.
  if (!statements.includes(`type ${target.role} ;`)) return { action: 'replace' };
  // Keep the file the zone already uses: its data (and journal) are named's now.
  const files = target.role === 'primary' ? filesOf(current) : { file: secondaryFile(config.name) };
  if (files === undefined) return 'file';
  const body = zoneStatementBody(target, files);
  if (statements.join('\n') === canonicalZoneConfig(body).join('\n')) return { action: 'none' };
  return { action: 'modify', body };
}

async function reconcile(
  target: InstanceTarget,
  config: ZoneConfig,
  client: RndcClient,
  current: string,
): Promise<'unchanged' | 'modified'> {
  let need = needed(target, config, current);
  if (need === 'file') {
    const body = zoneStatementBody(target, await prepareFile(target, config));
    need = { action: 'modify', body };
  }
  if (need.action === 'none') return 'unchanged';
  if (need.action === 'replace') {
    await client.delzone(config.name, { clean: true });
    await add(target, config, client);
  } else {
    await client.modzone(config.name, need.body);
  }
  return 'modified';
}

/**
 * What `ensureZone` would do, without doing it (the CLI's `plan --rndc`): one showzone,
 * nothing written.
 */
export async function ensureNeeded(
  target: InstanceTarget,
  zone: ZoneConfig,
): Promise<'created' | 'unchanged' | 'modified'> {
  const config = validateZoneConfig(zone);
  validateTarget(target);
  return withClient(target, undefined, async (client) => {
    const current = await showzone(client, config.name);
    if (current === undefined) return 'created';
    const need = needed(target, config, current);
    return need !== 'file' && need.action === 'none' ? 'unchanged' : 'modified';
  });
}

/** Deletes the zone and its files. Idempotent. */
export async function removeZone(
  target: InstanceTarget,
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

/** A secondary transfers the zone again now (`rndc retransfer`). */
export async function retransferZone(target: InstanceTarget, zoneName: string): Promise<void> {
  const zone = validateZoneName(zoneName);
  await withClient(target, undefined, (client) => client.retransfer(zone));
}

/**
 * How long a health probe waits for named's answer to `status`: named answers it at once,
 * and a probe that waits long only delays the news that the server is gone.
 */
export const PROBE_TIMEOUT_MS = 3_000;

/** Cheap lost-zone detection: one `status`, bounded by PROBE_TIMEOUT_MS. */
export async function serverFingerprint(
  target: InstanceTarget,
  rndc?: RndcClient,
): Promise<{ bootTime: string; zoneCount: number }> {
  const read = async (client: RndcClient) => {
    const status = await client.status();
    return { bootTime: status.bootTime, zoneCount: status.zoneCount };
  };
  if (rndc !== undefined) return read(rndc);
  const client = new RndcClient({ ...rndcOf(target), timeoutMs: PROBE_TIMEOUT_MS });
  try {
    return await read(client);
  } finally {
    client.close();
  }
}
