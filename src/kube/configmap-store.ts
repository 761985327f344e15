/**
 * `configMap` delivery of base zone files (DESIGN.md): the controller keeps each zone's
 * base file as a key of a ConfigMap that the BIND9 pods mount at `mountPath`. Only base
 * files travel this way; records always travel as UPDATE messages.
 *
 * Structurally a `ZoneFileStore` of src/bind/files.ts. A ConfigMap mount is read-only, and
 * named keeps a zone's journal beside its file unless told otherwise: every UPDATE would
 * then fail ("journal open failed", SERVFAIL). So the journal is named relative, which
 * named resolves against its own writable `directory` option.
 */
import { isNotFound, type Kube, kubeError } from './client.ts';

export interface ConfigMapStoreOptions {
  readonly kube: Kube;
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
  const patchData = async (data: Record<string, string | null>) => {
    await o.kube.patchConfigMap(o.namespace, o.name, { data });
  };
  return {
    /** What an ensured zone depends on (src/bind/ensured.ts): the ConfigMap and the mount. */
    where: `configMap:${o.namespace}/${o.name} mountPath:${o.mountPath}`,
    async write(zone: string, content: string): Promise<{ file: string; journal: string }> {
      const key = zoneFileKey(zone);
      try {
        await patchData({ [key]: content });
      } catch (error) {
        if (!isNotFound(error)) throw kubeError(`write ${where}`, error);
        try {
          await o.kube.createConfigMap(o.namespace, {
            metadata: { name: o.name, namespace: o.namespace },
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
        await patchData({ [zoneFileKey(zone)]: null });
      } catch (error) {
        if (!isNotFound(error)) throw kubeError(`remove from ${where}`, error);
      }
    },
  };
}
