/**
 * What a Bind9Cluster's pods are doing, as a value (STYLE.md habit 14): whether each
 * StatefulSet has rolled out and its pods are Ready, whether each pod's Bind9Instance is
 * Ready (rndc and DNS answer with the keys), and whether each named runs the named.conf
 * rendered last. A named that runs an older one is sent `rndc reconfig` (at most every
 * 10 s: its ConfigMap volume may not have been refreshed yet); that is the only thing
 * this file does to a server.
 *
 * `Ready` is True when every pod serves with the current configuration; otherwise it names
 * the first thing that does not, in the order a user would look: pods, instances, config.
 */
import type { ClusterRole } from '../../api/bind9cluster.ts';
import { objectId } from '../../api/ids.ts';
import type { Bind9Cluster, Bind9Instance } from '../../api/kinds.ts';
import { isControllerError } from '../../errors.ts';
import type { LiveObject } from '../../kube/apply.ts';
import { findCondition } from '../../kube/conditions.ts';
import { reasonFor } from '../reasons.ts';
import { resolveTarget } from '../target.ts';
import type { ClusterContext } from './context.ts';
import { clusterPods } from './names.ts';

const RECONFIG_EVERY_MS = 10_000;

export interface Replicas {
  readonly replicas: number;
  readonly readyReplicas: number;
}

export interface PodStatus {
  readonly name: string;
  readonly role: ClusterRole;
  readonly address: string;
  readonly ready: boolean;
  readonly configured: boolean;
}

export interface Observed {
  readonly primary: Replicas;
  readonly secondaries: Replicas;
  /** Whether each StatefulSet has rolled out to every pod, all of them Ready. */
  readonly rolledOut: Readonly<Record<ClusterRole, boolean>>;
  readonly instances: readonly PodStatus[];
  /** Instances not Ready, with their own reason. */
  readonly notReady: readonly string[];
  readonly ready: boolean;
}

export interface Seen {
  readonly sets: Readonly<Record<ClusterRole, LiveObject | undefined>>;
  readonly configIds: Readonly<Record<ClusterRole, string>>;
  readonly addresses: ReadonlyMap<string, string>;
}

interface SetStatus {
  readonly observedGeneration?: number;
  readonly readyReplicas?: number;
  readonly updatedReplicas?: number;
}

function replicasOf(set: LiveObject | undefined, wanted: number) {
  const status = (set?.status ?? {}) as SetStatus;
  const generation = (set?.metadata as { generation?: number } | undefined)?.generation;
  const ready = status.readyReplicas ?? 0;
  const rolledOut =
    set !== undefined &&
    (status.observedGeneration ?? 0) >= (generation ?? 0) &&
    ready === wanted &&
    (status.updatedReplicas ?? 0) === wanted;
  return { replicas: { replicas: wanted, readyReplicas: ready }, rolledOut };
}

export async function observe(
  ctx: ClusterContext,
  cluster: Bind9Cluster,
  seen: Seen,
): Promise<Observed> {
  const primary = replicasOf(seen.sets.primary, 1);
  const secondaries = replicasOf(seen.sets.secondary, cluster.spec.secondaries.replicas);
  const instances: PodStatus[] = [];
  const notReady: string[] = [];
  for (const pod of clusterPods(cluster)) {
    const instance = ctx.instances.get(cluster.metadata.namespace, pod.name);
    const condition = findCondition(instance?.status?.conditions, 'Ready');
    const ready = condition?.status === 'True';
    if (!ready) notReady.push(`${pod.name}: ${condition?.reason ?? 'not created yet'}`);
    const configured =
      ready &&
      instance !== undefined &&
      (await runsConfig(ctx, cluster, instance, seen.configIds[pod.role]));
    instances.push({
      name: pod.name,
      role: pod.role,
      address: seen.addresses.get(pod.name) ?? '',
      ready,
      configured,
    });
  }
  const rolledOut = { primary: primary.rolledOut, secondary: secondaries.rolledOut };
  const ready =
    rolledOut.primary && rolledOut.secondary && instances.every((i) => i.ready && i.configured);
  return {
    primary: primary.replicas,
    secondaries: secondaries.replicas,
    rolledOut,
    instances,
    notReady,
    ready,
  };
}

/** Whether named there runs `configId`; if not, asks it to read its configuration again. */
async function runsConfig(
  ctx: ClusterContext,
  cluster: Bind9Cluster,
  instance: Bind9Instance,
  configId: string,
): Promise<boolean> {
  const id = objectId(instance.metadata);
  try {
    const target = await resolveTarget(instance, ctx.keys, ctx.files);
    const loaded = await ctx.servers.loadedConfig(target);
    if (loaded === configId) return true;
    const last = ctx.reconfigured.get(id);
    if (last === undefined || ctx.clock.now() - last >= RECONFIG_EVERY_MS) {
      ctx.reconfigured.set(id, ctx.clock.now());
      await ctx.servers.reconfig(target);
      ctx.log.info({ instance: id, loaded, configId }, 'sent rndc reconfig');
      const message = `sent rndc reconfig to ${instance.metadata.name}: it runs ${loaded ?? 'no named.conf of ours'}, the ConfigMap has ${configId}`;
      await ctx.events.record(cluster, 'Normal', 'Reconfigured', message);
    }
    return false;
  } catch (error) {
    ctx.log.debug({ instance: id, err: String(error) }, 'could not read the loaded config');
    return false;
  }
}

export function readyCondition(o: Observed) {
  const pods = `primary ${o.primary.readyReplicas}/1, secondaries ${o.secondaries.readyReplicas}/${o.secondaries.replicas} Ready`;
  if (!o.rolledOut.primary || !o.rolledOut.secondary) {
    return { status: 'False' as const, reason: 'PodsNotReady', message: pods };
  }
  if (o.notReady.length > 0) {
    return { status: 'False' as const, reason: 'InstanceNotReady', message: o.notReady.join('; ') };
  }
  const stale = o.instances.filter((i) => !i.configured).map((i) => i.name);
  if (stale.length > 0) {
    return {
      status: 'False' as const,
      reason: 'ConfigPending',
      message: `waiting for ${stale.join(', ')} to load the current named.conf (rndc reconfig sent)`,
    };
  }
  const count = o.instances.length;
  return {
    status: 'True' as const,
    reason: 'Serving',
    message: `${count} pod${count === 1 ? '' : 's'} serve with the current named.conf`,
  };
}

/**
 * The condition for a failed run, in the reasons every kind uses (reasons.ts): a key
 * Secret missing or unusable (SecretNotFound, InvalidKey), the API server refusing an
 * object or away (ApiServerRefused, ApiServerUnavailable).
 */
export function clusterReason(error: unknown): {
  reason: string;
  message: string;
  permanent: boolean;
} {
  if (!isControllerError(error))
    return { reason: 'Error', message: String(error), permanent: false };
  return { ...reasonFor(error), permanent: error.disposition === 'permanent' };
}
