/**
 * The DNSZone schemas, from which dnszone.ts takes its static types and crds/ its YAML.
 * Only the CRD generator and the validator generator load this file at run time.
 */
import { Type } from '@sinclair/typebox';
import { MAX_UNCONFIRMED_WRITES, SELECTOR_OPERATORS } from './dnszone.ts';
import {
  hostName,
  ipv4,
  ipv6,
  objectName,
  stringEnum,
  stringMap,
  text,
  ttl,
  zoneName,
} from './fields.ts';
import { CONDITIONS_FIELD } from './meta-schema.ts';
import { ADMIN_EMAIL, anchored, LABEL_VALUE, MAX_NAME_LENGTH } from './patterns.ts';

/**
 * The standard Kubernetes LabelSelector (`metav1.LabelSelector`), its descriptions naming
 * what it selects (`subject`: "Instances", "Namespaces").
 */
function labelSelectorSchema(subject: string, description: string) {
  return Type.Object(
    {
      matchLabels: Type.Optional(
        stringMap(`${subject} must carry each of these labels with exactly this value.`),
      ),
      matchExpressions: Type.Optional(
        Type.Array(
          Type.Object(
            {
              key: text('Label key the expression applies to.', { minLength: 1, maxLength: 317 }),
              operator: stringEnum(SELECTOR_OPERATORS, 'In, NotIn, Exists or DoesNotExist.'),
              values: Type.Optional(
                Type.Array(
                  text('A label value.', { maxLength: 63, pattern: anchored(LABEL_VALUE) }),
                  {
                    maxItems: 256,
                    description:
                      'Values for In and NotIn (must not be empty); must be empty for Exists and DoesNotExist.',
                  },
                ),
              ),
            },
            {
              description: 'A label selector requirement.',
              additionalProperties: false,
              'x-kubernetes-validations': [
                {
                  rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
                  message: 'In and NotIn need values; Exists and DoesNotExist take none',
                  fieldPath: '.values',
                },
              ],
            },
          ),
          {
            description: `Requirements on ${subject.toLowerCase()}' labels; all must hold.`,
            maxItems: 64,
          },
        ),
      ),
    },
    { description, additionalProperties: false },
  );
}

export const LabelSelectorSchema = labelSelectorSchema(
  'Instances',
  'Which Bind9Instances (in the same namespace) serve this zone. An empty selector selects all of them.',
);

/**
 * Who else may put names into a zone (issue #18 nested zones, issue #15 generated records):
 * by default only the zone's own namespace.
 */
export const PublishSchema = Type.Object(
  {
    namespaceSelector: Type.Optional(
      labelSelectorSchema(
        'Namespaces',
        'Namespaces (besides this one) that may publish names in this zone: DNSZones for zones inside it on the same server, and records generated from their Services, Ingresses and routes. An empty selector allows every namespace; kubernetes.io/metadata.name selects one by name.',
      ),
    ),
  },
  {
    description:
      'Who may publish names in this zone besides this namespace. Default: nobody else (a DNSZone of another namespace inside this zone is a Conflict).',
    additionalProperties: false,
  },
);

export const SoaRecordSchema = Type.Object(
  {
    primaryNs: hostName(
      'MNAME: the primary name server; relative to the zone unless it ends in a dot.',
    ),
    adminEmail: Type.String({
      pattern: anchored(ADMIN_EMAIL),
      maxLength: MAX_NAME_LENGTH + 1,
      description: 'RNAME as a mail address, e.g. hostmaster@example.com.',
    }),
    serial: Type.Integer({
      minimum: 0,
      maximum: 4294967295,
      default: 1,
      description:
        'Initial serial of the base zone file; named increments it on every update (RFC 1982 arithmetic).',
    }),
    refresh: ttl('Seconds between secondaries checking the serial.', { default: 3600 }),
    retry: ttl('Seconds before a secondary retries a failed refresh.', { default: 900 }),
    expire: ttl('Seconds after which a secondary that cannot refresh stops answering.', {
      default: 1209600,
    }),
    negativeTtl: ttl('Seconds resolvers cache a negative answer (RFC 2308).', { default: 300 }),
  },
  { description: 'The zone SOA record.', additionalProperties: false },
);

export const NameServerSchema = Type.Object(
  {
    hostname: hostName(
      'Host name of the name server; relative to the zone unless it ends in a dot.',
    ),
    ipv4Address: Type.Optional(
      ipv4('Glue A record, needed when the host name is inside the zone.'),
    ),
    ipv6Address: Type.Optional(
      ipv6('Glue AAAA record, needed when the host name is inside the zone.'),
    ),
  },
  { description: 'An apex NS record, with optional glue.', additionalProperties: false },
);

export const DNSZoneSpecSchema = Type.Object(
  {
    zoneName: Type.String({
      ...zoneName('The zone, e.g. example.com (no final dot). Immutable.'),
      // Another zone is another DNSZone: a rename would leave the old zone served with no
      // resource left to remove it, and move every record under a different name at once.
      'x-kubernetes-validations': [
        {
          rule: 'self == oldSelf',
          message: 'zoneName is immutable; create a DNSZone for the other zone instead',
        },
      ],
    }),
    instanceSelector: LabelSelectorSchema,
    publish: Type.Optional(PublishSchema),
    soaRecord: SoaRecordSchema,
    ttl: ttl('Default TTL ($TTL) for the zone and for records that set none.', { default: 3600 }),
    nameServers: Type.Optional(
      Type.Array(NameServerSchema, {
        minItems: 1,
        maxItems: 64,
        description: 'Apex NS records; by default the SOA primary name server alone.',
      }),
    ),
    prune: Type.Boolean({
      default: false,
      description:
        'Delete RRsets in the zone that no record resource declares (never the SOA or apex NS).',
    }),
    manageApex: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'On recordsOnly instances, also make the SOA (everything but the serial) and the apex NS with their glue as soaRecord and nameServers declare; by default they stay as the server has them. Zones the controller creates always get them as declared.',
      }),
    ),
  },
  { description: 'Desired state of a DNSZone.', additionalProperties: false },
);

export const ZoneInstanceStatusSchema = Type.Object(
  {
    name: objectName('Name of the Bind9Instance.'),
    present: Type.Boolean({ description: 'Whether the instance serves the zone.' }),
    inSync: Type.Boolean({ description: 'Whether every declared RRset matches on that instance.' }),
    serial: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 4294967295, description: 'SOA serial last seen there.' }),
    ),
    message: Type.Optional(
      text('Why the zone is not present or not in sync.', { maxLength: 4096 }),
    ),
  },
  { description: 'The zone on one instance.', additionalProperties: false },
);

export const UnconfirmedWriteSchema = Type.Object(
  {
    owner: text('The record resource, as Kind/namespace/name.', { maxLength: 400 }),
    fqdn: text('Owner name of the RRset (absolute, final dot).', { maxLength: 1024 }),
    type: text('Type of the RRset, e.g. A.', { maxLength: 16 }),
  },
  { description: 'One RRset the zone may have written.', additionalProperties: false },
);

export const DNSZoneStatusSchema = Type.Object(
  {
    ...CONDITIONS_FIELD,
    instances: Type.Optional(
      Type.Array(ZoneInstanceStatusSchema, {
        maxItems: 256,
        description: 'The zone on each selected instance.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
    unconfirmedWrites: Type.Optional(
      Type.Array(UnconfirmedWriteSchema, {
        maxItems: MAX_UNCONFIRMED_WRITES,
        description:
          'RRsets the controller may have written for record resources whose own status does not name them yet, written down before they are sent: what a controller restarted in between removes when the record is renamed, moved or deleted. Empty once every record status says what it wrote.',
        'x-kubernetes-list-type': 'atomic',
      }),
    ),
  },
  {
    description: 'Observed state of a DNSZone, written by the controller.',
    additionalProperties: false,
  },
);
