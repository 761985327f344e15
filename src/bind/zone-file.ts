/**
 * The base zone file of a zone: `$TTL`, the SOA, the apex NS RRset and glue for name
 * servers inside the zone. It is all named needs to load the zone (RFC 1035 §5); every
 * other record arrives later as an RFC 2136 UPDATE.
 */

import { isInZone } from '../dns/rrset.ts';
import { ValidationError } from '../errors.ts';
import {
  validateAddress,
  validateEmail,
  validateHostname,
  validateTtl,
  validateUint32,
  validateZoneName,
} from './names.ts';

export interface ZoneNameServer {
  /** Absolute host name (final dot optional). */
  readonly hostname: string;
  /** Glue, used only when the host lies inside the zone. */
  readonly ipv4Address?: string;
  readonly ipv6Address?: string;
}

export interface ZoneSoa {
  /** MNAME: absolute host name of the primary. */
  readonly primaryNs: string;
  /** `hostmaster@example.com`; becomes the RNAME `hostmaster.example.com.`. */
  readonly adminEmail: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  /** SOA MINIMUM, the negative-caching TTL (RFC 2308 §4). */
  readonly negativeTtl: number;
}

export interface ZoneConfig {
  readonly name: string;
  /** `$TTL`: the default TTL of the zone's records. */
  readonly ttl: number;
  readonly soa: ZoneSoa;
  readonly nameServers: readonly ZoneNameServer[];
}

/**
 * RFC 1035 §8: the mailbox `local@domain` is written `local.domain.`; dots inside the
 * local part must be escaped so they are not read as label separators.
 */
export function adminEmailToRname(email: string, field = 'soa.adminEmail'): string {
  const { local, domain } = validateEmail(email, field);
  return `${local.replaceAll('.', '\\.')}.${domain}.`;
}

/** The zone with every name normalized and every value checked; throws ValidationError. */
export function validateZoneConfig(zone: ZoneConfig): ZoneConfig {
  const name = validateZoneName(zone.name, 'zoneName');
  const soa = zone.soa;
  if (zone.nameServers.length === 0) {
    throw new ValidationError('nameServers', 'a zone needs at least one name server (NS)');
  }
  const seen = new Set<string>();
  const nameServers = zone.nameServers.flatMap((ns, i) => {
    const checked = validateNameServer(ns, name, `nameServers[${i}]`);
    if (seen.has(checked.hostname)) return [];
    seen.add(checked.hostname);
    return [checked];
  });
  adminEmailToRname(soa.adminEmail);
  return {
    name,
    ttl: validateTtl(zone.ttl, 'ttl'),
    soa: {
      primaryNs: validateHostname(soa.primaryNs, 'soa.primaryNs'),
      adminEmail: soa.adminEmail,
      serial: validateUint32(soa.serial, 'soa.serial'),
      refresh: validateUint32(soa.refresh, 'soa.refresh'),
      retry: validateUint32(soa.retry, 'soa.retry'),
      expire: validateUint32(soa.expire, 'soa.expire'),
      negativeTtl: validateUint32(soa.negativeTtl, 'soa.negativeTtl'),
    },
    nameServers,
  };
}

function validateNameServer(ns: ZoneNameServer, zone: string, field: string): ZoneNameServer {
  const hostname = validateHostname(ns.hostname, `${field}.hostname`);
  const v4 = ns.ipv4Address;
  const v6 = ns.ipv6Address;
  if (v4 !== undefined) validateAddress(v4, `${field}.ipv4Address`, 4);
  if (v6 !== undefined) validateAddress(v6, `${field}.ipv6Address`, 6);
  // named refuses to load a zone whose in-zone NS host has no address (named-checkzone:
  // "has no address records"), so glue is required there.
  if (isInZone(hostname, zone) && v4 === undefined && v6 === undefined) {
    throw new ValidationError(
      field,
      `name server ${hostname} is inside zone ${zone} and needs ipv4Address or ipv6Address (glue)`,
    );
  }
  return {
    hostname,
    ...(v4 === undefined ? {} : { ipv4Address: v4 }),
    ...(v6 === undefined ? {} : { ipv6Address: v6 }),
  };
}

/** The first line renderZoneFile writes: how a base file of ours is known (files.ts). */
const HEADER = /^; Base zone file for \S+, rendered by bind9-controller\./;

/** Whether `text` starts the way a base file renderZoneFile wrote does. */
export function isRenderedBaseFile(text: string): boolean {
  return HEADER.test(text);
}

/** Renders the base zone file; names are written absolute so `$ORIGIN` never matters. */
export function renderZoneFile(config: ZoneConfig): string {
  const zone = validateZoneConfig(config);
  const { soa } = zone;
  const apex = `${zone.name}.`;
  const timers = [soa.serial, soa.refresh, soa.retry, soa.expire, soa.negativeTtl].join(' ');
  const lines = [
    `; Base zone file for ${zone.name}, rendered by bind9-controller.`,
    '; Every other record is managed with RFC 2136 UPDATE.',
    `$ORIGIN ${apex}`,
    `$TTL ${zone.ttl}`,
    `${apex} IN SOA ${soa.primaryNs}. ${adminEmailToRname(soa.adminEmail)} ( ${timers} )`,
    ...zone.nameServers.map((ns) => `${apex} IN NS ${ns.hostname}.`),
    ...zone.nameServers.filter((ns) => isInZone(ns.hostname, zone.name)).flatMap(glue),
    '',
  ];
  return lines.join('\n');
}

function glue(ns: ZoneNameServer): string[] {
  const out: string[] = [];
  if (ns.ipv4Address !== undefined) out.push(`${ns.hostname}. IN A ${ns.ipv4Address}`);
  if (ns.ipv6Address !== undefined) out.push(`${ns.hostname}. IN AAAA ${ns.ipv6Address}`);
  return out;
}
