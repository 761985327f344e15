/**
 * How each daemon of the one-node cluster is configured: its command line and config
 * files. Everything listens inside the cluster's namespace only. The choices that are not
 * defaults say why; most come from what blocked on this machine (shared/NODE.md).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  API_PORT,
  CGROUP_ROOT,
  CLUSTER_DOMAIN,
  DNS_SERVICE_IP,
  NODE_IP,
  NODE_NAME,
  POD_GATEWAY,
  POD_SUBNET,
  paths,
  RANGES,
} from './config.ts';
import type { ClusterPki } from './pki.ts';

export interface DaemonSpec {
  readonly bin: string;
  readonly args: readonly string[];
}

const ETCD_URL = 'http://127.0.0.1:2379';
export const ETCD_HEALTH = `${ETCD_URL}/health`;

export function etcd(binDir: string): DaemonSpec {
  return {
    bin: join(binDir, 'etcd'),
    args: [
      `--name=${NODE_NAME}`,
      `--data-dir=${paths.etcd}`,
      `--listen-client-urls=${ETCD_URL}`,
      `--advertise-client-urls=${ETCD_URL}`,
      '--listen-peer-urls=http://127.0.0.1:2380',
      '--listen-metrics-urls=http://127.0.0.1:2381',
      // A test cluster's data is thrown away with it: an fsync per write buys nothing.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
  };
}

export function apiserver(binDir: string, pki: ClusterPki): DaemonSpec {
  return {
    bin: join(binDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=${ETCD_URL}`,
      `--secure-port=${API_PORT}`,
      '--bind-address=0.0.0.0',
      // The `kubernetes` Service's endpoint: the node address, which pods reach.
      `--advertise-address=${NODE_IP}`,
      `--service-cluster-ip-range=${RANGES.services}`,
      `--cert-dir=${paths.pki}`,
      `--tls-cert-file=${pki.apiserver.certFile}`,
      `--tls-private-key-file=${pki.apiserver.keyFile}`,
      `--client-ca-file=${pki.caFile}`,
      '--authorization-mode=Node,RBAC',
      // ServiceAccount admission is on by default: pods get projected tokens, as anywhere.
      '--enable-admission-plugins=NodeRestriction',
      `--service-account-issuer=https://kubernetes.default.svc.${CLUSTER_DOMAIN}`,
      `--service-account-key-file=${pki.sa.pubFile}`,
      `--service-account-signing-key-file=${pki.sa.keyFile}`,
      `--kubelet-client-certificate=${pki.apiserverKubeletClient.certFile}`,
      `--kubelet-client-key=${pki.apiserverKubeletClient.keyFile}`,
      `--kubelet-certificate-authority=${pki.caFile}`,
      // The node's host name resolves to loopback here: logs/exec must dial its InternalIP.
      '--kubelet-preferred-address-types=InternalIP',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=0',
    ],
  };
}

export function controllerManager(binDir: string, pki: ClusterPki): DaemonSpec {
  const kubeconfig = pki.kubeconfigs['kube-controller-manager'];
  return {
    bin: join(binDir, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      '--secure-port=10257',
      '--leader-elect=false',
      // Each controller with its own ServiceAccount, as kubeadm clusters run it.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.sa.keyFile}`,
      // Published as kube-root-ca.crt in every namespace: projected tokens mount it.
      `--root-ca-file=${pki.caFile}`,
      `--cluster-signing-cert-file=${pki.caFile}`,
      `--cluster-signing-key-file=${pki.caKeyFile}`,
      `--service-cluster-ip-range=${RANGES.services}`,
      '--profiling=false',
      '--v=0',
    ],
  };
}

export function scheduler(binDir: string, pki: ClusterPki): DaemonSpec {
  const kubeconfig = pki.kubeconfigs['kube-scheduler'];
  return {
    bin: join(binDir, 'kube-scheduler'),
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      '--secure-port=10259',
      '--leader-elect=false',
      '--profiling=false',
      '--v=0',
    ],
  };
}

// ---------------------------------------------------------------------------------------
// containerd

function containerdConfig(sandboxImage: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = ${JSON.stringify(paths.containerdRoot)}
state = ${JSON.stringify(paths.containerdState)}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${JSON.stringify(paths.containerdSocket)}
[ttrpc]
  address = ${JSON.stringify(`${paths.containerdSocket}.ttrpc`)}

[plugins."io.containerd.internal.v1.opt"]
  path = ${JSON.stringify(join(paths.containerdRoot, 'opt'))}

[${cri}]
  sandbox_image = ${JSON.stringify(sandboxImage)}
  # root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj (pause asks for -998) is refused
  # and every sandbox fails with "can't get final child's PID from pipe" (shared/NODE.md).
  restrict_oom_score_adj = true
  disable_apparmor = true
  # Pod network namespaces under our state directory, not in /run/netns beside the host's.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${JSON.stringify(join(paths.containerdState, 'runc'))}
  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${JSON.stringify(paths.cniConf)}
`;
}

/** The pod network: one bridge inside the namespace, addresses from POD_SUBNET. */
function cniConfig(): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'bind9-node',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: POD_SUBNET, gateway: POD_GATEWAY }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: paths.cniIpam,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export async function containerd(sandboxImage: string): Promise<DaemonSpec> {
  const config = join(paths.etc, 'containerd.toml');
  await writeFile(config, containerdConfig(sandboxImage));
  await writeFile(join(paths.cniConf, '10-bind9-node.conflist'), cniConfig());
  return { bin: '/usr/bin/containerd', args: ['--config', config] };
}

// ---------------------------------------------------------------------------------------
// kubelet, kube-proxy, CoreDNS

function kubeletConfig(pki: ClusterPki) {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // This machine has cgroup v1 only (the v2 hierarchy holds no controllers); kubelet 1.35+
    // refuses v1 unless told.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: CGROUP_ROOT,
    containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
    address: NODE_IP,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: pki.caFile },
    },
    authorization: { mode: 'Webhook' },
    tlsCertFile: pki.kubeletServing.certFile,
    tlsPrivateKeyFile: pki.kubeletServing.keyFile,
    clusterDomain: CLUSTER_DOMAIN,
    clusterDNS: [DNS_SERVICE_IP],
    // Pods get no name server of the host's (the namespace could not reach it anyway).
    resolvConf: '',
    // The images are built here and cannot be pulled again: never garbage-collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
    },
    failSwapOn: false,
    podLogsDir: paths.podLogs,
    volumePluginDir: join(paths.kubelet, 'volume-plugins'),
    serializeImagePulls: false,
  };
}

export async function kubelet(binDir: string, pki: ClusterPki): Promise<DaemonSpec> {
  const config = join(paths.etc, 'kubelet.yaml');
  await writeFile(config, stringify(kubeletConfig(pki)));
  return {
    bin: join(binDir, 'kubelet'),
    args: [
      `--config=${config}`,
      `--kubeconfig=${pki.kubeconfigs.kubelet}`,
      `--root-dir=${paths.kubelet}`,
      `--cert-dir=${join(paths.kubelet, 'pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${NODE_IP}`,
      '--v=0',
    ],
  };
}

export async function kubeProxy(binDir: string, pki: ClusterPki): Promise<DaemonSpec> {
  const config = join(paths.etc, 'kube-proxy.yaml');
  const body = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: pki.kubeconfigs['kube-proxy'] },
    mode: 'iptables',
    hostnameOverride: NODE_NAME,
    clusterCIDR: RANGES.pods,
    // nf_conntrack_max is not writable from a network namespace: leave the sizing alone.
    conntrack: { maxPerCore: 0, min: 0 },
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
  };
  // kube-proxy exits when its config file changes under it; this one is written before it starts.
  await writeFile(config, stringify(body));
  return { bin: join(binDir, 'kube-proxy'), args: [`--config=${config}`, '--v=0'] };
}

/**
 * CoreDNS as a node process, behind the selector-less kube-dns Service (bootstrap.ts). It
 * answers cluster names only: there is no `forward`, so no query ever leaves the namespace.
 */
export async function coredns(binDir: string, pki: ClusterPki): Promise<DaemonSpec> {
  const corefile = join(paths.etc, 'Corefile');
  await writeFile(
    corefile,
    `.:53 {
    bind ${NODE_IP}
    errors
    ready 127.0.0.1:8181
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        kubeconfig ${pki.kubeconfigs.coredns}
        pods insecure
        ttl 5
    }
    cache 5
}
`,
  );
  return { bin: join(binDir, 'coredns'), args: ['-conf', corefile] };
}
