/**
 * The schemas of what every kind shares (object metadata, conditions, status), from which
 * meta.ts takes its static types. Only the CRD generator and the validator generator load
 * this file at run time; the controller reads meta.ts.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { objectName, stringEnum, stringMap, text } from './fields.ts';
import { API_GROUP_VERSION, CONDITION_STATUSES } from './meta.ts';

/**
 * The shape of `metav1.Condition`, so `kubectl wait --for=condition=Ready` and generic
 * tooling understand it.
 */
export const ConditionSchema = Type.Object(
  {
    type: text('Kind of condition, e.g. Ready.', { maxLength: 316, minLength: 1 }),
    status: stringEnum(CONDITION_STATUSES, 'Whether the condition holds: True, False or Unknown.'),
    reason: text(
      'One CamelCase word naming the cause, e.g. ZoneNotFound, InstanceUnreachable, Conflict, InvalidSpec.',
      { maxLength: 1024, minLength: 1 },
    ),
    message: text('Human-readable details.', { maxLength: 32768 }),
    lastTransitionTime: text('When the status last changed (RFC 3339).', { format: 'date-time' }),
    observedGeneration: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'The metadata.generation this condition describes.',
      }),
    ),
  },
  { description: 'One aspect of the current state of the resource.', additionalProperties: false },
);

export const CONDITIONS_FIELD = {
  observedGeneration: Type.Optional(
    Type.Integer({
      minimum: 0,
      description: 'The metadata.generation the controller last acted on.',
    }),
  ),
  conditions: Type.Optional(
    Type.Array(ConditionSchema, {
      maxItems: 32,
      description: 'Current conditions; Ready is the one to read.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  ),
};

export const ResourceStatusSchema = Type.Object(CONDITIONS_FIELD, {
  description: 'Observed state, written by the controller.',
  additionalProperties: false,
});

/**
 * A record resource's status also says which RRset it last wrote, and through which
 * DNSZone, so that renaming it (`spec.name`), moving it (`spec.zone`) or deleting it removes
 * that RRset, not the one the spec names now.
 */
export const RecordStatusSchema = Type.Object(
  {
    ...CONDITIONS_FIELD,
    fqdn: Type.Optional(
      text('Owner name of the RRset the controller last wrote for this resource (absolute).', {
        maxLength: 255,
      }),
    ),
    recordType: Type.Optional(
      text('Type of the RRset the controller last wrote for this resource, e.g. A.', {
        maxLength: 16,
      }),
    ),
    zone: Type.Optional(
      text('The DNSZone (metadata.name) through which that RRset was written.', {
        maxLength: 253,
      }),
    ),
  },
  { description: 'Observed state, written by the controller.', additionalProperties: false },
);

/**
 * The metadata fields the controller reads. Only `name` is checked by `validateResource`;
 * the rest is the API server's business (and a CRD schema may not constrain it anyway).
 */
export const ObjectMetaSchema = Type.Object(
  {
    name: objectName('Name of the object, unique in its namespace.'),
    namespace: Type.Optional(text('Namespace of the object.')),
    uid: Type.Optional(text('Unique id assigned by the API server.')),
    generation: Type.Optional(Type.Integer({ description: 'Sequence number of spec changes.' })),
    resourceVersion: Type.Optional(text('Opaque version for optimistic concurrency.')),
    creationTimestamp: Type.Optional(text('When the object was created (RFC 3339).')),
    deletionTimestamp: Type.Optional(text('When deletion was requested (RFC 3339).')),
    labels: Type.Optional(stringMap('Labels of the object.')),
    annotations: Type.Optional(
      Type.Unsafe<Record<string, string>>({
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Annotations of the object.',
      }),
    ),
    finalizers: Type.Optional(Type.Array(Type.String(), { description: 'Finalizers.' })),
  },
  { description: 'Standard object metadata.' },
);

/** The schema of a whole object, as `validateResource` checks it. */
export function resourceSchema(kind: string, spec: TSchema, status: TSchema) {
  return Type.Object(
    {
      apiVersion: Type.Unsafe<typeof API_GROUP_VERSION>({
        type: 'string',
        enum: [API_GROUP_VERSION],
        description: 'Versioned schema of this object.',
      }),
      kind: Type.Unsafe<string>({ type: 'string', enum: [kind], description: 'Kind of object.' }),
      metadata: ObjectMetaSchema,
      spec,
      status: Type.Optional(status),
    },
    { description: `A ${kind}.` },
  );
}
