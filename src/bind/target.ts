/**
 * An instance to talk to: the one type every part of src/bind, the reconcilers and the
 * CLI pass around for a BIND9 server. The controller makes one from a Bind9Instance and
 * its Secrets (reconcilers/target.ts), the CLI from its flags (cli/target.ts).
 *
 * Everything here is data that says how to reach the server and with which keys, plus the
 * store its base files go to; nothing is connected yet. The keys are SecretKeys and never
 * leave this process in any message.
 */
import type { SecretKey } from '../dns/keyfile.ts';
import type { DnsEndpoint } from '../dns/update-request.ts';
import type { ZoneFileStore } from './files.ts';

export interface RndcAccess {
  readonly endpoint: DnsEndpoint;
  readonly key: SecretKey;
}

export interface InstanceTarget {
  /** `namespace/name` of the Bind9Instance (`cli` for the CLI): the label in logs and metrics. */
  readonly id: string;
  readonly role: 'primary' | 'secondary';
  /** Where UPDATE, AXFR and queries go. */
  readonly dns: DnsEndpoint;
  /** Signs UPDATE and AXFR; the key the zone's `update-policy` grants and transfers require. */
  readonly tsigKey: SecretKey;
  /**
   * The control channel (`rndc addzone`, `delzone`, `status`). Without it the server's
   * zones are provisioned by someone else: they are never created or removed through this
   * target, only their records are managed (the CLI without `--rndc`; issue #17's
   * records-only instances).
   */
  readonly rndc?: RndcAccess;
  /**
   * A records-only instance (Bind9Instance `recordsOnly`): no rndc, and the SOA and apex NS
   * of its zones stay as the server has them unless the DNSZone says `manageApex`.
   */
  readonly recordsOnly?: boolean;
  /** Primaries: where base zone files go. */
  readonly files?: ZoneFileStore;
  /** Secondaries: where they transfer zones from. */
  readonly primaries?: readonly DnsEndpoint[];
}
