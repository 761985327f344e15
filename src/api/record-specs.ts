/**
 * The record kinds. One resource is one whole RRset: `zone` names a DNSZone in the same
 * namespace, `name` is the owner relative to that zone, and the data is a list.
 */
import { type Static, type TProperties, Type } from '@sinclair/typebox';
import {
  hostName,
  ipv4,
  ipv6,
  nonEmptyList,
  objectName,
  ownerName,
  text,
  ttl,
  u16,
} from './fields.ts';

const COMMON = {
  zone: objectName('Name of the DNSZone, in the same namespace, this record belongs to.'),
  name: ownerName(
    'Owner name relative to the zone (zone-file rules): @ is the apex, * as the leftmost label is a wildcard, a name ending in a dot is absolute.',
  ),
  ttl: Type.Optional(ttl("TTL in seconds; the zone's ttl when not set.")),
};

function recordSpec<P extends TProperties>(type: string, data: P) {
  return Type.Object(
    { ...COMMON, ...data },
    { description: `Desired state of one ${type} RRset.`, additionalProperties: false },
  );
}

export const ARecordSpecSchema = recordSpec('A', {
  ipv4Addresses: nonEmptyList(ipv4('An IPv4 address.'), 'The IPv4 addresses of the RRset.'),
});
export type ARecordSpec = Static<typeof ARecordSpecSchema>;

export const AAAARecordSpecSchema = recordSpec('AAAA', {
  ipv6Addresses: nonEmptyList(ipv6('An IPv6 address.'), 'The IPv6 addresses of the RRset.'),
});
export type AAAARecordSpec = Static<typeof AAAARecordSpecSchema>;

export const CNAMERecordSpecSchema = recordSpec('CNAME', {
  target: hostName('Canonical name; relative to the zone unless it ends in a dot.'),
});
export type CNAMERecordSpec = Static<typeof CNAMERecordSpecSchema>;

/** A TXT RR's rdata is at most 65535 octets; leave room for the length octets of the split. */
const MAX_TXT_VALUE = 16384;
/**
 * 64 values of at most 16 KiB: an object of at most 1 MiB, inside etcd's 1.5 MiB, refused
 * with a message naming the field instead of etcd's "request is too large". An RRset the
 * server cannot take (over 64 KiB on the wire) is admitted and reported `TooLarge` by the
 * controller, its zone unharmed.
 */
const MAX_TXT_VALUES = 64;

export const TXTRecordSpecSchema = recordSpec('TXT', {
  values: nonEmptyList(
    text(
      'One TXT record. Values longer than 255 bytes are split into several character-strings (RFC 1035 §3.3.14, RFC 7208 §3.3).',
      { maxLength: MAX_TXT_VALUE },
    ),
    'The TXT records of the RRset, one per value.',
    MAX_TXT_VALUES,
  ),
});
export type TXTRecordSpec = Static<typeof TXTRecordSpecSchema>;

export const MXRecordSpecSchema = recordSpec('MX', {
  mailServers: nonEmptyList(
    Type.Object(
      {
        preference: u16('Lower is preferred.'),
        host: hostName(
          'Mail exchanger; relative to the zone unless it ends in a dot. "." alone is a null MX (RFC 7505).',
          { allowRoot: true },
        ),
      },
      { description: 'One MX record.', additionalProperties: false },
    ),
    'The MX records of the RRset.',
  ),
});
export type MXRecordSpec = Static<typeof MXRecordSpecSchema>;

export const NSRecordSpecSchema = recordSpec('NS', {
  nameServers: nonEmptyList(
    hostName('A name server; relative to the zone unless it ends in a dot.'),
    'The NS records of the RRset (a delegation when the name is below the apex).',
  ),
});
export type NSRecordSpec = Static<typeof NSRecordSpecSchema>;

export const SRVRecordSpecSchema = recordSpec('SRV', {
  services: nonEmptyList(
    Type.Object(
      {
        priority: u16('Lower is tried first.'),
        weight: u16('Relative weight among equal priorities.'),
        port: u16('Port of the service.'),
        target: hostName(
          'Host of the service; relative to the zone unless it ends in a dot. "." means no service (RFC 2782).',
          { allowRoot: true },
        ),
      },
      { description: 'One SRV record.', additionalProperties: false },
    ),
    'The SRV records of the RRset; name is usually _service._proto.',
  ),
});
export type SRVRecordSpec = Static<typeof SRVRecordSpecSchema>;

export const CAARecordSpecSchema = recordSpec('CAA', {
  authorizations: nonEmptyList(
    Type.Object(
      {
        flags: Type.Integer({
          minimum: 0,
          maximum: 255,
          default: 0,
          description: '128 marks the property critical (RFC 8659 §4.1).',
        }),
        tag: text('Property tag, e.g. issue, issuewild, iodef (1 to 15 letters or digits).', {
          pattern: '^[A-Za-z0-9]{1,15}$',
        }),
        value: text('Property value, e.g. letsencrypt.org.', { maxLength: 4096 }),
      },
      { description: 'One CAA record.', additionalProperties: false },
    ),
    'The CAA records of the RRset.',
  ),
});
export type CAARecordSpec = Static<typeof CAARecordSpecSchema>;

export const PTRRecordSpecSchema = recordSpec('PTR', {
  targets: nonEmptyList(
    hostName('Host the address points to; relative to the zone unless it ends in a dot.'),
    'The PTR records of the RRset.',
  ),
});
export type PTRRecordSpec = Static<typeof PTRRecordSpecSchema>;
