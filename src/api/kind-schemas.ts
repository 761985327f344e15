/**
 * The schemas of each kind (TypeBox): the one definition of the API, from which the static
 * types (kinds.ts and the per-kind files), the CRD YAML (crd.ts) and the precompiled
 * validators (validators-codegen.ts → validators.generated.ts) are all derived. The
 * controller never loads this file: it costs ~18 MB of RSS for nothing at run time.
 */
import type { TSchema } from '@sinclair/typebox';
import { Bind9ClusterSpecSchema, Bind9ClusterStatusSchema } from './bind9cluster-schema.ts';
import { Bind9InstanceSpecSchema, Bind9InstanceStatusSchema } from './bind9instance-schema.ts';
import { DNSZoneSpecSchema, DNSZoneStatusSchema } from './dnszone-schema.ts';
import type { KindName } from './kinds.ts';
import { RecordStatusSchema, resourceSchema } from './meta-schema.ts';
import {
  AAAARecordSpecSchema,
  ARecordSpecSchema,
  CAARecordSpecSchema,
  CNAMERecordSpecSchema,
  MXRecordSpecSchema,
  NSRecordSpecSchema,
  PTRRecordSpecSchema,
  SRVRecordSpecSchema,
  TXTRecordSpecSchema,
} from './record-specs.ts';

export interface KindSchemas {
  readonly spec: TSchema;
  readonly status: TSchema;
  /** The whole object (apiVersion, kind, metadata, spec, status). */
  readonly object: TSchema;
}

function schemas(kind: KindName, spec: TSchema, status: TSchema): KindSchemas {
  return { spec, status, object: resourceSchema(kind, spec, status) };
}

const record = (kind: KindName, spec: TSchema) => schemas(kind, spec, RecordStatusSchema);

export const KIND_SCHEMAS: { readonly [K in KindName]: KindSchemas } = {
  Bind9Cluster: schemas('Bind9Cluster', Bind9ClusterSpecSchema, Bind9ClusterStatusSchema),
  Bind9Instance: schemas('Bind9Instance', Bind9InstanceSpecSchema, Bind9InstanceStatusSchema),
  DNSZone: schemas('DNSZone', DNSZoneSpecSchema, DNSZoneStatusSchema),
  ARecord: record('ARecord', ARecordSpecSchema),
  AAAARecord: record('AAAARecord', AAAARecordSpecSchema),
  CNAMERecord: record('CNAMERecord', CNAMERecordSpecSchema),
  TXTRecord: record('TXTRecord', TXTRecordSpecSchema),
  MXRecord: record('MXRecord', MXRecordSpecSchema),
  NSRecord: record('NSRecord', NSRecordSpecSchema),
  SRVRecord: record('SRVRecord', SRVRecordSpecSchema),
  CAARecord: record('CAARecord', CAARecordSpecSchema),
  PTRRecord: record('PTRRecord', PTRRecordSpecSchema),
};
