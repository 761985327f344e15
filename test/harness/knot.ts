/**
 * Starts a real Knot DNS (`knotd`, Debian's knot) on a free loopback port, in a temporary
 * directory, with a generated knot.conf, TSIG keys and zones provisioned from files.
 *
 *     const knot = await startKnot({ zones: [{ name: 'example.test' }] });
 *     // knot.dnsPort, knot.tsigKey, knot.tsigKeyFile, knot.dir
 *     await knot.stop();
 *
 * The files are never written back (`zonefile-sync: -1`): what UPDATEs change lives in
 * Knot's journal, which `restart({ wipe: true })` removes, so the server serves its files
 * again, as one whose zones someone else provisions does after it lost its state.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatKeyFile, type SecretKey } from '../../src/dns/keyfile.ts';
import { minimalZone } from './named.ts';
import {
  launchProvisioned,
  type ProvisionedServer,
  type ProvisionedServerOptions,
  type ProvisionedZone,
  provisionedParts,
  zoneKeys,
} from './provisioned.ts';

const run = promisify(execFile);

export const KNOTC_BIN =
  ['/usr/sbin/knotc', '/usr/bin/knotc'].find((p) => existsSync(p)) ?? 'knotc';
export const KNOTD_BIN =
  ['/usr/sbin/knotd', '/usr/bin/knotd'].find((p) => existsSync(p)) ?? 'knotd';

function quoted(text: string): string {
  return JSON.stringify(text);
}

function renderConfig(
  zones: readonly ProvisionedZone[],
  s: { dir: string; address: string; dnsPort: number },
  keys: { tsig: SecretKey; all: readonly SecretKey[] },
): string {
  const acls: string[] = [];
  const zoneLines: string[] = [];
  zones.forEach((zone, i) => {
    const { update, transfer } = zoneKeys(zone, keys.tsig);
    const ids: string[] = [];
    const acl = (id: string, list: readonly string[], action: string) => {
      if (list.length === 0) return;
      ids.push(id);
      acls.push(`  - id: ${id}`, `    key: [${list.join(', ')}]`, `    action: ${action}`);
    };
    acl(`update-${i}`, update, '[transfer, update]');
    acl(`transfer-${i}`, transfer, 'transfer');
    zoneLines.push(`  - domain: ${quoted(zone.name)}`, `    file: ${quoted(`${zone.name}.zone`)}`);
    if (ids.length > 0) zoneLines.push(`    acl: [${ids.join(', ')}]`);
  });
  return [
    'server:',
    `    rundir: ${quoted(s.dir)}`,
    `    pidfile: ${quoted(join(s.dir, 'knot.pid'))}`,
    `    listen: ${s.address}@${s.dnsPort}`,
    'database:',
    `    storage: ${quoted(join(s.dir, 'db'))}`,
    'control:',
    `    listen: ${quoted(join(s.dir, 'knot.sock'))}`,
    'log:',
    '  - target: stderr',
    '    any: info',
    'key:',
    ...keys.all.flatMap((k) => [
      `  - id: ${k.name}`,
      `    algorithm: ${k.algorithm}`,
      `    secret: ${k.secret.toString('base64')}`,
    ]),
    ...(acls.length > 0 ? ['acl:', ...acls] : []),
    'template:',
    '  - id: default',
    `    storage: ${quoted(join(s.dir, 'zones'))}`,
    // Load the file, never write it back, keep changes in the journal (module comment).
    '    zonefile-load: whole',
    '    zonefile-sync: -1',
    '    journal-content: changes',
    ...(zoneLines.length > 0 ? ['zone:', ...zoneLines] : []),
    '',
  ].join('\n');
}

export async function startKnot(
  options: ProvisionedServerOptions = {},
): Promise<ProvisionedServer> {
  const parts = await provisionedParts('knot-', options);
  const { dir, zoneDir, tsigKey, keys, tsigKeyFile } = parts;
  const confPath = join(dir, 'knot.conf');
  const zones = [...(options.zones ?? [])];
  let listen = { address: '', dnsPort: 0 };

  async function writeConfig(): Promise<void> {
    const config = renderConfig(zones, { dir, ...listen }, { tsig: tsigKey, all: keys });
    await writeFile(confPath, config, { mode: 0o600 });
  }

  /** The zone files as provisioned, and no journal: nothing UPDATEs changed survives. */
  async function writeZones(): Promise<void> {
    await rm(join(dir, 'db'), { recursive: true, force: true });
    await mkdir(join(dir, 'db'), { recursive: true });
    await mkdir(zoneDir, { recursive: true });
    for (const z of zones) {
      await writeFile(join(zoneDir, `${z.name}.zone`), z.content ?? minimalZone(z.name));
    }
  }

  return launchProvisioned(
    {
      label: 'knotd',
      command: KNOTD_BIN,
      args: ['-c', confPath],
      // Knot says it started before it has loaded its zones, which it then does one by one.
      ready: (output) =>
        output.includes('server started') &&
        zones.every((z) => output.includes(`[${z.name}.] loaded,`)),
      portTaken: (output) => /address (already )?in use/i.test(output),
      async prepare(address, dnsPort) {
        listen = { address, dnsPort };
        await writeZones();
        await writeFile(tsigKeyFile, formatKeyFile(tsigKey), { mode: 0o600 });
        await writeConfig();
      },
      reprovision: writeZones,
      // knotc reload: the configuration again, and the zones it adds, loaded from their files.
      async addZone(zone, server) {
        zones.push(zone);
        await writeFile(join(zoneDir, `${zone.name}.zone`), zone.content ?? minimalZone(zone.name));
        await writeConfig();
        await run(KNOTC_BIN, ['-c', confPath, 'reload']);
        await server.waitForLog(new RegExp(`\\[${zone.name.replaceAll('.', '\\.')}\\.\\] loaded,`));
      },
    },
    options,
    parts,
  );
}
