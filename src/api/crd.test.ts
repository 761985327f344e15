import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { badValues, goodValues, mutate, validExamples } from '../../test/fixtures/resources.ts';
import { crdFileName, crdFor, generateCrdFiles, structural } from './crd.ts';
import { KIND_NAMES, RESOURCE_KINDS } from './kinds.ts';

const CRDS_DIR = join(import.meta.dirname, '../../crds');

type Node = Record<string, unknown>;

/** Every schema node with its path; nodes under oneOf/anyOf are value checks only. */
function* nodes(
  node: Node,
  path: string,
  inCombinator = false,
): Generator<[string, Node, boolean]> {
  yield [path, node, inCombinator];
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
    yield* nodes(child, `${path}.${name}`, inCombinator);
  }
  if (typeof node.items === 'object') yield* nodes(node.items as Node, `${path}[]`, inCombinator);
  if (typeof node.additionalProperties === 'object') {
    yield* nodes(node.additionalProperties as Node, `${path}{}`, inCombinator);
  }
  for (const key of ['oneOf', 'anyOf', 'allOf']) {
    for (const [i, child] of ((node[key] ?? []) as Node[]).entries()) {
      yield* nodes(child, `${path}.${key}[${i}]`, true);
    }
  }
}

function rootSchema(kind: (typeof KIND_NAMES)[number]): Node {
  const crd = crdFor(kind) as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}

function resolve(schema: Node, jsonPath: string): Node | undefined {
  let node: Node | undefined = schema;
  for (const part of jsonPath
    .replace(/\[[^\]]*\]/g, '')
    .split('.')
    .slice(1)) {
    node =
      (node?.properties as Record<string, Node> | undefined)?.[part] ??
      (node?.items as Node | undefined)?.properties?.[part as never];
  }
  return node;
}

describe('generated CRDs', () => {
  it('equal the committed files in crds/ (run `npm run crds` after changing src/api)', async () => {
    for (const [file, content] of generateCrdFiles()) {
      const committed = await readFile(join(CRDS_DIR, file), 'utf8').catch(() => '(missing)');
      assert.equal(committed, content, `crds/${file} is out of date`);
    }
  });

  it('are the same bytes every time they are generated', () => {
    assert.deepEqual([...generateCrdFiles()], [...generateCrdFiles()]);
  });

  it('hold one CRD per kind, in the API group, namespaced, with a status subresource', () => {
    const files = generateCrdFiles();
    for (const kind of KIND_NAMES) {
      const crd = parse(files.get(crdFileName(kind))!);
      assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
      assert.equal(crd.spec.group, 'dns.bind9-controller.io');
      assert.equal(crd.spec.scope, 'Namespaced');
      assert.equal(crd.spec.names.kind, kind);
      assert.deepEqual(crd.spec.names.categories, ['dns']);
      assert.ok(crd.spec.names.shortNames.length > 0);
      assert.deepEqual(crd.spec.versions[0].subresources, { status: {} });
      assert.equal(crd.metadata.name, `${RESOURCE_KINDS[kind].plural}.dns.bind9-controller.io`);
    }
  });

  it('have structural schemas: a type on every node, never properties beside additionalProperties', () => {
    for (const kind of KIND_NAMES) {
      for (const [path, node, inCombinator] of nodes(rootSchema(kind), kind)) {
        if (inCombinator) {
          assert.equal(node.type, undefined, `${path}: a oneOf branch may not set a type`);
          continue;
        }
        assert.equal(typeof node.type, 'string', `${path} has no type`);
        assert.ok(
          !(node.properties !== undefined && node.additionalProperties !== undefined),
          `${path} has properties and additionalProperties`,
        );
        assert.ok(!Object.keys(node).some((key) => key.startsWith('$')), `${path} has a $ key`);
      }
    }
  });

  it('describe every field, for kubectl explain', () => {
    for (const kind of KIND_NAMES) {
      for (const [path, node, inCombinator] of nodes(rootSchema(kind), kind)) {
        if (inCombinator || path === `${kind}.metadata`) continue;
        assert.ok(typeof node.description === 'string' && node.description !== '', `${path}`);
      }
    }
  });

  it('use only regular expressions that Go RE2 also accepts: anchored, no lookaround or backreference', () => {
    for (const kind of KIND_NAMES) {
      for (const [path, node] of nodes(rootSchema(kind), kind)) {
        if (typeof node.pattern !== 'string') continue;
        assert.match(node.pattern, /^\^.*\$$/, `${path} is not anchored`);
        assert.doesNotMatch(node.pattern, /\(\?[=!<]|\\[1-9]/, `${path} uses lookaround`);
        for (const [, count] of node.pattern.matchAll(/\{(?:\d+,)?(\d+)\}/g)) {
          assert.ok(Number(count) <= 1000, `${path}: repeat count over RE2's 1000`);
        }
      }
    }
  });

  it('list no defaulted field as required, so kubectl explain does not demand it', () => {
    for (const kind of KIND_NAMES) {
      for (const [path, node] of nodes(rootSchema(kind), kind)) {
        const props = (node.properties ?? {}) as Record<string, Node>;
        for (const name of (node.required ?? []) as string[]) {
          assert.equal(props[name]?.default, undefined, `${path}.${name}`);
        }
      }
    }
  });

  it('default the DNS port to 53, the rndc port to 953 and prune to false', () => {
    const instance = rootSchema('Bind9Instance');
    assert.equal(resolve(instance, '.spec.dns.port')?.default, 53);
    assert.equal(resolve(instance, '.spec.rndc.port')?.default, 953);
    assert.equal(resolve(rootSchema('DNSZone'), '.spec.prune')?.default, false);
  });

  it('show zone, name, data, TTL, Ready and age for records, each column pointing at a real field', () => {
    for (const kind of KIND_NAMES) {
      const columns = RESOURCE_KINDS[kind].printerColumns;
      const names = columns.map((c) => c.name);
      assert.ok(names.includes('Ready') && names.includes('Age'), kind);
      if (kind.endsWith('Record')) {
        assert.deepEqual(names.slice(0, 4), ['Zone', 'Name', 'Data', 'TTL']);
      }
      for (const column of columns) {
        if (column.jsonPath.startsWith('.metadata') || column.jsonPath.startsWith('.status')) {
          continue;
        }
        assert.ok(resolve(rootSchema(kind), column.jsonPath), `${kind}: ${column.jsonPath}`);
      }
    }
  });

  it('drop additionalProperties: false and TypeBox symbols from a schema', () => {
    const node = structural({
      type: 'object',
      additionalProperties: false,
      properties: { a: { type: 'string', [Symbol('k')]: 1 } },
      $id: 'x',
    });
    assert.deepEqual(node, { type: 'object', properties: { a: { type: 'string' } } });
  });
});

describe('the committed CRD YAML as a JSON Schema (ajv)', () => {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
  const validators = new Map(
    KIND_NAMES.map((kind) => {
      const crd = parse(generateCrdFiles().get(crdFileName(kind))!);
      return [kind, ajv.compile(crd.spec.versions[0].schema.openAPIV3Schema)] as const;
    }),
  );
  const paths = (kind: (typeof KIND_NAMES)[number], object: unknown) => {
    const validate = validators.get(kind)!;
    return validate(structuredClone(object))
      ? []
      : (validate.errors ?? []).map((e) => e.instancePath);
  };

  for (const kind of KIND_NAMES) {
    it(`accepts the valid ${kind} example`, () => {
      assert.deepEqual(paths(kind, validExamples[kind]), []);
    });
  }

  for (const bad of badValues.filter((b) => b.layer === 'schema')) {
    it(`rejects ${bad.what} in a ${bad.kind}`, () => {
      assert.notDeepEqual(paths(bad.kind, mutate(bad)), []);
    });
  }

  for (const good of goodValues) {
    it(`accepts ${good.what} in a ${good.kind}`, () => {
      assert.deepEqual(paths(good.kind, mutate(good)), []);
    });
  }
});
