/**
 * An RFC 2136 UPDATE as data: what the planner/executor build and the codec encodes.
 * This is the contract between `src/bind` (which decides what to change) and the wire
 * code in `src/dns` (which encodes, signs and sends it).
 */
import type { RecordType, RRset } from './rrset.ts';

/** An address and port to send DNS messages to. */
export interface DnsEndpoint {
  readonly address: string;
  readonly port: number;
}

/** RFC 2136 §2.4: the five prerequisite forms. */
export type Prerequisite =
  /** class ANY, type t: an RRset of this type exists at the name. */
  | { readonly kind: 'rrsetExists'; readonly name: string; readonly type: RecordType }
  /** class IN, type t, whole RRset, TTL 0: the RRset exists with exactly these records. */
  | { readonly kind: 'rrsetEquals'; readonly rrset: RRset }
  /** class NONE, type t: no RRset of this type exists at the name. */
  | { readonly kind: 'rrsetAbsent'; readonly name: string; readonly type: RecordType }
  /** class ANY, type ANY: the name owns at least one RR. */
  | { readonly kind: 'nameInUse'; readonly name: string }
  /** class NONE, type ANY: the name owns no RR. */
  | { readonly kind: 'nameNotInUse'; readonly name: string };

/** RFC 2136 §2.5: the four update forms. */
export type UpdateOperation =
  /** class IN with TTL: add these RRs (the RRset takes the TTL given). */
  | { readonly kind: 'add'; readonly rrset: RRset }
  /** class ANY, type t, TTL 0, no rdata: delete the whole RRset. */
  | { readonly kind: 'deleteRRset'; readonly name: string; readonly type: RecordType }
  /** class ANY, type ANY: delete every RRset at the name (SOA/NS at the apex excepted). */
  | { readonly kind: 'deleteName'; readonly name: string }
  /** class NONE, TTL 0, exact rdata: delete these RRs only. */
  | { readonly kind: 'deleteRecords'; readonly rrset: RRset };

export interface UpdateRequest {
  /** The zone (absolute, no final dot): the single entry of the zone section. */
  readonly zone: string;
  readonly prerequisites: readonly Prerequisite[];
  readonly updates: readonly UpdateOperation[];
}
