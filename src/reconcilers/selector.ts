/**
 * metav1.LabelSelector matching: every `matchLabels` pair and every `matchExpressions`
 * requirement must hold. An empty selector selects everything, as in Kubernetes.
 */
import type { LabelSelector, LabelSelectorRequirement } from '../api/dnszone.ts';

export function requirementHolds(
  requirement: LabelSelectorRequirement,
  labels: Readonly<Record<string, string>>,
): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return has && values.includes(value ?? '');
    case 'NotIn':
      return !has || !values.includes(value ?? '');
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const l = labels ?? {};
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    if (l[key] !== value) return false;
  }
  return (selector?.matchExpressions ?? []).every((r) => requirementHolds(r, l));
}
