/**
 * Bind9Cluster: a BIND9 fleet the controller runs itself, one primary and N secondaries.
 * It renders their named.conf, generates their keys, owns their StatefulSets, Services,
 * ConfigMaps and Secrets, and creates one ordinary Bind9Instance per pod, labelled so that a
 * DNSZone selects `bind9-controller.io/cluster: <name>`. The types come from the schemas
 * in bind9cluster-schema.ts, imported as types only (the run path does not load TypeBox).
 */
import type { Static } from '@sinclair/typebox';
import type {
  AddressMatchListSchema,
  Bind9ClusterSpecSchema,
  Bind9ClusterStatusSchema,
  ClusterOptionsSchema,
  RateLimitSchema,
  TolerationSchema,
} from './bind9cluster-schema.ts';

/** What a DNSZone selects: every instance of the cluster carries it, with the cluster's name. */
export const CLUSTER_LABEL = 'bind9-controller.io/cluster';
/** `primary` or `secondary`, on each instance and pod of a cluster. */
export const ROLE_LABEL = 'bind9-controller.io/role';

/** The image `deploy/bind9/` runs: ISC's own BIND 9.18 build. */
export const DEFAULT_BIND9_IMAGE = 'internetsystemsconsortium/bind9:9.18';

export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;
export const TOLERATION_OPERATORS = ['Exists', 'Equal'] as const;
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export const UNSATISFIABLE = ['ScheduleAnyway', 'DoNotSchedule'] as const;
export const EMPTY_DIR_MEDIA = ['', 'Memory'] as const;

export type Bind9ClusterSpec = Static<typeof Bind9ClusterSpecSchema>;
export type Bind9ClusterStatus = Static<typeof Bind9ClusterStatusSchema>;
export type ClusterOptions = Static<typeof ClusterOptionsSchema>;
export type RateLimit = Static<typeof RateLimitSchema>;
export type AddressMatchList = Static<typeof AddressMatchListSchema>;
export type Toleration = Static<typeof TolerationSchema>;

export type ClusterRole = 'primary' | 'secondary';
