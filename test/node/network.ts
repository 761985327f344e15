/**
 * The network safety of the one-node cluster (TEAM.md, "the network rule").
 *
 * Every address the cluster uses lives inside one network namespace (NETNS) that we create:
 * the node address on a veth pair inside it, the pods on a bridge inside it, the Services
 * as kube-proxy rules inside it. The namespace has no default route, so nothing in it can
 * reach anything else. On the host, those ranges would follow the default route off this
 * machine: before anything starts, the host gets an `unreachable` route for each range, so
 * a client started in the wrong namespace fails here instead of sending a packet out.
 */
import { existsSync } from 'node:fs';
import { NETNS, NODE_IP, NODE_PEER_IP, NODE_PREFIX, paths, RANGES } from './config.ts';
import { insideClusterNetns, NodeClusterError, sh, trySh } from './system.ts';

const HOST_ROUTE_RANGES = Object.values(RANGES);

/** The destinations of the `unreachable` routes of this process's namespace. */
export async function unreachableRoutes(): Promise<string[]> {
  const out = await sh('ip', ['-j', 'route', 'show', 'type', 'unreachable']);
  const routes = JSON.parse(out || '[]') as { dst?: string }[];
  return routes.map((r) => r.dst ?? '').filter((d) => d !== '');
}

function assertOnHost(what: string): void {
  if (insideClusterNetns()) {
    throw new NodeClusterError(`${what} must run in the host's namespace, not in ${NETNS}`);
  }
}

/** Adds (or keeps) an `unreachable` route on the host for every range; checks they are in. */
export async function addHostRoutes(): Promise<void> {
  assertOnHost('adding the host routes');
  for (const range of HOST_ROUTE_RANGES) {
    await sh('ip', ['route', 'replace', 'unreachable', range]);
  }
  const present = await unreachableRoutes();
  const missing = HOST_ROUTE_RANGES.filter((r) => !present.includes(r));
  if (missing.length > 0) {
    throw new NodeClusterError(
      `unreachable routes missing after adding them: ${missing.join(', ')}`,
    );
  }
}

export async function removeHostRoutes(): Promise<void> {
  assertOnHost('removing the host routes');
  const present = await unreachableRoutes();
  for (const range of HOST_ROUTE_RANGES) {
    if (present.includes(range)) await sh('ip', ['route', 'del', 'unreachable', range]);
  }
}

export function hostRouteRanges(): readonly string[] {
  return HOST_ROUTE_RANGES;
}

const ipn = (...args: string[]) => sh('ip', ['-n', NETNS, ...args]);

/**
 * Creates the namespace: loopback up, a veth pair whose one end carries the node address, a
 * route for the Service range (kube-proxy rewrites those packets before they leave), and
 * forwarding for the pod bridge. No default route: nothing inside can reach the outside.
 */
export async function createNetns(): Promise<void> {
  assertOnHost('creating the namespace');
  if (existsSync(paths.netnsFile)) {
    throw new NodeClusterError(`${paths.netnsFile} exists: clean up first`);
  }
  await sh('ip', ['netns', 'add', NETNS]);
  await ipn('link', 'set', 'lo', 'up');
  await ipn('link', 'add', 'node0', 'type', 'veth', 'peer', 'name', 'node1');
  await ipn('addr', 'add', `${NODE_IP}/${NODE_PREFIX}`, 'dev', 'node0');
  await ipn('addr', 'add', `${NODE_PEER_IP}/${NODE_PREFIX}`, 'dev', 'node1');
  await ipn('link', 'set', 'node0', 'up');
  await ipn('link', 'set', 'node1', 'up');
  await ipn('route', 'add', RANGES.services, 'dev', 'node0', 'src', NODE_IP);
  const sysctls = [
    'net.ipv4.ip_forward=1',
    // Pod → Service → pod on the same bridge: the reply must pass conntrack to be un-NATed.
    'net.bridge.bridge-nf-call-iptables=1',
  ];
  for (const s of sysctls) {
    await sh('nsenter', [`--net=${paths.netnsFile}`, '--', 'sysctl', '-q', '-w', s]);
  }
}

/** Deletes the namespace's name; the namespace itself goes with its last process. */
export async function deleteNetns(): Promise<void> {
  if (existsSync(paths.netnsFile)) await trySh('ip', ['netns', 'delete', NETNS]);
  if (existsSync(paths.netnsFile)) {
    await trySh('umount', ['-l', paths.netnsFile]);
    await trySh('rm', ['-f', paths.netnsFile]);
  }
}
