/**
 * deploy/sources/<name>/: each source's kustomize component grants what that source needs
 * — list and watch of what its informers read (kinds.ts, the same table the controller
 * watches from), create, patch and delete of the generated record kinds — and passes its
 * `--sources` name to the controller. Nothing a source does not need: Secrets, Pods and
 * record kinds the sources never write stay out.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { pluralOf } from '../reconcilers/context.ts';
import { GENERATED_KINDS } from './generated.ts';
import { GATEWAYS, parseSources, ROUTE_KINDS, SOURCE_KINDS, type SourceKind } from './kinds.ts';

const DEPLOY = resolve(import.meta.dirname, '../../deploy/sources');

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

interface Doc {
  kind: string;
  metadata: { name: string };
  rules?: Rule[];
  roleRef?: { name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
}

function component(name: string): { rules: Rule[]; args: string[]; docs: Doc[] } {
  const docs = parseAllDocuments(
    readFileSync(resolve(DEPLOY, name, 'clusterrole.yaml'), 'utf8'),
  ).map((d) => d.toJS() as Doc);
  const rules = docs.filter((d) => d.kind === 'ClusterRole').flatMap((d) => d.rules ?? []);
  const kustomization = parseAllDocuments(
    readFileSync(resolve(DEPLOY, name, 'kustomization.yaml'), 'utf8'),
  )[0]?.toJS() as { patches: { patch: string }[] };
  const args = kustomization.patches.flatMap((p) =>
    ((parseAllDocuments(p.patch)[0]?.toJS() ?? []) as { value: string }[]).map((op) => op.value),
  );
  return { rules, args, docs };
}

const grants = (rules: Rule[], group: string, resource: string, verb: string) =>
  rules.some(
    (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
  );

/** The component that switches each kind on, and its `--sources` value. */
const COMPONENTS: Record<SourceKind, string> = {
  Service: 'service',
  Ingress: 'ingress',
  HTTPRoute: 'gateway',
  GRPCRoute: 'gateway',
  TLSRoute: 'gateway-tlsroute',
};

describe('deploy/sources RBAC', () => {
  for (const kind of Object.keys(SOURCE_KINDS) as SourceKind[]) {
    it(`lets the ${kind} source watch what it reads and write only the generated records`, () => {
      const name = COMPONENTS[kind];
      const { rules, args, docs } = component(name);
      const { group, plural } = SOURCE_KINDS[kind].collection;
      for (const verb of ['list', 'watch']) {
        assert.ok(grants(rules, group, plural, verb), `${verb} ${plural}`);
        if (ROUTE_KINDS.has(kind)) assert.ok(grants(rules, GATEWAYS.group, GATEWAYS.plural, verb));
      }
      for (const k of GENERATED_KINDS)
        for (const verb of ['create', 'patch', 'delete'])
          assert.ok(grants(rules, 'dns.bind9-controller.io', pluralOf(k), verb), `${verb} ${k}`);
      const flag = args.map((a) => a.replace('--sources=', ''));
      assert.ok(
        parseSources(flag).includes(kind),
        `${name} passes a --sources that enables ${kind}`,
      );
      const role = docs.find((d) => d.kind === 'ClusterRole')?.metadata.name;
      const binding = docs.find((d) => d.kind === 'ClusterRoleBinding');
      assert.equal(binding?.roleRef?.name, role);
      assert.deepEqual(binding?.subjects, [
        { kind: 'ServiceAccount', name: 'bind9-controller', namespace: 'bind9-controller-system' },
      ]);
      const everything = rules.flatMap((r) => r.resources);
      assert.ok(!everything.includes('secrets') && !everything.includes('pods'));
      assert.ok(!everything.includes('txtrecords'), 'no record kind it never writes');
    });
  }
});
