/**
 * Work-queue keys: one per zone (`zone/<namespace>/<DNSZone name>`) and one per instance
 * (`instance/<namespace>/<name>`). Record events map to their zone's key.
 */
export type KeyKind = 'zone' | 'instance';

export interface ParsedKey {
  readonly kind: KeyKind;
  readonly namespace: string;
  readonly name: string;
}

export const zoneKey = (namespace: string, name: string) => `zone/${namespace}/${name}`;
export const instanceKey = (namespace: string, name: string) => `instance/${namespace}/${name}`;

export function parseKey(key: string): ParsedKey | undefined {
  const [kind, namespace, name, ...rest] = key.split('/');
  if ((kind !== 'zone' && kind !== 'instance') || !namespace || !name || rest.length > 0) {
    return undefined;
  }
  return { kind, namespace, name };
}
