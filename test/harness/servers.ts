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
import { type ProvisionedServer, type ProvisionedServerOptions, zoneKeys } from './provisioned.ts';

export type {
  ProvisionedServer,
  ProvisionedServerOptions,
  ProvisionedZone,
} from './provisioned.ts';

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
