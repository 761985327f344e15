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

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretKey } from '../../src/dns/keyfile.ts';
import { RndcClient } from '../../src/dns/rndc/client.ts';
import type { DnsEndpoint } from '../../src/dns/update-request.ts';
import { startKnot } from './knot.ts';
import { generateKey, minimalZone, startNamed } from './named.ts';
import { startPowerDns } from './powerdns.ts';
import {
  type ProvisionedServer,
  type ProvisionedServerOptions,
  type ProvisionedZone,
  zoneKeys,
} from './provisioned.ts';

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

function bind9Zone(z: ProvisionedZone, tsigKey: SecretKey) {
  const { update, transfer } = zoneKeys(z, tsigKey);
  return { name: z.name, content: z.content, update, transfer: [...update, ...transfer] };
}

const startBind9: Starter = async (options) => {
  const named = await startNamed({
    ...options,
    zones: (options.zones ?? []).map((z) => {
      const { name, content, update, transfer } = bind9Zone(z, options.tsigKey);
      return {
        name,
        ...(content === undefined ? {} : { content }),
        updateKeys: update,
        transferKeys: transfer,
      };
    }),
  });
  // rndc addzone, as an operator with rndc access would (the controller has none here).
  const addZone = async (z: ProvisionedZone) => {
    const { name, content, update, transfer } = bind9Zone(z, options.tsigKey);
    await writeFile(join(named.zoneDir, `${name}.db`), content ?? minimalZone(name));
    const rndc = new RndcClient({
      endpoint: { address: named.address, port: named.rndcPort },
      key: named.rndcKey,
    });
    const grants = update.map((k) => `grant "${k}" zonesub ANY;`).join(' ');
    const transfers = transfer.map((k) => `key "${k}";`).join(' ');
    try {
      await rndc.addzone(
        name,
        `{ type primary; file "${name}.db"; update-policy { ${grants} }; allow-transfer { ${transfers} }; };`,
      );
    } finally {
      rndc.close();
    }
  };
  return Object.assign(named, { addZone });
};

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
