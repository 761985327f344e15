/**
 * The objects a Bind9Cluster owns, as a pure function of its spec and of what only the API
 * server can say (the cluster IP each pod's Service got, the keys' names): the reconcile
 * applies exactly these, so this file is the one answer to "what does a Bind9Cluster make".
 *
 * Two steps, because a pod's stable address is its Service's cluster IP, allocated when the
 * Service is first applied: `desiredServices` first, then `desiredWorkload` with the
 * addresses (the primary NOTIFYs its secondaries there; a secondary transfers from the
 * primary's). A pod whose address is not known yet gets no Bind9Instance yet.
 */

import { type ClusterRole, ROLE_LABEL } from '../../api/bind9cluster.ts';
import type { Bind9Cluster } from '../../api/kinds.ts';
import { API_GROUP_VERSION } from '../../api/meta.ts';
import {
  type NamedConf,
  type NamedOptions,
  POD_LISTEN,
  renderNamedConf,
} from '../../bind/named-conf.ts';
import type { Manifest, ManifestMetadata } from '../../kube/apply.ts';
import {
  type ClusterPod,
  clusterNames,
  clusterPods,
  configFile,
  ownedMeta,
  POD_NAME_LABEL,
  POD_PATHS,
  selectorLabels,
} from './names.ts';
import { statefulSet } from './workload.ts';

/** An object to apply, and the plural its API path names. */
export interface Desired {
  readonly plural: string;
  readonly manifest: Manifest;
}

export interface ClusterKeys {
  readonly tsigSecret: string;
  readonly rndcSecret: string;
  readonly tsigKeyName: string;
  readonly rndcKeyName: string;
  /** A digest of both keys (never a key): in the pod template, so new keys roll the pods. */
  readonly digest: string;
}

/** The controller's own pods: the only ones the NetworkPolicy lets reach rndc. */
export interface ControllerPods {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface WorkloadInputs {
  readonly keys: ClusterKeys;
  /** Each pod's stable address (its Service's cluster IP), by pod name, once allocated. */
  readonly addresses: ReadonlyMap<string, string>;
  readonly controller: ControllerPods;
}

const DNS_PORTS = [
  { name: 'dns-udp', port: 53, targetPort: 'dns-udp', protocol: 'UDP' },
  { name: 'dns-tcp', port: 53, targetPort: 'dns-tcp', protocol: 'TCP' },
];

function service(meta: ManifestMetadata, spec: object): Desired {
  return {
    plural: 'services',
    manifest: { apiVersion: 'v1', kind: 'Service', metadata: meta, spec },
  };
}

/**
 * One Service per pod (a stable cluster IP for NOTIFY, transfers and the controller, where a
 * pod's own IP changes with every replacement), published before the pod is Ready so rndc
 * reaches a named that has just started; the headless Service the StatefulSets need; and
 * the query Service over every Ready pod.
 */
export function desiredServices(cluster: Bind9Cluster): Desired[] {
  const name = cluster.metadata.name;
  const names = clusterNames(name);
  const { type, annotations } = cluster.spec.service;
  const perPod = clusterPods(cluster).map((pod) =>
    service(ownedMeta(cluster, pod.name, { [ROLE_LABEL]: pod.role }), {
      type: 'ClusterIP',
      publishNotReadyAddresses: true,
      selector: { ...selectorLabels(name, pod.role), [POD_NAME_LABEL]: pod.name },
      ports: [...DNS_PORTS, { name: 'rndc', port: 953, targetPort: 'rndc', protocol: 'TCP' }],
    }),
  );
  return [
    service(ownedMeta(cluster, names.query, {}, annotations), {
      type,
      selector: selectorLabels(name),
      ports: DNS_PORTS,
    }),
    service(ownedMeta(cluster, names.headless), {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(name),
      ports: DNS_PORTS,
    }),
    ...perPod,
  ];
}

function namedOptions(cluster: Bind9Cluster): NamedOptions {
  const { recursion, allowQuery, rateLimit } = cluster.spec.options;
  return { recursion, allowQuery, ...(rateLimit === undefined ? {} : { rateLimit }) };
}

/** The two renderings: every secondary runs the same one. */
export function renderConfigs(
  cluster: Bind9Cluster,
  inputs: WorkloadInputs,
): Record<ClusterRole, NamedConf> {
  const secondaries = clusterPods(cluster).filter((p) => p.role === 'secondary');
  const notify = secondaries.flatMap((pod) => {
    const address = inputs.addresses.get(pod.name);
    return address === undefined ? [] : [{ address, port: 53 }];
  });
  const render = (role: ClusterRole) =>
    renderNamedConf({
      role,
      owner: `${cluster.metadata.namespace}/${cluster.metadata.name}`,
      tsigKey: { name: inputs.keys.tsigKeyName, file: `${POD_PATHS.tsigKey}/keyfile` },
      rndcKey: { name: inputs.keys.rndcKeyName, file: `${POD_PATHS.rndcKey}/keyfile` },
      directory: POD_PATHS.data,
      listen: POD_LISTEN,
      ...(role === 'primary' ? { notify } : {}),
      options: namedOptions(cluster),
    });
  return { primary: render('primary'), secondary: render('secondary') };
}

function configMaps(cluster: Bind9Cluster, configs: Record<ClusterRole, NamedConf>): Desired[] {
  const names = clusterNames(cluster.metadata.name);
  return [
    {
      plural: 'configmaps',
      manifest: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: ownedMeta(cluster, names.config),
        data: {
          [configFile('primary')]: configs.primary.text,
          [configFile('secondary')]: configs.secondary.text,
        },
      },
    },
    // Created empty and labelled as ours; the zone reconcile adds one key per zone with a
    // merge patch of its own (kube/configmap-store.ts), which this apply leaves alone.
    {
      plural: 'configmaps',
      manifest: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: ownedMeta(cluster, names.zones),
      },
    },
  ];
}

function policies(cluster: Bind9Cluster, controller: ControllerPods): Desired[] {
  const name = cluster.metadata.name;
  const meta = ownedMeta(cluster, clusterNames(name).policy);
  const dns = [
    { port: 53, protocol: 'UDP' },
    { port: 53, protocol: 'TCP' },
  ];
  const fromController = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': controller.namespace } },
    podSelector: { matchLabels: { ...controller.labels } },
  };
  return [
    {
      plural: 'poddisruptionbudgets',
      manifest: {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: meta,
        spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(name) } },
      },
    },
    {
      plural: 'networkpolicies',
      manifest: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: meta,
        spec: {
          podSelector: { matchLabels: selectorLabels(name) },
          policyTypes: ['Ingress'],
          ingress: [
            { ports: dns },
            { from: [fromController], ports: [{ port: 953, protocol: 'TCP' }] },
          ],
        },
      },
    },
  ];
}

/** A user's Secret may pick one key of several: the instances pick the same. */
const keyNameOf = (ref: { keyName?: string } | undefined) =>
  ref?.keyName === undefined ? {} : { keyName: ref.keyName };

/** The Bind9Instance of one pod: an ordinary instance, at its Service's address. */
function instance(cluster: Bind9Cluster, pod: ClusterPod, inputs: WorkloadInputs): Desired[] {
  const address = inputs.addresses.get(pod.name);
  const primary = inputs.addresses.get(clusterPods(cluster)[0]?.name ?? '');
  if (address === undefined || (pod.role === 'secondary' && primary === undefined)) return [];
  const names = clusterNames(cluster.metadata.name);
  const role =
    pod.role === 'primary'
      ? { zoneFiles: { configMap: { name: names.zones, mountPath: POD_PATHS.zones } } }
      : { primaries: [primary], primariesPort: 53 };
  const { tsigKeySecretRef, rndcKeySecretRef } = cluster.spec;
  const spec = {
    role: pod.role,
    dns: { address, port: 53 },
    rndc: {
      address,
      port: 953,
      keySecretRef: { name: inputs.keys.rndcSecret, ...keyNameOf(rndcKeySecretRef) },
    },
    tsigKeySecretRef: { name: inputs.keys.tsigSecret, ...keyNameOf(tsigKeySecretRef) },
    ...role,
  };
  const manifest: Manifest = {
    apiVersion: API_GROUP_VERSION,
    kind: 'Bind9Instance',
    metadata: ownedMeta(cluster, pod.name, { [ROLE_LABEL]: pod.role }),
    spec,
  };
  return [{ plural: 'bind9instances', manifest }];
}

/** Everything but the Services: named.conf, the StatefulSets, PDB, NetworkPolicy, instances. */
export function desiredWorkload(cluster: Bind9Cluster, inputs: WorkloadInputs): Desired[] {
  const configs = renderConfigs(cluster, inputs);
  return [
    ...configMaps(cluster, configs),
    statefulSet(cluster, 'primary', inputs.keys),
    statefulSet(cluster, 'secondary', inputs.keys),
    ...policies(cluster, inputs.controller),
    ...clusterPods(cluster).flatMap((pod) => instance(cluster, pod, inputs)),
  ];
}
