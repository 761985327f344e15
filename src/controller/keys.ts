/**
 * Work-queue keys: one per zone (`zone/<namespace>/<DNSZone name>`), one per instance
 * (`instance/<namespace>/<name>`) and one per Bind9Cluster (`cluster/<namespace>/<name>`).
 * Record events map to their zone's key.
 */
export type KeyKind = 'zone' | 'instance' | 'cluster';

const KINDS: ReadonlySet<string> = new Set<KeyKind>(['zone', 'instance', 'cluster']);

export interface ParsedKey {
  readonly kind: KeyKind;
  readonly namespace: string;
  readonly name: string;
}

export const zoneKey = (namespace: string, name: string) => `zone/${namespace}/${name}`;
export const instanceKey = (namespace: string, name: string) => `instance/${namespace}/${name}`;
export const clusterKey = (namespace: string, name: string) => `cluster/${namespace}/${name}`;

export function parseKey(key: string): ParsedKey | undefined {
  const [kind, namespace, name, ...rest] = key.split('/');
  if (kind === undefined || !KINDS.has(kind) || !namespace || !name || rest.length > 0) {
    return undefined;
  }
  return { kind: kind as KeyKind, namespace, name };
}
