/**
 * From a Bind9Instance to the instance to talk to (src/bind/target.ts): endpoints, the two
 * keys read from Secrets in the instance's namespace, and the store its base files go to.
 */
import { primariesPort } from '../api/bind9instance.ts';
import { objectId } from '../api/ids.ts';
import type { Bind9Instance } from '../api/kinds.ts';
import type { ZoneFileStore } from '../bind/files.ts';
import type { InstanceTarget } from '../bind/target.ts';
import type { KeySource } from '../kube/secrets.ts';

/**
 * Where base files may go, as the controller was configured: `configMap` delivery needs the
 * Kubernetes client, `directory` delivery the roots the operator allowed (both may refuse,
 * with DELIVERY_REFUSED).
 */
export interface FileStores {
  configMap(namespace: string, spec: { name: string; mountPath: string }): ZoneFileStore;
  directory(path: string): ZoneFileStore;
}

function filesOf(instance: Bind9Instance, stores: FileStores): ZoneFileStore | undefined {
  const z = instance.spec.zoneFiles;
  if (z?.directory !== undefined) return stores.directory(z.directory.path);
  if (z?.configMap !== undefined) return stores.configMap(instance.metadata.namespace, z.configMap);
  return undefined;
}

export async function resolveTarget(
  instance: Bind9Instance,
  keys: KeySource,
  stores: FileStores,
): Promise<InstanceTarget> {
  const namespace = instance.metadata.namespace;
  const spec = instance.spec;
  // A recordsOnly instance has no rndc (the CRD's rules): its zones are provisioned outside.
  const control = spec.rndc;
  const [tsigKey, rndc] = await Promise.all([
    keys.key(namespace, spec.tsigKeySecretRef),
    control === undefined
      ? undefined
      : keys.key(namespace, control.keySecretRef).then((key) => ({
          endpoint: { address: control.address, port: control.port ?? 953 },
          key,
        })),
  ]);
  const files = filesOf(instance, stores);
  const port = primariesPort(spec);
  return {
    id: objectId(instance.metadata),
    role: spec.role,
    dns: { address: spec.dns.address, port: spec.dns.port ?? 53 },
    tsigKey,
    ...(rndc === undefined ? {} : { rndc }),
    ...(spec.recordsOnly === true ? { recordsOnly: true } : {}),
    ...(files === undefined ? {} : { files }),
    ...(spec.primaries === undefined
      ? {}
      : { primaries: spec.primaries.map((address) => ({ address, port })) }),
  };
}

/** Forget cached keys of an instance (after a server rejected one). */
export function forgetKeys(instance: Bind9Instance, keys: KeySource): void {
  const namespace = instance.metadata.namespace;
  keys.invalidate(namespace, instance.spec.tsigKeySecretRef.name);
  if (instance.spec.rndc !== undefined) {
    keys.invalidate(namespace, instance.spec.rndc.keySecretRef.name);
  }
}
