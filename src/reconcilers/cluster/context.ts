/**
 * What the Bind9Cluster reconcile works with (STYLE.md habit 9: the seam is declared by
 * its user): the informer caches of clusters and instances, the API calls on the objects
 * it owns, status and Events, the instances' keys, and the one thing it asks of a BIND9
 * server itself (which named.conf it runs; src/bind/server-config.ts).
 */
import type { Logger } from 'pino';
import type { Bind9Cluster, Bind9Instance } from '../../api/kinds.ts';
import type { ServerConfig } from '../../bind/server-config.ts';
import type { ApiResource, Applied, LiveObject, Manifest } from '../../kube/apply.ts';
import type { Clock } from '../../kube/clock.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { Store } from '../../kube/informer.ts';
import type { KeySource } from '../../kube/secrets.ts';
import type { ObjectWriter } from '../context.ts';
import type { FileStores } from '../target.ts';
import type { ControllerPods } from './desired.ts';
import type { KeySecrets } from './keys.ts';

/** The API calls on what a cluster owns (src/kube/apply.ts's ObjectApplier, plus readSecret). */
export interface ClusterApi extends KeySecrets {
  apply(plural: string, manifest: Manifest): Promise<Applied>;
  get(type: ApiResource, namespace: string, name: string): Promise<LiveObject | undefined>;
  delete(type: ApiResource, namespace: string, name: string, uid?: string): Promise<void>;
}

export interface ClusterContext {
  readonly clusters: Store<Bind9Cluster>;
  readonly instances: Store<Bind9Instance>;
  readonly api: ClusterApi;
  readonly writer: ObjectWriter;
  readonly events: EventRecorder;
  /** The instances' keys, as the other reconcilers read them. */
  readonly keys: KeySource;
  readonly files: FileStores;
  readonly servers: ServerConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly controller: ControllerPods;
  /** When `rndc reconfig` last went to each instance (`namespace/name`): at most every 10 s. */
  readonly reconfigured: Map<string, number>;
}
