/**
 * Typed views of the text named puts in `_data.text` for the commands we use. named prints
 * `key: value` lines for `status` and `zonestatus` (BIND `bin/named/server.c`); we keep
 * every line in `fields` and lift out what callers need.
 */

/** `name: value` lines → a map keyed by the lower-cased name. Other lines are ignored. */
export function parseFields(text: string): ReadonlyMap<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  return fields;
}

export interface ServerStatus {
  /** e.g. `BIND 9.18.28-1~deb12u2-Debian (Extended Support Version) <id:>`. */
  readonly version: string;
  /** As named prints it; changes only when named restarts. */
  readonly bootTime: string;
  readonly lastConfigured: string;
  /** All zones, including the automatic empty zones. */
  readonly zoneCount: number;
  readonly automaticZoneCount: number;
  /** `server is up and running` seen. */
  readonly running: boolean;
  readonly fields: ReadonlyMap<string, string>;
}

export function parseStatus(text: string): ServerStatus {
  const fields = parseFields(text);
  const zones = /^(\d+)(?:\s*\((\d+) automatic\))?/.exec(fields.get('number of zones') ?? '');
  return {
    version: fields.get('version') ?? '',
    bootTime: fields.get('boot time') ?? '',
    lastConfigured: fields.get('last configured') ?? '',
    zoneCount: zones ? Number(zones[1]) : -1,
    automaticZoneCount: zones?.[2] === undefined ? 0 : Number(zones[2]),
    running: /server is up and running/.test(text),
    fields,
  };
}

export interface ZoneStatus {
  readonly name: string;
  /** `primary`, `secondary`, ... as named prints it (older releases say master/slave). */
  readonly type: string;
  readonly serial: number | undefined;
  readonly dynamic: boolean;
  /** Zone was added with `addzone` and can be changed with `modzone`/`delzone`. */
  readonly reconfigurable: boolean;
  readonly fields: ReadonlyMap<string, string>;
}

export function parseZoneStatus(text: string): ZoneStatus {
  const fields = parseFields(text);
  const serial = fields.get('serial');
  const type = fields.get('type') ?? '';
  return {
    name: fields.get('name') ?? '',
    type: type === 'master' ? 'primary' : type === 'slave' ? 'secondary' : type,
    serial: serial !== undefined && /^\d+$/.test(serial) ? Number(serial) : undefined,
    dynamic: fields.get('dynamic') === 'yes',
    reconfigurable: fields.get('reconfigurable via modzone') === 'yes',
    fields,
  };
}
