/**
 * A Bind9Cluster's StatefulSets: one for the primary (always one pod: a primary zone has
 * one writer), one for the secondaries. The pods run named unprivileged, as
 * deploy/bind9/ does: uid 53, read-only root, no capabilities, and the namespaced sysctl
 * that lets it bind 53 and 953. named.conf comes from the cluster's ConfigMap, the keys
 * from their Secrets; everything named writes goes to the data volume.
 *
 * A changed option changes only the ConfigMap (the reconcile then asks named to
 * `rndc reconfig`); the pod template changes, and the pods roll, only for the image,
 * resources, scheduling or new keys (their digest is an annotation: named reads keys at
 * start and on reconfig, but a changed rndc key would lock the controller out of reconfig).
 */

import type { ClusterRole } from '../../api/bind9cluster.ts';
import { ROLE_LABEL } from '../../api/bind9cluster.ts';
import type { Bind9Cluster } from '../../api/kinds.ts';
import type { Desired } from './desired.ts';
import {
  clusterNames,
  configFile,
  ownedLabels,
  ownedMeta,
  POD_PATHS,
  selectorLabels,
} from './names.ts';

export const KEYS_ANNOTATION = 'bind9-controller.io/keys';

type Json = Record<string, unknown>;

function container(cluster: Bind9Cluster, role: ClusterRole): Json {
  const { image, imagePullPolicy, resources } = cluster.spec;
  const mounts = [
    { name: 'config', mountPath: POD_PATHS.config, readOnly: true },
    { name: 'tsig-key', mountPath: POD_PATHS.tsigKey, readOnly: true },
    { name: 'rndc-key', mountPath: POD_PATHS.rndcKey, readOnly: true },
    ...(role === 'primary' ? [{ name: 'zones', mountPath: POD_PATHS.zones, readOnly: true }] : []),
    { name: 'data', mountPath: POD_PATHS.data },
  ];
  return {
    name: 'named',
    image,
    imagePullPolicy,
    command: ['/usr/sbin/named'],
    // -g: foreground, logs to stderr; -c: our configuration for this role.
    args: ['-g', '-c', `${POD_PATHS.config}/${configFile(role)}`],
    ports: [
      { name: 'dns-udp', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      { name: 'rndc', containerPort: 953, protocol: 'TCP' },
    ],
    readinessProbe: { tcpSocket: { port: 'dns-tcp' }, periodSeconds: 5 },
    livenessProbe: { tcpSocket: { port: 'rndc' }, initialDelaySeconds: 10, periodSeconds: 10 },
    resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: mounts,
  };
}

function keyVolume(name: string, secretName: string): Json {
  return {
    name,
    secret: { secretName, defaultMode: 0o440, items: [{ key: 'keyfile', path: 'keyfile' }] },
  };
}

function volumes(cluster: Bind9Cluster, role: ClusterRole, keys: SecretNames): Json[] {
  const names = clusterNames(cluster.metadata.name);
  const { emptyDir } = cluster.spec.storage;
  return [
    { name: 'config', configMap: { name: names.config } },
    keyVolume('tsig-key', keys.tsigSecret),
    keyVolume('rndc-key', keys.rndcSecret),
    // The controller creates it empty; zones arrive in it as they are added.
    ...(role === 'primary'
      ? [{ name: 'zones', configMap: { name: names.zones, optional: true } }]
      : []),
    ...(emptyDir === undefined ? [] : [{ name: 'data', emptyDir: { ...emptyDir } }]),
  ];
}

/** Secondaries spread over the topology the spec names; the primary is one pod. */
function scheduling(cluster: Bind9Cluster, role: ClusterRole): Json {
  const { nodeSelector, tolerations, secondaries } = cluster.spec;
  const spread = secondaries.topologySpread;
  return {
    ...(nodeSelector === undefined ? {} : { nodeSelector: { ...nodeSelector } }),
    ...(tolerations === undefined ? {} : { tolerations: tolerations.map((t) => ({ ...t })) }),
    ...(role === 'secondary'
      ? {
          topologySpreadConstraints: [
            {
              ...spread,
              labelSelector: { matchLabels: selectorLabels(cluster.metadata.name, role) },
            },
          ],
        }
      : {}),
  };
}

function podTemplate(cluster: Bind9Cluster, role: ClusterRole, keys: SecretNames): Json {
  const name = cluster.metadata.name;
  return {
    metadata: {
      labels: { ...ownedLabels(name), [ROLE_LABEL]: role },
      annotations: { [KEYS_ANNOTATION]: keys.digest },
    },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 53,
        runAsGroup: 53,
        fsGroup: 53,
        seccompProfile: { type: 'RuntimeDefault' },
        sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
      },
      ...scheduling(cluster, role),
      containers: [container(cluster, role)],
      volumes: volumes(cluster, role, keys),
    },
  };
}

function claimTemplates(cluster: Bind9Cluster): Json {
  const claim = cluster.spec.storage.persistentVolumeClaim;
  if (claim === undefined) return {};
  return {
    volumeClaimTemplates: [
      {
        metadata: { name: 'data' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          ...(claim.storageClassName === undefined
            ? {}
            : { storageClassName: claim.storageClassName }),
          resources: { requests: { storage: claim.size } },
        },
      },
    ],
    // A secondary scaled away or a deleted cluster leaves no claim behind: the controller
    // refills every pod anyway.
    persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
  };
}

export interface SecretNames {
  readonly tsigSecret: string;
  readonly rndcSecret: string;
  readonly digest: string;
}

export function statefulSet(cluster: Bind9Cluster, role: ClusterRole, keys: SecretNames): Desired {
  const name = cluster.metadata.name;
  const names = clusterNames(name);
  const replicas = role === 'primary' ? 1 : cluster.spec.secondaries.replicas;
  return {
    plural: 'statefulsets',
    manifest: {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: ownedMeta(cluster, names.statefulSet(role), { [ROLE_LABEL]: role }),
      spec: {
        replicas,
        serviceName: names.headless,
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'RollingUpdate' },
        selector: { matchLabels: selectorLabels(name, role) },
        template: podTemplate(cluster, role, keys),
        ...claimTemplates(cluster),
      },
    },
  };
}
