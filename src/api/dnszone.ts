/**
 * DNSZone: one zone, created on every selected primary Bind9Instance (and transferred to
 * selected secondaries). The types come from the schemas in dnszone-schema.ts, imported as
 * types only, so the controller's run path does not load the schema library.
 */
import type { Static } from '@sinclair/typebox';
import type {
  DNSZoneSpecSchema,
  DNSZoneStatusSchema,
  LabelSelectorSchema,
  NameServerSchema,
  SoaRecordSchema,
  UnconfirmedWriteSchema,
  ZoneInstanceStatusSchema,
} from './dnszone-schema.ts';

export { ADMIN_EMAIL } from './patterns.ts';

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

export type LabelSelector = Static<typeof LabelSelectorSchema>;
export type LabelSelectorRequirement = NonNullable<LabelSelector['matchExpressions']>[number];
export type SoaRecord = Static<typeof SoaRecordSchema>;
export type NameServer = Static<typeof NameServerSchema>;
export type DNSZoneSpec = Static<typeof DNSZoneSpecSchema>;
export type ZoneInstanceStatus = Static<typeof ZoneInstanceStatusSchema>;
export type DNSZoneStatus = Static<typeof DNSZoneStatusSchema>;
export type UnconfirmedWrite = Static<typeof UnconfirmedWriteSchema>;

/** Bound of `status.unconfirmedWrites`; a reconcile holds back what would go past it. */
export const MAX_UNCONFIRMED_WRITES = 5000;

/** The apex NS set a zone declares: `nameServers`, or the SOA primary NS alone by default. */
export function zoneNameServers(
  spec: Pick<DNSZoneSpec, 'nameServers' | 'soaRecord'>,
): NameServer[] {
  return spec.nameServers ?? [{ hostname: spec.soaRecord.primaryNs }];
}
