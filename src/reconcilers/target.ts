/**
 * A Bind9Instance resolved into what the backend talks to: endpoints and the two keys,
 * read from Secrets in the instance's namespace.
 */
import { primariesPort } from '../api/bind9instance.ts';
import type { Bind9Instance } from '../api/kinds.ts';
import type { KeySource } from '../kube/secrets.ts';
import type { InstanceTarget } from './backend.ts';

export function instanceId(instance: Bind9Instance): string {
  return `${instance.metadata.namespace ?? ''}/${instance.metadata.name}`;
}

export async function resolveTarget(
  instance: Bind9Instance,
  keys: KeySource,
): Promise<InstanceTarget> {
  const namespace = instance.metadata.namespace ?? '';
  const spec = instance.spec;
  const [tsigKey, rndcKey] = await Promise.all([
    keys.key(namespace, spec.tsigKeySecretRef.name),
    keys.key(namespace, spec.rndc.keySecretRef.name),
  ]);
  const zoneFiles = spec.zoneFiles?.directory
    ? { directory: spec.zoneFiles.directory }
    : spec.zoneFiles?.configMap
      ? { configMap: spec.zoneFiles.configMap }
      : undefined;
  return {
    id: instanceId(instance),
    namespace,
    role: spec.role,
    dns: { address: spec.dns.address, port: spec.dns.port ?? 53 },
    rndc: { address: spec.rndc.address, port: spec.rndc.port ?? 953 },
    tsigKey,
    rndcKey,
    ...(zoneFiles === undefined ? {} : { zoneFiles }),
    ...(spec.primaries === undefined
      ? {}
      : { primaries: spec.primaries, primariesPort: primariesPort(spec) }),
  };
}

/** Forget cached keys of an instance (after a server rejected one). */
export function forgetKeys(instance: Bind9Instance, keys: KeySource): void {
  const namespace = instance.metadata.namespace ?? '';
  keys.invalidate(namespace, instance.spec.tsigKeySecretRef.name);
  keys.invalidate(namespace, instance.spec.rndc.keySecretRef.name);
}
