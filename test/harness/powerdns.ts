/**
 * Starts a real PowerDNS Authoritative Server (`pdns_server`, Debian's pdns-server with
 * pdns-backend-lmdb) on a free loopback port, in a temporary directory, with a generated
 * pdns.conf, TSIG keys, and zones loaded from files with `pdnsutil load-zone`.
 *
 *     const pdns = await startPowerDns({ zones: [{ name: 'example.test' }] });
 *     await pdns.stop();
 *
 * The LMDB backend, because PowerDNS applies RFC 2136 UPDATEs only through a backend that
 * stores records (the bind backend answers them NOTIMP). Who may do what is domain
 * metadata: `TSIG-ALLOW-DNSUPDATE` (update) and `TSIG-ALLOW-AXFR` (transfer).
 * `restart({ wipe: true })` loads every zone from its file again, so what UPDATEs changed
 * is gone, as on a server whose zones someone else provisions after it lost its state.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatKeyFile } from '../../src/dns/keyfile.ts';
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

export const PDNS_BIN =
  ['/usr/sbin/pdns_server', '/usr/bin/pdns_server'].find((p) => existsSync(p)) ?? 'pdns_server';
export const PDNSUTIL_BIN =
  ['/usr/bin/pdnsutil', '/usr/sbin/pdnsutil'].find((p) => existsSync(p)) ?? 'pdnsutil';

function renderConfig(s: { dir: string; address: string; dnsPort: number }): string {
  return [
    'launch=lmdb',
    `lmdb-filename=${join(s.dir, 'pdns.lmdb')}`,
    'lmdb-shards=1',
    'lmdb-sync-mode=nometasync',
    `local-address=${s.address}:${s.dnsPort}`,
    `socket-dir=${s.dir}`,
    'guardian=no',
    'daemon=no',
    'disable-syslog=yes',
    'loglevel=6',
    // No security-status query to the outside world (the network rule), no HTTP API.
    'security-poll-suffix=',
    'webserver=no',
    'api=no',
    // Updates from loopback, by the keys of each zone's TSIG-ALLOW-DNSUPDATE.
    'dnsupdate=yes',
    'allow-dnsupdate-from=127.0.0.0/8,::1',
    // Transfers only with a key of the zone's TSIG-ALLOW-AXFR: no address is trusted.
    'allow-axfr-ips=',
    'disable-axfr=no',
    // Answers straight from the backend, so a change is visible at once to every query.
    'cache-ttl=0',
    'negquery-cache-ttl=0',
    'query-cache-ttl=0',
    // No list of zones kept in memory: a zone provisioned while it runs is served at once.
    'zone-cache-refresh-interval=0',
    '',
  ].join('\n');
}

export async function startPowerDns(
  options: ProvisionedServerOptions = {},
): Promise<ProvisionedServer> {
  const parts = await provisionedParts('pdns-', options);
  const { dir, zoneDir, tsigKey, keys, tsigKeyFile } = parts;
  const zones = [...(options.zones ?? [])];
  const pdnsutil = (...args: string[]) => run(PDNSUTIL_BIN, [`--config-dir=${dir}`, ...args]);

  async function provisionZone(z: ProvisionedZone): Promise<void> {
    const file = join(zoneDir, `${z.name}.zone`);
    await writeFile(file, z.content ?? minimalZone(z.name));
    await pdnsutil('load-zone', z.name, file);
    const { update, transfer } = zoneKeys(z, tsigKey);
    if (update.length > 0) await pdnsutil('set-meta', z.name, 'TSIG-ALLOW-DNSUPDATE', ...update);
    await pdnsutil('set-meta', z.name, 'TSIG-ALLOW-AXFR', ...update, ...transfer);
  }

  /** The database anew: every zone from its file, the keys, who may update and transfer. */
  async function provision(): Promise<void> {
    await rm(join(dir, 'pdns.lmdb'), { force: true });
    await rm(join(dir, 'pdns.lmdb-lock'), { force: true });
    for (const z of zones) await provisionZone(z);
    for (const k of keys) {
      await pdnsutil('import-tsig-key', k.name, k.algorithm, k.secret.toString('base64'));
    }
  }

  return launchProvisioned(
    {
      label: 'pdns_server',
      command: PDNS_BIN,
      args: [`--config-dir=${dir}`],
      ready: (output) => output.includes('Done launching threads, ready to distribute questions'),
      portTaken: (output) => /address already in use|unable to bind/i.test(output),
      async prepare(address, dnsPort) {
        await mkdir(zoneDir, { recursive: true });
        await writeFile(tsigKeyFile, formatKeyFile(tsigKey), { mode: 0o600 });
        const config = renderConfig({ dir, address, dnsPort });
        await writeFile(join(dir, 'pdns.conf'), config, { mode: 0o600 });
        await provision();
      },
      reprovision: provision,
      // LMDB is shared between processes: the running server sees the new zone at once.
      async addZone(zone) {
        zones.push(zone);
        await provisionZone(zone);
      },
    },
    options,
    parts,
  );
}
