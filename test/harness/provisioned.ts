/**
 * What the Knot DNS and PowerDNS harnesses share: a server whose zones are provisioned from
 * files, with the keys each zone lets update it or only transfer it, run as a ServerProcess.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretKey } from '../../src/dns/keyfile.ts';
import { generateKey } from './named.ts';
import { freePort } from './ports.ts';
import { launchOnFreePorts, ServerProcess, type ServerProgram } from './process.ts';

/** A zone provisioned from a file, with the keys its ACL lets update and transfer it. */
export interface ProvisionedZone {
  readonly name: string;
  /** Zone file text. Default: a minimal zone with SOA and one NS at ns1.<zone>. */
  readonly content?: string;
  /** Keys allowed to update and transfer the zone. Default: the harness's TSIG key. */
  readonly updateKeys?: readonly string[];
  /** Keys allowed to transfer the zone but not to update it. */
  readonly transferKeys?: readonly string[];
}

export interface ProvisionedServerOptions {
  readonly zones?: readonly ProvisionedZone[];
  /** Extra TSIG keys to declare (each may be named in a zone's key lists). */
  readonly keys?: readonly SecretKey[];
  /** Use this key as the harness's TSIG key instead of a fresh `ctrl-key`. */
  readonly tsigKey?: SecretKey;
  readonly address?: string;
  /** Reuse this port (for a server started again into the same address). */
  readonly dnsPort?: number;
  readonly startTimeoutMs?: number;
}

/** What the Knot and PowerDNS harnesses give: a server whose zones come from files. */
export interface ProvisionedServer {
  readonly address: string;
  readonly dnsPort: number;
  readonly dir: string;
  /** Where the zone files are. */
  readonly zoneDir: string;
  readonly tsigKey: SecretKey;
  readonly keys: readonly SecretKey[];
  /** Path of a file holding the TSIG key in `tsig-keygen` form (for nsupdate -k, dig -k). */
  readonly tsigKeyFile: string;
  /** Everything the server wrote so far. */
  log(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
  /** Stops the server and keeps its directory. */
  halt(): Promise<void>;
  /**
   * Starts the server again on the same port; `wipe` first rewrites every zone from its
   * original file and forgets all that UPDATEs changed (a server that lost its state).
   */
  restart(options?: { wipe?: boolean }): Promise<void>;
  /** Provisions one more zone while the server runs, as its operator would. */
  addZone(zone: ProvisionedZone): Promise<void>;
  readonly running: boolean;
}

/** Keys by the zones' lists: the harness key updates a zone unless the zone says otherwise. */
export function zoneKeys(zone: ProvisionedZone, tsigKey: SecretKey) {
  return { update: zone.updateKeys ?? [tsigKey.name], transfer: zone.transferKeys ?? [] };
}

/** A fresh directory for one server, with its zone directory, keys and key file paths. */
export async function provisionedParts(prefix: string, options: ProvisionedServerOptions) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const tsigKey = options.tsigKey ?? generateKey('ctrl-key');
  return {
    dir,
    zoneDir: join(dir, 'zones'),
    tsigKey,
    keys: [tsigKey, ...(options.keys ?? [])],
    tsigKeyFile: join(dir, 'tsig.key'),
  };
}

/** How one kind of server is started (ServerProgram without what launchProvisioned knows). */
export interface ProvisionedProgram
  extends Pick<ServerProgram, 'label' | 'command' | 'args' | 'ready' | 'portTaken'> {
  /** Writes the configuration for this address and port, and provisions the zones. */
  readonly prepare: (address: string, dnsPort: number) => Promise<void>;
  /** Puts back the zones as their files say and forgets what UPDATEs changed. */
  readonly reprovision: () => Promise<void>;
  /** Provisions one more zone in the running server. */
  readonly addZone: (zone: ProvisionedZone, server: ServerProcess) => Promise<void>;
}

/**
 * Starts the program on a free loopback port (or the one given), on other ports when that
 * one was taken meanwhile; restart({ wipe: true }) reprovisions before starting again.
 */
export async function launchProvisioned(
  program: ProvisionedProgram,
  options: ProvisionedServerOptions,
  parts: Pick<ProvisionedServer, 'dir' | 'zoneDir' | 'tsigKey' | 'keys' | 'tsigKeyFile'>,
): Promise<ProvisionedServer> {
  const address = options.address ?? '127.0.0.1';
  let dnsPort = options.dnsPort ?? (await freePort(address));
  const server = new ServerProcess({
    ...program,
    address,
    ports: () => [dnsPort],
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
  });
  await launchOnFreePorts(server, {
    fixedPorts: options.dnsPort !== undefined,
    prepare: () => program.prepare(address, dnsPort),
    pickPorts: async () => {
      dnsPort = await freePort(address);
    },
  });
  return {
    ...parts,
    address,
    dnsPort,
    log: () => server.output,
    waitForLog: (pattern, timeoutMs) => server.waitForLog(pattern, timeoutMs),
    halt: () => server.halt(),
    async stop() {
      await server.halt();
      if (!process.env.KEEP_NAMED) await rm(parts.dir, { recursive: true, force: true });
    },
    async restart(restartOptions = {}) {
      await server.halt();
      if (restartOptions.wipe) await program.reprovision();
      await server.launch();
    },
    addZone: (zone) => program.addZone(zone, server),
    get running() {
      return server.running;
    },
  };
}
