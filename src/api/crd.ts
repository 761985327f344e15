/**
 * CustomResourceDefinitions (apiextensions.k8s.io/v1) generated from the kind registry.
 *
 * Kubernetes accepts only structural schemas: every node has a type, `properties` and
 * `additionalProperties` never sit side by side, and `oneOf`/`anyOf` hold only value
 * checks. TypeBox schemas also carry symbol keys, which a JSON round trip drops. Output is
 * deterministic (fixed key order) so `crds --check` can compare bytes.
 */
import { stringify } from 'yaml';
import { KIND_SCHEMAS } from './kind-schemas.ts';
import {
  KIND_NAMES,
  type KindInfo,
  type KindName,
  type PrinterColumn,
  RESOURCE_KINDS,
} from './kinds.ts';
import { API_GROUP, API_VERSION } from './meta.ts';

type JsonObject = { [key: string]: Json };
type Json = string | number | boolean | null | Json[] | JsonObject;

/** Keys first in this order (for people reading the YAML); the rest alphabetically. */
const KEY_ORDER = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'required',
  'properties',
  'items',
  'additionalProperties',
];

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ordered(object: JsonObject): JsonObject {
  const rank = (key: string) => {
    const at = KEY_ORDER.indexOf(key);
    return at < 0 ? KEY_ORDER.length : at;
  };
  const keys = Object.keys(object).sort(
    (a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0),
  );
  return Object.fromEntries(keys.map((key) => [key, object[key] as Json]));
}

/** A TypeBox schema as a structural schema node. */
export function structural(schema: unknown): Json {
  return toStructural(JSON.parse(JSON.stringify(schema)) as Json);
}

function toStructural(node: Json): Json {
  if (Array.isArray(node)) return node.map(toStructural);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    // `$id` and friends are TypeBox bookkeeping; `additionalProperties: false` beside
    // `properties` is not structural (the API server prunes unknown fields instead).
    if (key.startsWith('$')) continue;
    if (key === 'additionalProperties' && value === false) continue;
    // Property maps and enum/required lists are data, not schema nodes; keep their order.
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toStructural(v)]));
    } else {
      out[key] = toStructural(value);
    }
  }
  return ordered(withoutDefaultedRequired(out));
}

/**
 * A field with a default is filled in by the API server before validation, so listing it as
 * required only makes `kubectl explain` tell people to write it. The static types (and
 * ajv, which applies defaults first) still see it as always present.
 */
function withoutDefaultedRequired(node: JsonObject): JsonObject {
  const { required, properties } = node;
  if (!Array.isArray(required) || properties === undefined || !isObject(properties)) return node;
  const kept = required.filter((name) => {
    const property = properties[String(name)];
    return !(property !== undefined && isObject(property) && 'default' in property);
  });
  if (kept.length === required.length) return node;
  const { required: _dropped, ...rest } = node;
  return kept.length === 0 ? rest : { ...rest, required: kept };
}

/** The root schema: the standard apiVersion/kind/metadata, then spec and status. */
function rootSchema(info: KindInfo): JsonObject {
  return {
    description: info.description,
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: {
        description: 'APIVersion defines the versioned schema of this representation of an object.',
        type: 'string',
      },
      kind: {
        description:
          'Kind is a string value representing the REST resource this object represents.',
        type: 'string',
      },
      metadata: { type: 'object' },
      spec: structural(KIND_SCHEMAS[info.kind].spec),
      status: structural(KIND_SCHEMAS[info.kind].status),
    },
    ...(info.rootValidations === undefined
      ? {}
      : { 'x-kubernetes-validations': info.rootValidations.map((v) => ({ ...v })) }),
  };
}

function printerColumn(column: PrinterColumn): JsonObject {
  return {
    name: column.name,
    type: column.type,
    jsonPath: column.jsonPath,
    description: column.description,
    ...(column.priority === undefined ? {} : { priority: column.priority }),
  };
}

export function crdName(kind: KindName): string {
  return `${RESOURCE_KINDS[kind].plural}.${API_GROUP}`;
}

/** The CustomResourceDefinition object of one kind. */
export function crdFor(kind: KindName): JsonObject {
  const info: KindInfo = RESOURCE_KINDS[kind];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: crdName(kind),
      labels: { 'app.kubernetes.io/part-of': 'bind9-controller' },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: info.kind,
        listKind: info.listKind,
        plural: info.plural,
        singular: info.singular,
        shortNames: [...info.shortNames],
        categories: [...info.categories],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.printerColumns.map(printerColumn),
          schema: { openAPIV3Schema: rootSchema(info) },
        },
      ],
    },
  };
}

const HEADER = '# Generated by `bind9-controller crds` from src/api. Do not edit.\n';

/** File name of a kind's CRD, in the `<group>_<plural>.yaml` form controller-gen uses. */
export function crdFileName(kind: KindName): string {
  return `${API_GROUP}_${RESOURCE_KINDS[kind].plural}.yaml`;
}

function yaml(object: JsonObject): string {
  // lineWidth 0: never fold long descriptions or patterns, so diffs stay one line each.
  return HEADER + stringify(object, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Every generated file (file name → content): one CRD per kind and a kustomization. */
export function generateCrdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of KIND_NAMES) files.set(crdFileName(kind), yaml(crdFor(kind)));
  files.set(
    'kustomization.yaml',
    yaml({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: KIND_NAMES.map(crdFileName),
    }),
  );
  return files;
}
