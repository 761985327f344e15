/**
 * The Bind9Instance schemas, from which bind9instance.ts takes its static types and crds/
 * its YAML. Only the CRD generator and the validator generator load this file at run time.
 */
import { Type } from '@sinclair/typebox';
import { INSTANCE_ROLES } from './bind9instance.ts';
import {
  absolutePath,
  endpointAddress,
  ipAddress,
  nonEmptyList,
  objectName,
  port,
  secretRef,
  stringEnum,
} from './fields.ts';
import { CONDITIONS_FIELD } from './meta-schema.ts';

export const ZoneFilesSchema = Type.Object(
  {
    directory: Type.Optional(
      Type.Object(
        {
          path: absolutePath(
            'Directory, readable by named, where the controller writes base zone files (same host, or development).',
          ),
        },
        {
          description: 'Deliver base zone files by writing into a directory.',
          additionalProperties: false,
        },
      ),
    ),
    configMap: Type.Optional(
      Type.Object(
        {
          name: objectName(
            'Name of the ConfigMap, in the same namespace, that holds base zone files.',
          ),
          mountPath: absolutePath('Where the BIND9 pods mount that ConfigMap.'),
        },
        {
          description: 'Deliver base zone files through a ConfigMap that the BIND9 pods mount.',
          additionalProperties: false,
        },
      ),
    ),
  },
  {
    description:
      'How base zone files (SOA, NS, glue) reach a primary before rndc addzone. Exactly one of directory or configMap.',
    additionalProperties: false,
    oneOf: [{ required: ['directory'] }, { required: ['configMap'] }],
  },
);

export const Bind9InstanceSpecSchema = Type.Object(
  {
    role: stringEnum(
      INSTANCE_ROLES,
      'primary: zones are created here from base files and updated with RFC 2136 UPDATE. secondary: zones are transferred from primaries.',
    ),
    dns: Type.Object(
      {
        address: endpointAddress('Address (IP or host name) where the server answers DNS.'),
        port: port('DNS port.', { default: 53 }),
      },
      {
        description: 'DNS endpoint, used for UPDATE and zone transfers.',
        additionalProperties: false,
      },
    ),
    recordsOnly: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'true: a server whose zones someone else provisions (BIND9 without rndc access, Knot DNS, PowerDNS, any RFC 2136 server): the controller only manages records in zones it already serves, over TSIG-signed UPDATE and AXFR, and never creates or deletes zones on it. A records-only instance is a primary with no rndc and no zoneFiles; its key must be allowed to update and transfer each zone (README "Records-only servers").',
      }),
    ),
    rndc: Type.Optional(
      Type.Object(
        {
          address: endpointAddress('Address (IP or host name) of the rndc control channel.'),
          port: port('rndc port.', { default: 953 }),
          keySecretRef: secretRef(
            'Secret holding the rndc key: either keyfile (tsig-keygen/rndc-confgen text) or name, algorithm and secret.',
          ),
        },
        {
          description:
            'rndc control channel, used to add and delete zones. Required unless recordsOnly.',
          additionalProperties: false,
        },
      ),
    ),
    tsigKeySecretRef: secretRef(
      'Secret holding the TSIG key that signs UPDATE and AXFR: either keyfile (tsig-keygen text) or name, algorithm and secret.',
    ),
    zoneFiles: Type.Optional(ZoneFilesSchema),
    primaries: Type.Optional(
      nonEmptyList(
        ipAddress('Address of a primary server.'),
        'For a secondary: addresses of the primaries it transfers zones from.',
        64,
      ),
    ),
    primariesPort: Type.Optional(
      port(
        'For a secondary: the DNS port its primaries serve zone transfers on; 53 when not set (named.conf "primaries port").',
      ),
    ),
  },
  {
    description: 'Desired state of a Bind9Instance.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: "self.role != 'primary' || has(self.zoneFiles) || (has(self.recordsOnly) && self.recordsOnly)",
        message: 'a primary needs zoneFiles (unless recordsOnly)',
        fieldPath: '.zoneFiles',
      },
      {
        rule: 'has(self.rndc) || (has(self.recordsOnly) && self.recordsOnly)',
        message: 'rndc is required unless recordsOnly',
        fieldPath: '.rndc',
      },
      {
        rule: "!has(self.recordsOnly) || !self.recordsOnly || (self.role == 'primary' && !has(self.rndc) && !has(self.zoneFiles))",
        message: 'a recordsOnly instance is a primary with neither rndc nor zoneFiles',
        fieldPath: '.recordsOnly',
      },
      {
        rule: "self.role != 'secondary' || has(self.primaries)",
        message: 'a secondary needs primaries',
        fieldPath: '.primaries',
      },
      {
        rule: "self.role == 'primary' || !has(self.zoneFiles)",
        message: 'only a primary has zoneFiles',
        fieldPath: '.zoneFiles',
      },
    ],
  },
);

export const Bind9InstanceStatusSchema = Type.Object(CONDITIONS_FIELD, {
  description: 'Observed state of a Bind9Instance, written by the controller.',
  additionalProperties: false,
});
