import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';

const REPO = resolve(import.meta.dirname, '../..');

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

/** (group, resource, verb) triples from the table in rbac-needs.md. */
function needs(): [string, string, string][] {
  const text = readFileSync(resolve(import.meta.dirname, 'rbac-needs.md'), 'utf8');
  // Table rows only: not the header, not the |---| separator (however a formatter pads them).
  const rows = text.split('\n').filter((l) => /^\|\s*[a-z]/.test(l) && !/^\|\s*group\s*\|/.test(l));
  return rows.flatMap((row) => {
    const [group, resources, verbs] = row
      .split('|')
      .slice(1, 4)
      .map((c) => c.trim());
    const g = group === 'core' ? '' : (group ?? '');
    const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim());
    return list(resources).flatMap((r) =>
      list(verbs).map((v): [string, string, string] => [g, r, v]),
    );
  });
}

function rules(...files: string[]): Rule[] {
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(resolve(REPO, f), 'utf8'))
      .map((d) => d.toJS() as { kind?: string; rules?: Rule[] })
      .filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role')
      .flatMap((d) => d.rules ?? []),
  );
}

describe('deploy/ RBAC', () => {
  it('grants every verb the controller uses, as listed in rbac-needs.md', () => {
    const granted = rules('deploy/clusterrole.yaml', 'deploy/leader-election-role.yaml');
    const missing = needs().filter(
      ([g, r, v]) =>
        !granted.some(
          (rule) =>
            (rule.apiGroups ?? []).includes(g) &&
            (rule.resources ?? []).includes(r) &&
            (rule.verbs ?? []).includes(v),
        ),
    );
    assert.ok(needs().length > 30);
    assert.deepEqual(missing, []);
  });
});
