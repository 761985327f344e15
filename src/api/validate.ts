/**
 * Validation of resources before the controller or the CLI acts on them: the same JSON
 * Schema the CRDs carry, then the few semantic rules a schema cannot express. Every issue
 * names the field in the user's vocabulary (`spec.ipv4Addresses[1]`) so the controller can
 * report `InvalidSpec` pointing at it.
 *
 * The schema checks are ajv's standalone code, generated from the schemas ahead of time
 * (validators.generated.js, `npm run validators`): the same checks and errors as compiling
 * with ajv, without loading TypeBox and ajv's compiler into the controller.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { KindName, ResourceOf, SpecByKind } from './kinds.ts';
import { isRecordKind, type RecordSpec } from './records.ts';
import { nameIssues, recordZoneIssues, semanticIssues } from './semantics.ts';
import { VALIDATORS } from './validators.generated.js';

export interface ValidationIssue {
  /** Path of the offending field, e.g. `spec.ipv4Addresses[1]` or `spec.soaRecord.adminEmail`. */
  readonly field: string;
  readonly message: string;
}

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly ValidationIssue[] };

/** Named as validators-codegen.ts names them (`spec_ARecord`), typed by its .d.ts. */
function validatorFor(kind: KindName, part: 'object' | 'spec'): ValidateFunction {
  return VALIDATORS[`${part}_${kind}`];
}

/** `/spec/ipv4Addresses/1` → `spec.ipv4Addresses[1]`. */
export function fieldPath(pointer: string, prefix = ''): string {
  let path = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^\d+$/.test(segment) ? `[${segment}]` : path === '' ? segment : `.${segment}`;
  }
  return path;
}

function join(path: string, child: string): string {
  return path === '' ? child : `${path}.${child}`;
}

function issueOf(error: ErrorObject, prefix: string): ValidationIssue {
  const field = fieldPath(error.instancePath, prefix);
  const params = error.params as Record<string, unknown>;
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  switch (error.keyword) {
    case 'required':
      return { field: join(field, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return {
        field: join(field, String(params.additionalProperty)),
        message: 'is not a known field',
      };
    case 'pattern':
      return {
        field,
        message: `${JSON.stringify(error.data)} is not valid here: ${description ?? 'wrong form'}`,
      };
    case 'enum':
      return {
        field,
        message: `${JSON.stringify(error.data)} is not one of ${(params.allowedValues as unknown[]).join(', ')}`,
      };
    case 'oneOf':
      return { field, message: `must set exactly one of ${oneOfFields(error.parentSchema)}` };
    default:
      return { field, message: `${error.message ?? 'is invalid'}` };
  }
}

/** The fields of `oneOf: [{ required: [a] }, { required: [b] }]`, our only use of oneOf. */
function oneOfFields(schema: unknown): string {
  const branches = (schema as { oneOf?: { required?: string[] }[] } | undefined)?.oneOf ?? [];
  return branches.flatMap((branch) => branch.required ?? []).join(', ');
}

/** ajv's errors as issues: one per field and message, without the noise of oneOf branches. */
function schemaIssues(errors: readonly ErrorObject[], prefix: string): ValidationIssue[] {
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const error of errors) {
    // A failed oneOf also reports why each branch failed; the oneOf error says it better.
    if (/\/oneOf\/\d+\//.test(error.schemaPath)) continue;
    const issue = issueOf(error, prefix);
    const key = `${issue.field}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

function checkSpec<K extends KindName>(
  kind: K,
  spec: SpecByKind[K],
  field: string,
): ValidationIssue[] {
  return semanticIssues(kind, spec).map((issue) => ({
    field: join(field, issue.field),
    message: issue.message,
  }));
}

/**
 * Validates a whole object of `kind` (apiVersion, kind, metadata, spec). `status` is not
 * checked: it is the controller's own output. On success `value` is a copy with the
 * schema defaults filled in, as the API server would store it.
 */
export function validateResource<K extends KindName>(
  kind: K,
  object: unknown,
): ValidationResult<ResourceOf<K>> {
  const copy = structuredClone(object) as Record<string, unknown> | null;
  const status = copy !== null && typeof copy === 'object' ? copy.status : undefined;
  if (status !== undefined && copy !== null) delete copy.status;
  const validate = validatorFor(kind, 'object');
  if (!validate(copy)) return { ok: false, errors: schemaIssues(validate.errors ?? [], '') };
  const value = copy as unknown as ResourceOf<K>;
  const errors = [...nameIssues(kind, value.metadata.name), ...checkSpec(kind, value.spec, 'spec')];
  if (errors.length > 0) return { ok: false, errors };
  if (status !== undefined) value.status = status as ResourceOf<K>['status'];
  return { ok: true, value };
}

export interface SpecContext {
  /** The zone a record belongs to: enables the checks that need it (`recordZoneIssues`). */
  readonly zoneName?: string;
}

/**
 * Validates only a spec (what the controller does with objects read from the API server,
 * which already enforced the schema but not the rules in semantics.ts). On success `value`
 * has the schema defaults filled in.
 */
export function validateSpec<K extends KindName>(
  kind: K,
  spec: unknown,
  context: SpecContext = {},
): ValidationResult<SpecByKind[K]> {
  const copy = structuredClone(spec);
  const validate = validatorFor(kind, 'spec');
  if (!validate(copy)) return { ok: false, errors: schemaIssues(validate.errors ?? [], 'spec') };
  const value = copy as SpecByKind[K];
  const errors = checkSpec(kind, value, 'spec');
  if (context.zoneName !== undefined && isRecordKind(kind)) {
    const inZone = recordZoneIssues(kind, value as RecordSpec, context.zoneName);
    errors.push(...inZone.map((issue) => ({ ...issue, field: join('spec', issue.field) })));
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

/** Issues as one line for a condition message or an Event. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
}
