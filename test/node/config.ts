/**
 * The one-node cluster's fixed layout: its network namespace and address ranges, and
 * where its state lives. One cluster per machine (scripts/cluster.sh up|down).
 *
 * Every address below exists only inside the network namespace NETNS. From the host those
 * ranges would follow the default route off this machine, so `up` gives the host an
 * `unreachable` route for each range before anything starts (test/node/network.ts).
 */
import { join } from 'node:path';
import { cacheDir } from '../../tools/cache.ts';

export const NETNS = 'bind9-node';
export const NODE_NAME = 'bind9-node';

/** The ranges the cluster uses; the host gets an `unreachable` route for each. */
export const RANGES = {
  node: '10.213.0.0/24',
  pods: '10.214.0.0/16',
  services: '10.215.0.0/16',
} as const;

/** The node's address, on one end of a veth pair inside the namespace (no dummy driver here). */
export const NODE_IP = '10.213.0.2';
export const NODE_PEER_IP = '10.213.0.1';
export const NODE_PREFIX = 24;
/** The pods of this node: the CNI bridge's subnet and gateway. */
export const POD_SUBNET = '10.214.0.0/24';
export const POD_GATEWAY = '10.214.0.1';
/** The `kubernetes` Service (first address of the range) and kube-dns. */
export const API_SERVICE_IP = '10.215.0.1';
export const DNS_SERVICE_IP = '10.215.0.10';
export const API_PORT = 6443;
export const CLUSTER_DOMAIN = 'cluster.local';

/**
 * Everything of one run: certificates, configs, etcd data, kubelet and containerd state,
 * logs. Wiped by the next `up`; `down` leaves only logs/.
 */
export const STATE_DIR = process.env.BIND9_NODE_STATE ?? '/run/bind9-node';
/** containerd's content and snapshots: kept across runs, so a cached `up` imports nothing. */
export const CONTAINERD_ROOT = join(cacheDir(), 'node', 'containerd');
/** The cgroup under which kubelet puts every pod (all hierarchies): how leftovers are found. */
export const CGROUP_ROOT = '/bind9-node';

export const paths = {
  state: STATE_DIR,
  info: join(STATE_DIR, 'cluster.json'),
  pki: join(STATE_DIR, 'pki'),
  etc: join(STATE_DIR, 'etc'),
  logs: join(STATE_DIR, 'logs'),
  pids: join(STATE_DIR, 'pids'),
  etcd: join(STATE_DIR, 'etcd'),
  kubelet: join(STATE_DIR, 'kubelet'),
  podLogs: join(STATE_DIR, 'pod-logs'),
  containerdState: join(STATE_DIR, 'containerd'),
  containerdSocket: join(STATE_DIR, 'containerd', 'containerd.sock'),
  cniConf: join(STATE_DIR, 'cni'),
  cniIpam: join(STATE_DIR, 'cni-ipam'),
  adminKubeconfig: join(STATE_DIR, 'admin.kubeconfig'),
  netnsFile: `/run/netns/${NETNS}`,
  containerdRoot: CONTAINERD_ROOT,
  loadedImages: join(CONTAINERD_ROOT, '..', 'loaded-images.json'),
  lock: `${STATE_DIR}.lock`,
} as const;

/** The daemons, in start order; `down` stops them in reverse. */
export const DAEMONS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'containerd',
  'kubelet',
  'kube-proxy',
  'coredns',
] as const;
export type Daemon = (typeof DAEMONS)[number];
