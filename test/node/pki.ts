/**
 * Certificates and kubeconfigs of one cluster run, made fresh by every `up` from a throwaway
 * CA (test/harness/cluster-pki.ts). Each component authenticates with a client certificate
 * whose CN and O are the user and groups Kubernetes' default RBAC expects of it
 * (`system:kube-controller-manager`, `system:node:<name>` in `system:nodes`, ...).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type CertPair, createPki, writeServiceAccountKeys } from '../harness/cluster-pki.ts';
import { API_PORT, API_SERVICE_IP, CLUSTER_DOMAIN, NODE_IP, NODE_NAME, paths } from './config.ts';

export const API_SERVER = `https://${NODE_IP}:${API_PORT}`;

/** The users of the cluster's own components, and the admin. */
const USERS = {
  admin: { user: 'admin', groups: ['system:masters'] },
  'kube-controller-manager': { user: 'system:kube-controller-manager', groups: [] },
  'kube-scheduler': { user: 'system:kube-scheduler', groups: [] },
  kubelet: { user: `system:node:${NODE_NAME}`, groups: ['system:nodes'] },
  'kube-proxy': { user: 'system:kube-proxy', groups: [] },
  // Bound to the system:coredns ClusterRole by the bootstrap objects (bootstrap.ts).
  coredns: { user: 'system:coredns', groups: [] },
} as const;
export type ClusterUser = keyof typeof USERS;

export interface ClusterPki {
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly apiserver: CertPair;
  readonly apiserverKubeletClient: CertPair;
  readonly kubeletServing: CertPair;
  readonly sa: { keyFile: string; pubFile: string };
  /** kubeconfig path per user. */
  readonly kubeconfigs: Readonly<Record<ClusterUser, string>>;
}

function kubeconfig(caPem: string, user: string, client: CertPair): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: NODE_NAME,
        cluster: { server: API_SERVER, 'certificate-authority-data': b64(caPem) },
      },
    ],
    users: [
      {
        name: user,
        user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) },
      },
    ],
    contexts: [{ name: NODE_NAME, context: { cluster: NODE_NAME, user } }],
    'current-context': NODE_NAME,
  });
}

async function writeKubeconfigs(pki: Awaited<ReturnType<typeof createPki>>) {
  const files: Partial<Record<ClusterUser, string>> = {};
  for (const [name, { user, groups }] of Object.entries(USERS) as [
    ClusterUser,
    (typeof USERS)[ClusterUser],
  ][]) {
    const client = await pki.client(`client-${name}`, user, groups);
    const path = name === 'admin' ? paths.adminKubeconfig : join(paths.etc, `${name}.kubeconfig`);
    await writeFile(path, kubeconfig(pki.ca.cert, user, client), { mode: 0o600 });
    files[name] = path;
  }
  return files as Record<ClusterUser, string>;
}

/** Makes the CA, the serving certificates, the service-account keys and every kubeconfig. */
export async function makeClusterPki(): Promise<ClusterPki> {
  await mkdir(paths.pki, { recursive: true });
  await mkdir(paths.etc, { recursive: true });
  const pki = await createPki(paths.pki);
  const apiserver = await pki.serving('apiserver', [
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${CLUSTER_DOMAIN}`,
    'localhost',
    '127.0.0.1',
    NODE_IP,
    API_SERVICE_IP,
  ]);
  // kube-apiserver → kubelet (logs, exec, port-forward): an admin client certificate.
  const apiserverKubeletClient = await pki.client(
    'apiserver-kubelet-client',
    'kube-apiserver-kubelet-client',
    ['system:masters'],
  );
  const kubeletServing = await pki.serving('kubelet', [NODE_NAME, NODE_IP]);
  const sa = await writeServiceAccountKeys(paths.pki);
  return {
    caFile: pki.ca.certFile,
    caKeyFile: pki.ca.keyFile,
    apiserver,
    apiserverKubeletClient,
    kubeletServing,
    sa,
    kubeconfigs: await writeKubeconfigs(pki),
  };
}
