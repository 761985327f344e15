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
    rndc: Type.Object(
      {
        address: endpointAddress('Address (IP or host name) of the rndc control channel.'),
        port: port('rndc port.', { default: 953 }),
        keySecretRef: secretRef(
          'Secret holding the rndc key: either keyfile (tsig-keygen/rndc-confgen text) or name, algorithm and secret.',
        ),
      },
      {
        description: 'rndc control channel, used to add and delete zones.',
        additionalProperties: false,
      },
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
        rule: "self.role != 'primary' || has(self.zoneFiles)",
        message: 'a primary needs zoneFiles',
        fieldPath: '.zoneFiles',
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
