/**
 * What the reconcilers need from BIND9 (STYLE.md habit 9: the seam is declared by its
 * user). `src/reconcilers/bind-backend.ts` implements it on src/bind and src/dns; nothing
 * here knows how.
 */
import type { ApplyResult } from '../bind/executor.ts';
import type { Plan } from '../bind/plan.ts';
import type { ZoneConfig } from '../bind/zone-file.ts';
import type { SecretKey } from '../dns/keyfile.ts';
import type { RRset } from '../dns/rrset.ts';
import type { DnsEndpoint } from '../dns/update-request.ts';

/** One Bind9Instance, resolved: endpoints and keys read from its Secrets. */
export interface InstanceTarget {
  /** `namespace/name` of the Bind9Instance: the label used in logs and metrics. */
  readonly id: string;
  readonly namespace: string;
  readonly role: 'primary' | 'secondary';
  readonly dns: DnsEndpoint;
  readonly rndc: DnsEndpoint;
  readonly tsigKey: SecretKey;
  readonly rndcKey: SecretKey;
  /** How base zone files reach a primary. */
  readonly zoneFiles?:
    | { readonly directory: { readonly path: string } }
    | { readonly configMap: { readonly name: string; readonly mountPath: string } };
  /** For a secondary: the primaries it transfers from. */
  readonly primaries?: readonly string[];
  /** For a secondary: the port its primaries serve transfers on (53 by default). */
  readonly primariesPort?: number;
}

export type EnsureResult = 'created' | 'unchanged' | 'modified';

/** Cheap lost-zone detection: a changed boot time or fewer zones means data went away. */
export interface Fingerprint {
  readonly bootTime: string;
  readonly zoneCount: number;
}

export interface ZoneBackend {
  /** Zone present on the instance with this configuration (rndc addzone/modzone). */
  ensureZone(target: InstanceTarget, zone: ZoneConfig): Promise<EnsureResult>;
  /** Zone absent (rndc delzone); absent already is success. */
  removeZone(target: InstanceTarget, zoneName: string): Promise<void>;
  /** rndc status: proves the control channel and its key. */
  fingerprint(target: InstanceTarget): Promise<Fingerprint>;
  /** A TSIG-signed query: proves the DNS endpoint and the TSIG key. */
  probeDns(target: InstanceTarget): Promise<void>;
  /** Every RRset of the zone, by TSIG-signed AXFR. */
  readZone(target: InstanceTarget, zoneName: string): Promise<RRset[]>;
  /** Sends a plan as UPDATE messages. */
  apply(target: InstanceTarget, plan: Plan): Promise<ApplyResult>;
  /** The zone's SOA serial as the instance serves it (signed query); undefined if not served. */
  zoneSerial(target: InstanceTarget, zoneName: string): Promise<number | undefined>;
  /** A secondary transfers the zone again now (rndc retransfer). */
  retransfer(target: InstanceTarget, zoneName: string): Promise<void>;
}
