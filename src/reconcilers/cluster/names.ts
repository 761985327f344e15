/**
 * The names and labels of everything a Bind9Cluster owns, in one place. Pods, their
 * Services and their Bind9Instances share a name (`<cluster>-primary-0`,
 * `<cluster>-secondary-1`), so each tells which pod it is about.
 */
import { CLUSTER_LABEL, type ClusterRole, ROLE_LABEL } from '../../api/bind9cluster.ts';
import type { Bind9Cluster } from '../../api/kinds.ts';
import { API_GROUP_VERSION } from '../../api/meta.ts';
import type { ManifestMetadata, OwnerReference } from '../../kube/apply.ts';

export const MANAGED_BY = 'bind9-controller';

/** A pod of the cluster: its role and its (StatefulSet) name, which its Service and instance share. */
export interface ClusterPod {
  readonly role: ClusterRole;
  readonly name: string;
}

export const clusterNames = (cluster: string) => ({
  /** The query Service, over every pod: what clients use. */
  query: cluster,
  /** The headless Service the StatefulSets name as their serviceName. */
  headless: `${cluster}-pods`,
  config: `${cluster}-config`,
  /** Base zone files, written by the controller's ConfigMap delivery. */
  zones: `${cluster}-zones`,
  tsigSecret: `${cluster}-tsig-key`,
  rndcSecret: `${cluster}-rndc-key`,
  /** Key names inside the generated Secrets. */
  tsigKey: `${cluster}-tsig`,
  rndcKey: `${cluster}-rndc`,
  statefulSet: (role: ClusterRole) => `${cluster}-${role}`,
  /** The PodDisruptionBudget and the NetworkPolicy. */
  policy: cluster,
});

/** Every pod the spec asks for: the primary, then the secondaries in order. */
export function clusterPods(cluster: Bind9Cluster): ClusterPod[] {
  const name = cluster.metadata.name;
  const secondaries = Array.from({ length: cluster.spec.secondaries.replicas }, (_, i) => ({
    role: 'secondary' as const,
    name: `${name}-secondary-${i}`,
  }));
  return [{ role: 'primary', name: `${name}-primary-0` }, ...secondaries];
}

/** On everything the cluster owns; `selectorLabels` picks its pods. */
export function ownedLabels(cluster: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'bind9',
    'app.kubernetes.io/instance': cluster,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [CLUSTER_LABEL]: cluster,
  };
}

/** The Bind9Cluster an object with these labels belongs to: one we made for it, else none. */
export function clusterOf(
  labels: Readonly<Record<string, string>> | undefined,
): string | undefined {
  return labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY
    ? labels[CLUSTER_LABEL]
    : undefined;
}

/** The pods of a cluster, or of one role of it. */
export function selectorLabels(cluster: string, role?: ClusterRole): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'bind9',
    [CLUSTER_LABEL]: cluster,
    ...(role === undefined ? {} : { [ROLE_LABEL]: role }),
  };
}

/** The label a StatefulSet puts on each of its pods, with the pod's name. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';

/** Where the pods find things: fixed paths inside the BIND9 container. */
export const POD_PATHS = {
  config: '/etc/bind/conf',
  tsigKey: '/etc/bind/keys/tsig',
  rndcKey: '/etc/bind/keys/rndc',
  zones: '/etc/bind/zones',
  data: '/var/lib/bind',
} as const;

export const configFile = (role: ClusterRole) => `${role}.conf`;

export function ownerReference(cluster: Bind9Cluster): OwnerReference {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: 'Bind9Cluster',
    name: cluster.metadata.name,
    uid: cluster.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function ownedMeta(
  cluster: Bind9Cluster,
  name: string,
  labels: Readonly<Record<string, string>> = {},
  annotations?: Readonly<Record<string, string>>,
): ManifestMetadata {
  return {
    name,
    namespace: cluster.metadata.namespace,
    labels: { ...ownedLabels(cluster.metadata.name), ...labels },
    ...(annotations === undefined ? {} : { annotations }),
    ownerReferences: [ownerReference(cluster)],
  };
}
