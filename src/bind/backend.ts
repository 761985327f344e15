/**
 * What the sync loop (sync.ts) and the reconcilers need from a BIND9 server (STYLE.md
 * habit 9: the seam is declared by its user). `bind-backend.ts` implements it on rndc and
 * the DNS client; `ensured.ts` wraps it to skip showzone for zones already ensured; unit
 * tests record it in memory.
 */
import type { RRset } from '../dns/rrset.ts';
import type { ApplyResult } from './executor.ts';
import type { Plan } from './plan.ts';
import type { InstanceTarget } from './target.ts';
import type { ZoneConfig } from './zone-file.ts';

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
