/**
 * The cluster's own objects, applied once the API server is ready: CoreDNS's read access
 * and the kube-dns Service. CoreDNS runs as a node process (components.ts), so kube-dns has
 * no selector; its one EndpointSlice names the node address.
 */
import { CLUSTER_DOMAIN, DNS_SERVICE_IP, NODE_IP } from './config.ts';

const DNS_PORTS = [
  { name: 'dns', port: 53, protocol: 'UDP' },
  { name: 'dns-tcp', port: 53, protocol: 'TCP' },
];

export const BOOTSTRAP_OBJECTS = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'system:coredns' },
    rules: [
      { apiGroups: [''], resources: ['services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'system:coredns' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:coredns' }],
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns' },
      annotations: { 'bind9-controller.io/served-by': `coredns on the node (${NODE_IP})` },
    },
    spec: {
      clusterIP: DNS_SERVICE_IP,
      ports: DNS_PORTS.map((p) => ({ ...p, targetPort: 53 })),
    },
  },
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kube-dns-node',
      namespace: 'kube-system',
      labels: {
        'kubernetes.io/service-name': 'kube-dns',
        'endpointslice.kubernetes.io/managed-by': 'bind9-node',
      },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [NODE_IP], conditions: { ready: true } }],
    ports: DNS_PORTS,
  },
];

/** What `dig @kube-dns` must answer once DNS works end to end (kube-proxy + CoreDNS). */
export const DNS_PROBE_NAME = `kubernetes.default.svc.${CLUSTER_DOMAIN}`;
