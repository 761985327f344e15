/**
 * The Bind9Cluster part of the controller: its context (the applier of the objects it
 * owns, which named.conf a pod runs) and which events wake a cluster's key. Kept apart so
 * controller.ts only asks "which cluster key does this event concern" and "reconcile it".
 */
import { BindServerConfig } from '../bind/server-config.ts';
import type { DnsClient } from '../dns/client.ts';
import { ObjectApplier } from '../kube/apply.ts';
import type { Kube, KubeObject } from '../kube/client.ts';
import type { ClusterContext } from '../reconcilers/cluster/context.ts';
import { clusterOf } from '../reconcilers/cluster/names.ts';
import { reconcileCluster } from '../reconcilers/cluster/reconcile.ts';
import type { Outcome } from '../reconcilers/outcome.ts';
import { clusterKey } from './keys.ts';

/** The labels of the controller's own pods (deploy/deployment.yaml): rndc is open to them. */
export const CONTROLLER_POD_LABELS = { 'app.kubernetes.io/name': 'bind9-controller' };

export type ClusterWiringOptions = Pick<
  ClusterContext,
  'clusters' | 'instances' | 'events' | 'keys' | 'files' | 'clock' | 'log'
> & {
  readonly kube: Kube;
  readonly dns: DnsClient;
  /** Where the controller's pods run (the NetworkPolicy lets them reach rndc). */
  readonly controllerNamespace: string;
};

export class ClusterWiring {
  readonly #ctx: ClusterContext;

  constructor(o: ClusterWiringOptions) {
    this.#ctx = {
      clusters: o.clusters,
      instances: o.instances,
      api: new ObjectApplier(o.kube),
      writer: o.kube,
      events: o.events,
      keys: o.keys,
      files: o.files,
      servers: new BindServerConfig(o.dns),
      clock: o.clock,
      log: o.log,
      controller: { namespace: o.controllerNamespace, labels: CONTROLLER_POD_LABELS },
      reconfigured: new Map(),
    };
  }

  /**
   * The cluster an instance belongs to, for every event of it, status included: a pod's
   * instance turning Ready is what makes its cluster Ready.
   */
  keyForInstance(obj: KubeObject): string | undefined {
    const cluster = clusterOf(obj.metadata.labels);
    return cluster === undefined ? undefined : clusterKey(obj.metadata.namespace, cluster);
  }

  /** Every cluster's key (after start). */
  keys(): string[] {
    return this.#ctx.clusters.list().map((c) => clusterKey(c.metadata.namespace, c.metadata.name));
  }

  reconcile(namespace: string, name: string): Promise<Outcome> {
    return reconcileCluster(this.#ctx, namespace, name);
  }
}
