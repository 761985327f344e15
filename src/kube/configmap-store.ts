/**
 * `configMap` delivery of base zone files (DESIGN.md): the controller keeps each zone's
 * base file as a key of a ConfigMap that the BIND9 pods mount at `mountPath`. Only base
 * files travel this way; records always travel as UPDATE messages.
 *
 * Structurally a `ZoneFileStore` of src/bind/files.ts. A ConfigMap mount is read-only, and
 * named keeps a zone's journal beside its file unless told otherwise: every UPDATE would
 * then fail ("journal open failed", SERVFAIL). So the journal is named relative, which
 * named resolves against its own writable `directory` option.
 *
 * Only a ConfigMap the controller created (and labelled `managed-by: bind9-controller`) is
 * written to or has keys removed: a Bind9Instance naming an unrelated ConfigMap (an app's
 * configuration) is refused (DELIVERY_REFUSED), so nobody can edit ConfigMaps through the
 * controller that they could not edit themselves (issue #18).
 */
import { PermanentError } from '../errors.ts';
import { isNotFound, type Kube, kubeError } from './client.ts';

/** The label on every ConfigMap the controller creates for base files. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'bind9-controller' } as const;

type ConfigMapKube = Pick<Kube, 'readConfigMap' | 'createConfigMap' | 'patchConfigMap'>;

export interface ConfigMapStoreOptions {
  readonly kube: ConfigMapKube;
  /**
   * Whether an unlabelled ConfigMap's data is base files the controller wrote before it
   * labelled its ConfigMaps (an upgrade): then it is labelled and used. Default: never.
   */
  readonly adoptable?: (data: Readonly<Record<string, string>>) => boolean;
  readonly namespace: string;
  readonly name: string;
  readonly mountPath: string;
}

/** ConfigMap keys allow `[-._a-zA-Z0-9]`: validated zone names already fit. */
export function zoneFileKey(zone: string): string {
  return `${zone}.db`;
}

/** The journal, relative: inside named's `directory`, not on the read-only mount. */
export function zoneJournal(zone: string): string {
  return `${zoneFileKey(zone)}.jnl`;
}

export function configMapStore(o: ConfigMapStoreOptions) {
  const where = `configmap ${o.namespace}/${o.name}`;
  /** The ConfigMap as it is: 'absent', ours, or refused. */
  const state = async (): Promise<'absent' | 'ours'> => {
    let found: { metadata?: { labels?: Record<string, string> } } | undefined;
    try {
      found = await o.kube.readConfigMap(o.namespace, o.name);
    } catch (error) {
      throw kubeError(`read ${where}`, error);
    }
    if (found === undefined) return 'absent';
    const [label, value] = Object.entries(MANAGED_BY)[0] as [string, string];
    if (found.metadata?.labels?.[label] === value) return 'ours';
    const data = (found as { data?: Record<string, string> }).data ?? {};
    if (Object.keys(data).length > 0 && o.adoptable?.(data) === true) {
      await o.kube.patchConfigMap(o.namespace, o.name, { metadata: { labels: { ...MANAGED_BY } } });
      return 'ours';
    }
    throw new PermanentError(
      'DELIVERY_REFUSED',
      `ConfigMap ${o.namespace}/${o.name} was not created by bind9-controller (it lacks the label ${label}=${value}), so no base file goes into it; name a ConfigMap of its own in zoneFiles.configMap.name (the controller creates it), or label this one to hand it over`,
    );
  };
  const patchData = async (data: Record<string, string | null>) => {
    await o.kube.patchConfigMap(o.namespace, o.name, { data });
  };
  return {
    /** What an ensured zone depends on (src/bind/ensured.ts): the ConfigMap and the mount. */
    where: `configMap:${o.namespace}/${o.name} mountPath:${o.mountPath}`,
    async write(zone: string, content: string): Promise<{ file: string; journal: string }> {
      const key = zoneFileKey(zone);
      if ((await state()) === 'ours') {
        await patchData({ [key]: content }).catch((error: unknown) => {
          throw kubeError(`write ${where}`, error);
        });
      } else {
        try {
          await o.kube.createConfigMap(o.namespace, {
            metadata: { name: o.name, namespace: o.namespace, labels: { ...MANAGED_BY } },
            data: { [key]: content },
          });
        } catch (createError) {
          throw kubeError(`create ${where}`, createError);
        }
      }
      return { file: `${o.mountPath.replace(/\/$/, '')}/${key}`, journal: zoneJournal(zone) };
    },
    async remove(zone: string): Promise<void> {
      try {
        if ((await state()) === 'absent') return;
        await patchData({ [zoneFileKey(zone)]: null });
      } catch (error) {
        if (error instanceof PermanentError && error.code === 'DELIVERY_REFUSED') return;
        if (!isNotFound(error)) throw kubeError(`remove from ${where}`, error);
      }
    },
  };
}
