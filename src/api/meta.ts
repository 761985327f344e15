/**
 * What every kind shares: the API group and version, object metadata, and the status
 * (observedGeneration + conditions) that each reconciler writes. The types come from the
 * schemas in meta-schema.ts, imported as types only, so loading this file does not load the
 * schema library.
 */
import type { Static } from '@sinclair/typebox';
import type {
  ConditionSchema,
  ObjectMetaSchema,
  RecordStatusSchema,
  ResourceStatusSchema,
} from './meta-schema.ts';

export const API_GROUP = 'dns.bind9-controller.io';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** Condition statuses of the Kubernetes API conventions. */
export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export type Condition = Static<typeof ConditionSchema>;
export type ResourceStatus = Static<typeof ResourceStatusSchema>;
export type RecordStatus = Static<typeof RecordStatusSchema>;
export type ObjectMeta = Static<typeof ObjectMetaSchema>;

/** A custom resource of this API: `Resource<DNSZoneSpec, DNSZoneStatus>`. */
export interface Resource<Spec, Status = ResourceStatus, Kind extends string = string> {
  apiVersion: typeof API_GROUP_VERSION;
  kind: Kind;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}
