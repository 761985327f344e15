/**
 * What every kind shares: the API group and version, object metadata, and the status
 * (observedGeneration + conditions) that each reconciler writes. The types come from the
 * schemas in meta-schema.ts, imported as types only, so loading this file does not load the
 * schema library.
 */
import type { Static } from '@sinclair/typebox';
import type { ConditionSchema, RecordStatusSchema, ResourceStatusSchema } from './meta-schema.ts';

export const API_GROUP = 'dns.bind9-controller.io';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** Condition statuses of the Kubernetes API conventions. */
export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export type Condition = Static<typeof ConditionSchema>;
export type ResourceStatus = Static<typeof ResourceStatusSchema>;
export type RecordStatus = Static<typeof RecordStatusSchema>;

/**
 * The object metadata every layer reads, the API server's objects and the CLI's manifests
 * alike (src/kube's `KubeObject` carries this same type). Every object we handle is
 * namespaced, so the namespace is always there: the CLI fills in `default` for a manifest
 * that names none, as kubectl would (cli/manifests.ts). A manifest has no `uid` yet.
 */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly finalizers?: readonly string[];
}

/** A custom resource of this API: `Resource<DNSZoneSpec, DNSZoneStatus>`. */
export interface Resource<Spec, Status = ResourceStatus, Kind extends string = string> {
  readonly apiVersion: typeof API_GROUP_VERSION;
  readonly kind: Kind;
  readonly metadata: ObjectMeta;
  readonly spec: Spec;
  status?: Status;
}
