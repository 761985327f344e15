/**
 * The three authoritative servers the record layer is tested against, behind one shape:
 * BIND9 (named), Knot DNS and PowerDNS, each started unprivileged on a loopback port with
 * generated configuration, TSIG keys, and zones provisioned from files.
 *
 *     for (const kind of SERVER_KINDS) {
 *       describe(`... against ${SERVER_NAMES[kind]}`, () => {
 *         const server = await startRecordServer(kind, { zones: [{ name: 'x.test' }] });
 *       });
 *     }
 *
 * A zone's key lists say who may update it and who may only transfer it, written as each
 * server spells it: BIND9 `update-policy` + `allow-transfer`, Knot `acl`, PowerDNS
 * `TSIG-ALLOW-DNSUPDATE` + `TSIG-ALLOW-AXFR` metadata.
 */
import type { SecretKey } from '../../src/dns/keyfile.ts';
import type { DnsEndpoint } from '../../src/dns/update-request.ts';
import { startKnot } from './knot.ts';
import { generateKey, startNamed } from './named.ts';
import { startPowerDns } from './powerdns.ts';

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
  readonly running: boolean;
}

/** Keys by the zones' lists: the harness key updates a zone unless the zone says otherwise. */
export function zoneKeys(zone: ProvisionedZone, tsigKey: SecretKey) {
  return { update: zone.updateKeys ?? [tsigKey.name], transfer: zone.transferKeys ?? [] };
}

export type ServerKind = 'bind9' | 'knot' | 'powerdns';
export const SERVER_KINDS: readonly ServerKind[] = ['bind9', 'knot', 'powerdns'];
export const SERVER_NAMES: Readonly<Record<ServerKind, string>> = {
  bind9: 'BIND9',
  knot: 'Knot DNS',
  powerdns: 'PowerDNS',
};

export interface RecordServer extends ProvisionedServer {
  readonly kind: ServerKind;
  readonly endpoint: DnsEndpoint;
}

type Starter = (
  options: ProvisionedServerOptions & { readonly tsigKey: SecretKey },
) => Promise<ProvisionedServer>;

const startBind9: Starter = (options) =>
  startNamed({
    ...options,
    zones: (options.zones ?? []).map((z) => {
      const { update, transfer } = zoneKeys(z, options.tsigKey);
      return {
        name: z.name,
        ...(z.content === undefined ? {} : { content: z.content }),
        updateKeys: update,
        transferKeys: [...update, ...transfer],
      };
    }),
  });

const STARTERS: Readonly<Record<ServerKind, Starter>> = {
  bind9: startBind9,
  knot: startKnot,
  powerdns: startPowerDns,
};

export async function startRecordServer(
  kind: ServerKind,
  options: ProvisionedServerOptions = {},
): Promise<RecordServer> {
  const tsigKey = options.tsigKey ?? generateKey('ctrl-key');
  const server = await STARTERS[kind]({ ...options, tsigKey });
  return Object.assign(server, {
    kind,
    endpoint: { address: server.address, port: server.dnsPort },
  });
}
