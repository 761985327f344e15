/**
 * What the source tests and bench/sources.ts share: the RBAC of deploy/sources/ granted to
 * the controller's test user, and Services, Ingresses and Gateway API objects made as a user
 * and a load balancer controller would make them (status patched: there is no cloud here).
 */
import { resolve } from 'node:path';
import {
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { type Cluster, readManifests } from '../harness/cluster.ts';
import { CONTROLLER_USER } from './controller-helpers.ts';

const REPO = resolve(import.meta.dirname, '../..');
export const HOST = 'dns.bind9-controller.io/hostname';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Every component of deploy/sources/ that grants RBAC, by its --sources name. */
export const SOURCES = ['service', 'ingress', 'gateway', 'gateway-tlsroute'];

/** What deploy/sources/ grants its ServiceAccount, granted to the test's controller user. */
export async function bindSourceRoles(
  cluster: Cluster,
  names: readonly string[] = SOURCES,
): Promise<void> {
  for (const name of names) {
    // The ClusterRole alone: its binding names deploy/'s ServiceAccount, and the suite's
    // shared API server must keep that one as deploy/ alone makes it (deploy.test.ts).
    const objects = await readManifests([resolve(REPO, `deploy/sources/${name}/clusterrole.yaml`)]);
    await cluster.applyManifests(objects.filter((o) => o.kind === 'ClusterRole'));
    await cluster.applyManifests({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${CONTROLLER_USER}-source-${name}` },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: `bind9-controller-source-${name}`,
      },
      subjects: [{ kind: 'User', name: CONTROLLER_USER, apiGroup: 'rbac.authorization.k8s.io' }],
    });
  }
}

/** Services, Ingresses and Gateway API objects, as a user and a load balancer make them. */
export class Apps {
  readonly core: CoreV1Api;
  readonly net: NetworkingV1Api;
  readonly custom: CustomObjectsApi;
  readonly namespace: string;
  constructor(cluster: Cluster, namespace: string) {
    this.namespace = namespace;
    this.core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    this.net = cluster.kubeConfig.makeApiClient(NetworkingV1Api);
    this.custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** A LoadBalancer Service (no node ports: nothing here would serve them). */
  async service(name: string, annotations: Record<string, string>) {
    await this.core.createNamespacedService({
      namespace: this.namespace,
      body: {
        metadata: { name, annotations },
        spec: {
          type: 'LoadBalancer',
          allocateLoadBalancerNodePorts: false,
          ports: [{ port: 80 }],
        },
      },
    });
  }

  /** What a cloud's load balancer controller writes once it has an address. */
  async balance(name: string, ips: string[]) {
    await this.core.patchNamespacedServiceStatus(
      {
        name,
        namespace: this.namespace,
        body: { status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } },
      },
      MERGE,
    );
  }

  async annotate(name: string, annotations: Record<string, string | null>) {
    await this.core.patchNamespacedService(
      { name, namespace: this.namespace, body: { metadata: { annotations } } },
      MERGE,
    );
  }

  async deleteService(name: string) {
    await this.core.deleteNamespacedService({ name, namespace: this.namespace });
  }

  async ingress(name: string, hosts: string[], ip: string) {
    const backend = { service: { name: 'web', port: { number: 80 } } };
    const rules = hosts.map((host) => ({
      host,
      http: { paths: [{ path: '/', pathType: 'Prefix', backend }] },
    }));
    await this.net.createNamespacedIngress({
      namespace: this.namespace,
      body: { metadata: { name }, spec: { rules } },
    });
    await this.net.patchNamespacedIngressStatus(
      {
        name,
        namespace: this.namespace,
        body: { status: { loadBalancer: { ingress: [{ ip }] } } },
      },
      MERGE,
    );
  }

  async gatewayObject(plural: string, body: Record<string, unknown>, status: unknown) {
    const name = (body.metadata as { name: string }).name;
    const where = {
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      namespace: this.namespace,
      plural,
    };
    await this.custom.createNamespacedCustomObject({ ...where, body });
    await this.custom.patchNamespacedCustomObjectStatus(
      { ...where, name, body: { status } },
      MERGE,
    );
  }

  /** Generated records (of `kind`) in this namespace, by their source's labels. */
  async generated(kind: string, source: { namespace: string; name: string }) {
    const list = (await this.custom.listNamespacedCustomObject({
      group: 'dns.bind9-controller.io',
      version: 'v1alpha1',
      namespace: this.namespace,
      plural: `${kind.toLowerCase()}s`,
      labelSelector: `dns.bind9-controller.io/source-namespace=${source.namespace},dns.bind9-controller.io/source-name=${source.name}`,
    })) as { items: GeneratedRecord[] };
    return list.items;
  }
}

export interface GeneratedRecord {
  metadata: { name: string; ownerReferences?: { kind: string; name: string; uid: string }[] };
  spec: Record<string, unknown>;
  status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
}

export const readyOf = (r: GeneratedRecord | undefined) =>
  r?.status?.conditions?.find((c) => c.type === 'Ready');
