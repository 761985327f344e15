/**
 * Starts a real `named` (Debian's bind9) on free loopback ports, in a temporary directory,
 * with a generated named.conf, a TSIG update key and an rndc control-channel key.
 *
 *     const named = await startNamed();
 *     // named.dnsPort, named.rndcPort, named.tsigKey, named.rndcKey, named.dir
 *     await named.stop();
 *
 * Used by the DNS, rndc, controller and CLI tests, the demo and the benchmarks.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatKeyFile, type HmacAlgorithm, SecretKey } from '../../src/dns/keyfile.ts';
import { RndcClient } from '../../src/dns/rndc/client.ts';
import { freePort } from './ports.ts';
import { launchOnFreePorts, ServerProcess } from './process.ts';

export const NAMED_BIN =
  ['/usr/sbin/named', '/usr/bin/named'].find((p) => existsSync(p)) ?? 'named';

/** A zone configured statically in named.conf (for tests that do not use rndc addzone). */
export interface StaticZone {
  readonly name: string;
  /** Zone file text. Default: a minimal zone with SOA and one NS at ns1.<zone>. */
  readonly content?: string;
  /** Keys granted `zonesub ANY` updates. Default: the harness's TSIG key. */
  readonly updateKeys?: readonly string[];
  /** Keys that may transfer the zone, and only these. Default: the harness's TSIG key. */
  readonly transferKeys?: readonly string[];
  /** Extra statements inside the zone block. */
  readonly extra?: string;
}

export interface NamedOptions {
  /** Extra TSIG keys to declare (each may be used in update policies). */
  readonly keys?: readonly SecretKey[];
  /** Algorithm of the default TSIG key. Default hmac-sha256. */
  readonly tsigAlgorithm?: HmacAlgorithm;
  /** Use this key as the TSIG key instead of a fresh one (e.g. one key shared by a primary and its secondary). */
  readonly tsigKey?: SecretKey;
  /** Extra keys the control channel accepts besides `rndcKey` (declared automatically). */
  readonly controlKeys?: readonly SecretKey[];
  readonly zones?: readonly StaticZone[];
  /** Extra text inside `options { }`. */
  readonly options?: string;
  /** Extra top-level named.conf text. */
  readonly config?: string;
  readonly address?: string;
  /** Reuse these ports (for restarts into the same addresses). */
  readonly dnsPort?: number;
  readonly rndcPort?: number;
  /** Reuse this directory (keeps data unless wiped). */
  readonly dir?: string;
  readonly startTimeoutMs?: number;
}

export interface NamedServer {
  readonly address: string;
  readonly dnsPort: number;
  readonly rndcPort: number;
  /** Holds named.conf, the keys, zone files and the NZD database. */
  readonly dir: string;
  /** Where primary zone files go (`directory` in named.conf). */
  readonly zoneDir: string;
  readonly tsigKey: SecretKey;
  readonly rndcKey: SecretKey;
  readonly keys: readonly SecretKey[];
  /** Path of a file holding the TSIG key in `tsig-keygen` form (for nsupdate -k, dig -k). */
  readonly tsigKeyFile: string;
  readonly rndcKeyFile: string;
  /** Everything named wrote to stderr so far (read from a pipe: it can lag behind named). */
  log(): string;
  /** Resolves with the log once it matches `pattern`; rejects after `timeoutMs` (60 s). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * Resolves with the log once it holds everything named logged before the call: it sends
   * a marker command over rndc and waits for named's line about it (named logs the commands
   * it receives in order, and they reach us in order through one pipe).
   */
  logCaughtUp(): Promise<string>;
  /** `rndc showzone` on this named over a connection of its own: the zone's statement. */
  showzone(zone: string): Promise<string>;
  /** Stops named (SIGTERM, then SIGKILL after 5 s) and removes the directory. */
  stop(): Promise<void>;
  /** Stops named but keeps the directory (for restarts). */
  halt(): Promise<void>;
  /** Starts named again on the same ports; `wipe` empties its data first (a lost disk). */
  restart(options?: { wipe?: boolean }): Promise<void>;
  readonly running: boolean;
}

export function generateKey(name: string, algorithm: HmacAlgorithm = 'hmac-sha256'): SecretKey {
  const bytes = algorithm === 'hmac-sha384' || algorithm === 'hmac-sha512' ? 64 : 32;
  return new SecretKey(name, algorithm, randomBytes(bytes));
}

export function minimalZone(name: string): string {
  return [
    '$TTL 300',
    `@ IN SOA ns1.${name}. hostmaster.${name}. 1 3600 600 86400 60`,
    `@ IN NS ns1.${name}.`,
    'ns1 IN A 127.0.0.1',
    '',
  ].join('\n');
}

function renderConfig(
  o: NamedOptions,
  s: { dir: string; address: string; dnsPort: number; rndcPort: number },
  keys: { tsig: SecretKey; rndc: SecretKey; all: readonly SecretKey[] },
): string {
  const zones = (o.zones ?? []).map((z) => {
    const grants = (z.updateKeys ?? [keys.tsig.name])
      .map((k) => `grant "${k}" zonesub ANY;`)
      .join(' ');
    const transfer =
      z.transferKeys === undefined
        ? ''
        : `allow-transfer { ${z.transferKeys.map((k) => `key "${k}";`).join(' ')} };`;
    return `zone "${z.name}" { type primary; file "${z.name}.db"; update-policy { ${grants} }; ${transfer} ${z.extra ?? ''} };`;
  });
  return [
    ...keys.all.map((k) => formatKeyFile(k)),
    'options {',
    `  directory "${s.dir}/zones";`,
    `  pid-file "${s.dir}/named.pid";`,
    `  session-keyfile "${s.dir}/session.key";`,
    `  managed-keys-directory "${s.dir}/zones";`,
    `  listen-on port ${s.dnsPort} { ${s.address}; };`,
    '  listen-on-v6 { none; };',
    '  allow-new-zones yes;',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    `  allow-transfer { key "${keys.tsig.name}"; };`,
    o.options ?? '',
    '};',
    `controls { inet ${s.address} port ${s.rndcPort} allow { ${s.address}; } keys { ${[keys.rndc, ...(o.controlKeys ?? [])].map((k) => `"${k.name}";`).join(' ')} }; };`,
    'logging { channel stderr_log { stderr; severity info; print-time yes; print-category yes; }; category default { stderr_log; }; category update { stderr_log; }; category xfer-out { stderr_log; }; category xfer-in { stderr_log; }; };',
    ...zones,
    o.config ?? '',
    '',
  ].join('\n');
}

/**
 * Every harness named keeps its files below this directory: controllers under test get it
 * as their `--zone-file-root`, so `directory` delivery may write there (and nowhere else).
 */
export const ZONE_FILE_ROOT = tmpdir();

export async function startNamed(options: NamedOptions = {}): Promise<NamedServer> {
  const address = options.address ?? '127.0.0.1';
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'named-')));
  const zoneDir = join(dir, 'zones');
  let dnsPort = options.dnsPort ?? (await freePort(address));
  let rndcPort = options.rndcPort ?? (await freePort(address));
  const tsigKey =
    options.tsigKey ?? generateKey('ctrl-key', options.tsigAlgorithm ?? 'hmac-sha256');
  const rndcKey = generateKey('rndc-key', 'hmac-sha256');
  const allKeys = [tsigKey, rndcKey, ...(options.keys ?? []), ...(options.controlKeys ?? [])];
  const tsigKeyFile = join(dir, 'tsig.key');
  const rndcKeyFile = join(dir, 'rndc.key');
  const confPath = join(dir, 'named.conf');

  async function writeFiles(): Promise<void> {
    await mkdir(zoneDir, { recursive: true });
    await writeFile(tsigKeyFile, formatKeyFile(tsigKey), { mode: 0o600 });
    await writeFile(rndcKeyFile, formatKeyFile(rndcKey), { mode: 0o600 });
    for (const z of options.zones ?? []) {
      await writeFile(join(zoneDir, `${z.name}.db`), z.content ?? minimalZone(z.name));
    }
    await writeFile(
      confPath,
      renderConfig(
        options,
        { dir, address, dnsPort, rndcPort },
        { tsig: tsigKey, rndc: rndcKey, all: allKeys },
      ),
    );
  }

  const server = new ServerProcess({
    label: 'named',
    // -g: foreground, log to stderr; -n 1: one worker is plenty on loopback.
    command: NAMED_BIN,
    args: ['-g', '-n', '1', '-c', confPath],
    ready: (output) => output.includes('running'),
    portTaken: (output) => /address in use/i.test(output),
    address,
    ports: () => [dnsPort, rndcPort],
    // Generous: named starts in about a second here; the wait ends as soon as it is up.
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
  });
  await launchOnFreePorts(server, {
    fixedPorts: options.dnsPort !== undefined || options.rndcPort !== undefined,
    prepare: writeFiles,
    pickPorts: async () => {
      dnsPort = await freePort(address);
      rndcPort = await freePort(address);
    },
  });

  const waitForLog = (pattern: RegExp, timeoutMs?: number) => server.waitForLog(pattern, timeoutMs);

  const showzone = async (zone: string): Promise<string> => {
    const rndc = new RndcClient({ endpoint: { address, port: rndcPort }, key: rndcKey });
    try {
      return await rndc.showzone(zone);
    } finally {
      rndc.close();
    }
  };

  let marks = 0;
  const logCaughtUp = async (): Promise<string> => {
    const mark = `log-mark-${++marks}-${randomBytes(4).toString('hex')}.invalid`;
    // No such zone: named refuses it, but logs the command first.
    await showzone(mark).catch(() => undefined);
    return waitForLog(new RegExp(`command 'showzone ${mark.replaceAll('.', '\\.')}'`));
  };

  return {
    address,
    dnsPort,
    rndcPort,
    dir,
    zoneDir,
    tsigKey,
    rndcKey,
    keys: allKeys,
    tsigKeyFile,
    rndcKeyFile,
    log: () => server.output,
    waitForLog,
    logCaughtUp,
    showzone,
    halt: () => server.halt(),
    async stop() {
      await server.halt();
      if (options.dir === undefined && !process.env.KEEP_NAMED) {
        await rm(dir, { recursive: true, force: true });
      }
    },
    async restart(restartOptions = {}) {
      await server.halt();
      if (restartOptions.wipe) {
        for (const entry of await readdir(zoneDir)) {
          await rm(join(zoneDir, entry), { recursive: true, force: true });
        }
        await writeFiles();
      }
      await server.launch();
    },
    get running() {
      return server.running;
    },
  };
}
