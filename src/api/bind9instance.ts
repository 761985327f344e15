/**
 * Bind9Instance: one BIND9 server (or a Service in front of one) the controller manages.
 * Its labels are what DNSZones select. The types come from the schemas in
 * bind9instance-schema.ts, imported as types only, so the controller's run path does not
 * load the schema library.
 */
import type { Static } from '@sinclair/typebox';
import type {
  Bind9InstanceSpecSchema,
  Bind9InstanceStatusSchema,
  ZoneFilesSchema,
} from './bind9instance-schema.ts';

export const INSTANCE_ROLES = ['primary', 'secondary'] as const;
export type InstanceRole = (typeof INSTANCE_ROLES)[number];

export type ZoneFiles = Static<typeof ZoneFilesSchema>;
export type Bind9InstanceSpec = Static<typeof Bind9InstanceSpecSchema>;
export type Bind9InstanceStatus = Static<typeof Bind9InstanceStatusSchema>;

/** The port a secondary transfers from its primaries on. */
export function primariesPort(spec: Pick<Bind9InstanceSpec, 'primariesPort'>): number {
  return spec.primariesPort ?? 53;
}
