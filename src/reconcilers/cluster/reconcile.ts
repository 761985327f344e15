/**
 * The Bind9Cluster reconcile, top to bottom (STYLE.md habit 5): keys → Services (their
 * cluster IPs are the pods' stable addresses) → everything else, by server-side apply →
 * what scale-down left behind → what the pods run → status.
 *
 * Level-based: every run applies the whole desired set, so a child someone deleted or
 * edited is put back, and an apply that changes nothing writes nothing. No finalizer:
 * every child carries an owner reference, so deleting the cluster lets the garbage
 * collector remove it all — the Bind9Instances too, which releases their zones (a DNSZone
 * stops listing an instance that is gone) — and nothing can be left waiting on the
 * controller. While pods are not serving yet, the key is looked at again with a delay
 * that grows with how long that has lasted (2 s to 30 s).
 */
import type { ClusterRole } from '../../api/bind9cluster.ts';
import { objectId } from '../../api/ids.ts';
import type { Bind9Cluster, Bind9Instance } from '../../api/kinds.ts';
import { API_GROUP_VERSION } from '../../api/meta.ts';
import { nameIssues } from '../../api/semantics.ts';
import { formatIssues, validateSpec } from '../../api/validate.ts';
import { API_RESOURCES, type LiveObject } from '../../kube/apply.ts';
import { findCondition } from '../../kube/conditions.ts';
import { isDeleting, writeReady } from '../context.ts';
import { GONE, OK, type Outcome } from '../outcome.ts';
import type { ClusterContext } from './context.ts';
import { type Desired, desiredServices, desiredWorkload, renderConfigs } from './desired.ts';
import { type EnsuredKeys, ensureKeys } from './keys.ts';
import { clusterNames, clusterOf, clusterPods } from './names.ts';
import { clusterReason, type Observed, observe, readyCondition } from './status.ts';

const BIND9_INSTANCES = {
  apiVersion: API_GROUP_VERSION,
  kind: 'Bind9Instance',
  plural: 'bind9instances',
} as const;

export async function reconcileCluster(
  ctx: ClusterContext,
  namespace: string,
  name: string,
): Promise<Outcome> {
  const cluster = ctx.clusters.get(namespace, name);
  if (cluster === undefined) return GONE;
  if (isDeleting(cluster)) return OK;
  const invalid = specProblem(cluster);
  if (invalid !== undefined) {
    await writeReady(ctx, cluster, { status: 'False', reason: 'InvalidSpec', message: invalid });
    return { result: 'permanent', error: new Error(invalid) };
  }
  try {
    return await converge(ctx, cluster);
  } catch (error) {
    const { reason, message, permanent } = clusterReason(error);
    await writeReady(ctx, cluster, { status: 'False', reason, message });
    return permanent ? { result: 'permanent', error } : { result: 'transient', error };
  }
}

/** The API server checked the schema; the rules it cannot state are checked here. */
function specProblem(cluster: Bind9Cluster): string | undefined {
  const checked = validateSpec('Bind9Cluster', cluster.spec);
  const issues = [...nameIssues('Bind9Cluster', cluster.metadata.name)];
  if (!checked.ok) issues.push(...checked.errors);
  return issues.length === 0 ? undefined : formatIssues(issues);
}

async function converge(ctx: ClusterContext, cluster: Bind9Cluster): Promise<Outcome> {
  const keys = await ensureKeys(ctx.api, cluster);
  const services = await applyAll(ctx, desiredServices(cluster));
  const addresses = clusterIps(services.objects);
  const inputs = { keys, addresses, controller: ctx.controller };
  const workload = await applyAll(ctx, desiredWorkload(cluster, inputs));
  const removed = await removeStale(ctx, cluster);
  await recordActions(ctx, cluster, keys, [...services.created, ...workload.created], removed);
  const configs = renderConfigs(cluster, inputs);
  const observed = await observe(ctx, cluster, {
    sets: setsOf(cluster, workload.objects),
    configIds: { primary: configs.primary.configId, secondary: configs.secondary.configId },
    addresses,
  });
  await writeStatus(
    ctx,
    cluster,
    keys,
    observed,
    addresses.get(clusterNames(cluster.metadata.name).query),
  );
  return observed.ready ? OK : requeueWhileProgressing(ctx, cluster);
}

interface AppliedSet {
  /** By `Kind/name`, as the API server returned them. */
  readonly objects: Map<string, LiveObject>;
  /** `Kind/name` of what this run created. */
  readonly created: string[];
}

async function applyAll(ctx: ClusterContext, desired: readonly Desired[]): Promise<AppliedSet> {
  const objects = new Map<string, LiveObject>();
  const created: string[] = [];
  for (const { plural, manifest } of desired) {
    const applied = await ctx.api.apply(plural, manifest);
    objects.set(`${manifest.kind}/${manifest.metadata.name}`, applied.object);
    if (applied.created) created.push(`${manifest.kind}/${manifest.metadata.name}`);
  }
  return { objects, created };
}

/** The cluster IP of each Service, by Service name: a pod's stable address is its Service's. */
function clusterIps(objects: ReadonlyMap<string, LiveObject>): Map<string, string> {
  const addresses = new Map<string, string>();
  for (const [id, object] of objects) {
    const ip = (object.spec as { clusterIP?: string } | undefined)?.clusterIP;
    if (id.startsWith('Service/') && ip !== undefined && ip !== 'None' && ip !== '') {
      addresses.set(id.slice('Service/'.length), ip);
    }
  }
  return addresses;
}

function setsOf(cluster: Bind9Cluster, objects: Map<string, LiveObject>) {
  const names = clusterNames(cluster.metadata.name);
  const of = (role: ClusterRole) => objects.get(`StatefulSet/${names.statefulSet(role)}`);
  return { primary: of('primary'), secondary: of('secondary') };
}

/** The instances (from the cache) that this cluster made. */
export function instancesOf(ctx: ClusterContext, cluster: Bind9Cluster): Bind9Instance[] {
  return ctx.instances
    .list(cluster.metadata.namespace)
    .filter((i) => clusterOf(i.metadata.labels) === cluster.metadata.name);
}

/**
 * After a scale-down, the pods above the new count are gone (the StatefulSet was applied
 * first): their Bind9Instances and Services go too. Known from the cache and from the
 * status, so a controller restarted in between still finds them.
 */
async function removeStale(ctx: ClusterContext, cluster: Bind9Cluster): Promise<string[]> {
  const wanted = new Set(clusterPods(cluster).map((p) => p.name));
  const known = new Map<string, string | undefined>();
  for (const i of cluster.status?.instances ?? []) known.set(i.name, undefined);
  for (const i of instancesOf(ctx, cluster)) known.set(i.metadata.name, i.metadata.uid);
  const removed: string[] = [];
  const namespace = cluster.metadata.namespace;
  for (const [name, uid] of known) {
    if (wanted.has(name)) continue;
    await ctx.api.delete(BIND9_INSTANCES, namespace, name, uid);
    await ctx.api.delete(API_RESOURCES.Service, namespace, name);
    removed.push(name);
  }
  return removed;
}

/** Normal Events for what this run did (never for what it found as it should be). */
async function recordActions(
  ctx: ClusterContext,
  cluster: Bind9Cluster,
  keys: EnsuredKeys,
  created: readonly string[],
  removed: readonly string[],
): Promise<void> {
  const id = objectId(cluster.metadata);
  for (const secret of keys.generated) {
    ctx.log.info({ cluster: id, secret }, 'generated a key Secret');
    await ctx.events.record(
      cluster,
      'Normal',
      'KeyGenerated',
      `generated the key Secret ${secret} (hmac-sha256)`,
    );
  }
  if (created.length > 0) {
    ctx.log.info({ cluster: id, created }, 'created cluster objects');
    await ctx.events.record(cluster, 'Normal', 'Created', `created ${created.join(', ')}`);
  }
  if (removed.length > 0) {
    ctx.log.info({ cluster: id, removed }, 'removed the instances of pods scaled away');
    await ctx.events.record(
      cluster,
      'Normal',
      'ScaledDown',
      `removed the Bind9Instance and Service of ${removed.join(', ')}`,
    );
  }
}

async function writeStatus(
  ctx: ClusterContext,
  cluster: Bind9Cluster,
  keys: EnsuredKeys,
  observed: Observed,
  serviceAddress: string | undefined,
): Promise<void> {
  const names = clusterNames(cluster.metadata.name);
  await writeReady(ctx, cluster, readyCondition(observed), {
    primary: observed.primary,
    secondaries: observed.secondaries,
    readyReplicas: observed.primary.readyReplicas + observed.secondaries.readyReplicas,
    instances: observed.instances,
    serviceName: names.query,
    ...(serviceAddress === undefined ? {} : { serviceAddress }),
    tsigKeySecret: keys.tsigSecret,
    rndcKeySecret: keys.rndcSecret,
  });
}

/** Look again soon while pods start, less often the longer it takes (2 s to 30 s). */
function requeueWhileProgressing(ctx: ClusterContext, cluster: Bind9Cluster): Outcome {
  const since = findCondition(cluster.status?.conditions, 'Ready')?.lastTransitionTime;
  const elapsed = since === undefined ? 0 : ctx.clock.now() - Date.parse(since);
  const afterMs = Math.min(30_000, Math.max(2_000, Math.round(elapsed / 4)));
  return { result: 'requeue', afterMs, reason: 'pods not serving yet' };
}
