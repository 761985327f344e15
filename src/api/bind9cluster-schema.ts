/**
 * The Bind9Cluster schemas, from which bind9cluster.ts takes its static types and crds/ its
 * YAML. Only the CRD generator and the validator generator load this file at run time.
 *
 * Every field has a default a user need not write (`spec: {}` is a primary and one
 * secondary on the ISC image). Nothing is passed to named as raw text: each named option is
 * a typed field whose values match a narrow pattern, and the renderer (src/bind/named-conf.ts)
 * validates them again.
 */
import { Type } from '@sinclair/typebox';
import {
  DEFAULT_BIND9_IMAGE,
  EMPTY_DIR_MEDIA,
  PULL_POLICIES,
  SERVICE_TYPES,
  TAINT_EFFECTS,
  TOLERATION_OPERATORS,
  UNSATISFIABLE,
} from './bind9cluster.ts';
import { objectName, secretRef, stringEnum, stringMap, text } from './fields.ts';
import { CONDITIONS_FIELD } from './meta-schema.ts';
import {
  ADDRESS_MATCH,
  anchored,
  IMAGE,
  LABEL_VALUE,
  QUALIFIED_NAME,
  QUANTITY,
} from './patterns.ts';

function quantity(description: string) {
  return Type.String({ pattern: anchored(QUANTITY), maxLength: 64, description });
}

function count(description: string, maximum: number, options: Record<string, unknown> = {}) {
  return Type.Integer({ minimum: 0, maximum, description, ...options });
}

/** named's address match list, element by element (ADDRESS_MATCH says what may appear). */
export const AddressMatchListSchema = Type.Array(
  Type.String({
    pattern: anchored(ADDRESS_MATCH),
    maxLength: 50,
    description:
      'any, none, localhost, localnets, an IPv4/IPv6 address or prefix (10.0.0.0/8), each optionally negated with "!".',
  }),
  { minItems: 1, maxItems: 64, description: 'A named address match list, in order.' },
);

export const RateLimitSchema = Type.Object(
  {
    responsesPerSecond: count('Identical responses per second to one client network.', 1000),
    nxdomainsPerSecond: Type.Optional(
      count('NXDOMAIN responses per second (default: as responsesPerSecond).', 1000),
    ),
    errorsPerSecond: Type.Optional(
      count('Error responses per second (default: as responsesPerSecond).', 1000),
    ),
    window: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 15,
      description: 'Seconds over which rates are averaged.',
    }),
    slip: count('Every slip-th dropped response is sent truncated instead (0: never).', 10, {
      default: 2,
    }),
    logOnly: Type.Boolean({
      default: false,
      description: 'Only log what would be limited (to tune the rates first).',
    }),
    exemptClients: Type.Optional(AddressMatchListSchema),
  },
  {
    description:
      'Response rate limiting (named rate-limit, UDP only): damps reflection attacks. TCP, and so the controller, is never limited.',
    additionalProperties: false,
  },
);

export const ClusterOptionsSchema = Type.Object(
  {
    recursion: Type.Boolean({
      default: false,
      description:
        'Answer recursive queries (named recursion). Off: these servers are authoritative only.',
    }),
    allowQuery: Type.Unsafe<string[]>({
      ...AddressMatchListSchema,
      default: ['any'],
      description:
        'Who may query (named allow-query). Queries signed with the cluster key (the controller) are always allowed.',
    }),
    rateLimit: Type.Optional(RateLimitSchema),
  },
  {
    default: {},
    description:
      'The named options people set, each validated; no raw named.conf text is accepted. Zone transfers always need the cluster key.',
    additionalProperties: false,
  },
);

const ResourceListSchema = (what: string, fallback: Record<string, string>) =>
  Type.Object(
    {
      cpu: Type.Optional(quantity(`CPU ${what}, e.g. 50m.`)),
      memory: Type.Optional(quantity(`Memory ${what}, e.g. 64Mi.`)),
    },
    { default: fallback, description: `Resource ${what}.`, additionalProperties: false },
  );

export const ResourcesSchema = Type.Object(
  {
    requests: ResourceListSchema('requests', { cpu: '50m', memory: '64Mi' }),
    limits: ResourceListSchema('limits', { memory: '256Mi' }),
  },
  {
    default: {},
    description: 'Compute resources of each named container.',
    additionalProperties: false,
  },
);

export const StorageSchema = Type.Object(
  {
    emptyDir: Type.Optional(
      Type.Object(
        {
          medium: Type.Optional(stringEnum(EMPTY_DIR_MEDIA, '"" (node disk) or Memory.')),
          sizeLimit: Type.Optional(quantity('Largest size of the volume.')),
        },
        {
          description:
            'A volume that lives as long as the pod: a replaced pod starts empty, and the controller restores every zone and record.',
          additionalProperties: false,
        },
      ),
    ),
    persistentVolumeClaim: Type.Optional(
      Type.Object(
        {
          storageClassName: Type.Optional(
            objectName('StorageClass of the claims; the cluster default when empty.'),
          ),
          size: quantity('Requested size of each claim, e.g. 1Gi.'),
        },
        {
          description: 'One PersistentVolumeClaim per pod (StatefulSet volumeClaimTemplates).',
          additionalProperties: false,
        },
      ),
    ),
  },
  {
    default: { emptyDir: {} },
    description:
      'Where named keeps its data (journals, transferred zones, the NZD database). Exactly one of emptyDir or persistentVolumeClaim. Immutable.',
    additionalProperties: false,
    oneOf: [{ required: ['emptyDir'] }, { required: ['persistentVolumeClaim'] }],
    'x-kubernetes-validations': [
      {
        rule: 'self == oldSelf',
        message:
          'storage is immutable (StatefulSet volume claims cannot change); create another Bind9Cluster instead',
      },
    ],
  },
);

export const ServiceSchema = Type.Object(
  {
    type: stringEnum(SERVICE_TYPES, 'ClusterIP, NodePort or LoadBalancer.', {
      default: 'ClusterIP',
    }),
    annotations: Type.Optional(
      Type.Unsafe<Record<string, string>>({
        type: 'object',
        maxProperties: 64,
        description: 'Annotations of the query Service (e.g. for a cloud load balancer).',
        additionalProperties: {
          type: 'string',
          maxLength: 4096,
          description: 'An annotation value.',
        },
        'x-kubernetes-validations': [
          {
            rule: `self.all(k, k.size() <= 317 && k.matches(r'${anchored(QUALIFIED_NAME)}'))`,
            message: 'annotation keys are qualified names (prefix/name)',
          },
        ],
      }),
    ),
  },
  {
    default: {},
    description: 'The query Service in front of every pod of the cluster (53/udp and 53/tcp).',
    additionalProperties: false,
  },
);

export const TolerationSchema = Type.Object(
  {
    key: Type.Optional(
      text('Taint key; empty with Exists tolerates every taint.', {
        maxLength: 317,
        pattern: anchored(QUALIFIED_NAME),
      }),
    ),
    operator: stringEnum(TOLERATION_OPERATORS, 'Exists or Equal.', { default: 'Equal' }),
    value: Type.Optional(
      text('Taint value, for Equal.', { maxLength: 63, pattern: anchored(LABEL_VALUE) }),
    ),
    effect: Type.Optional(
      stringEnum(TAINT_EFFECTS, 'NoSchedule, PreferNoSchedule or NoExecute; empty: all.'),
    ),
    tolerationSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'For NoExecute: how long the pod stays bound after the taint.',
      }),
    ),
  },
  {
    description: 'A toleration of the BIND9 pods (core/v1 Toleration).',
    additionalProperties: false,
  },
);

export const TopologySpreadSchema = Type.Object(
  {
    topologyKey: text('Node label whose values the secondaries spread over.', {
      default: 'kubernetes.io/hostname',
      maxLength: 317,
      pattern: anchored(QUALIFIED_NAME),
    }),
    maxSkew: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 1,
      description: 'Largest allowed difference in secondaries between two topology domains.',
    }),
    whenUnsatisfiable: stringEnum(
      UNSATISFIABLE,
      'ScheduleAnyway (a preference) or DoNotSchedule (a rule).',
      {
        default: 'ScheduleAnyway',
      },
    ),
  },
  {
    default: {},
    description: 'How secondaries spread over nodes (a pod topology spread constraint).',
    additionalProperties: false,
  },
);

export const SecondariesSchema = Type.Object(
  {
    replicas: count('Number of secondaries (each its own pod, Bind9Instance and Service).', 32, {
      default: 1,
    }),
    topologySpread: TopologySpreadSchema,
  },
  {
    default: {},
    description:
      'The secondaries: type secondary of the primary, transfers signed with the cluster key, NOTIFY from the primary.',
    additionalProperties: false,
  },
);

export const Bind9ClusterSpecSchema = Type.Object(
  {
    image: Type.String({
      pattern: anchored(IMAGE),
      maxLength: 512,
      default: DEFAULT_BIND9_IMAGE,
      description: 'BIND9 image (9.18 or later), e.g. internetsystemsconsortium/bind9:9.18.',
    }),
    imagePullPolicy: stringEnum(PULL_POLICIES, 'Always, IfNotPresent or Never.', {
      default: 'IfNotPresent',
    }),
    secondaries: SecondariesSchema,
    resources: ResourcesSchema,
    storage: StorageSchema,
    service: ServiceSchema,
    nodeSelector: Type.Optional(stringMap('Nodes the BIND9 pods may run on, by label.')),
    tolerations: Type.Optional(
      Type.Array(TolerationSchema, { maxItems: 32, description: 'Tolerations of the BIND9 pods.' }),
    ),
    options: ClusterOptionsSchema,
    tsigKeySecretRef: Type.Optional(
      secretRef(
        'A Secret of yours holding the TSIG key (field keyfile, as tsig-keygen prints it) that signs updates, transfers and NOTIFY. Default: one the controller generates, <name>-tsig-key.',
      ),
    ),
    rndcKeySecretRef: Type.Optional(
      secretRef(
        'A Secret of yours holding the rndc key (field keyfile). Default: one the controller generates, <name>-rndc-key.',
      ),
    ),
  },
  { description: 'Desired state of a Bind9Cluster.', additionalProperties: false },
);

const ReplicaStatusSchema = (role: string) =>
  Type.Object(
    {
      replicas: count(`Pods of the ${role} StatefulSet.`, 1000),
      readyReplicas: count(`Ready pods of the ${role} StatefulSet.`, 1000),
    },
    { description: `The ${role} pods.`, additionalProperties: false },
  );

export const ClusterInstanceStatusSchema = Type.Object(
  {
    name: objectName('Name of the Bind9Instance.'),
    role: text('primary or secondary.', { maxLength: 16 }),
    address: text('Stable address of the pod (its own Service).', { maxLength: 64 }),
    ready: Type.Boolean({
      description: 'Whether the instance is Ready (rndc and DNS answer with the keys).',
    }),
    configured: Type.Boolean({
      description: 'Whether named there runs the named.conf the controller rendered last.',
    }),
  },
  { description: 'One pod of the cluster, as a Bind9Instance.', additionalProperties: false },
);

export const Bind9ClusterStatusSchema = Type.Object(
  {
    ...CONDITIONS_FIELD,
    primary: Type.Optional(ReplicaStatusSchema('primary')),
    secondaries: Type.Optional(ReplicaStatusSchema('secondary')),
    readyReplicas: Type.Optional(count('Ready pods, primary and secondaries.', 1000)),
    instances: Type.Optional(
      Type.Array(ClusterInstanceStatusSchema, {
        maxItems: 64,
        description: 'The Bind9Instance of each pod.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
    serviceName: Type.Optional(objectName('The query Service.')),
    serviceAddress: Type.Optional(text('Cluster IP of the query Service.', { maxLength: 64 })),
    tsigKeySecret: Type.Optional(objectName('The Secret holding the TSIG key (its name only).')),
    rndcKeySecret: Type.Optional(objectName('The Secret holding the rndc key (its name only).')),
  },
  {
    description: 'Observed state of a Bind9Cluster, written by the controller.',
    additionalProperties: false,
  },
);
