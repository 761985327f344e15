/**
 * The named.conf of a BIND9 server the controller runs itself (a Bind9Cluster's pods), as
 * a pure function of validated values. What the controller relies on, and so always there:
 *
 * - `allow-new-zones yes`: zones come and go by `rndc addzone`/`delzone`, kept in the NZD
 *   database in `new-zones-directory` (DESIGN.md "BIND9 facts");
 * - the control channel, authenticated by the rndc key (the pod's NetworkPolicy decides
 *   who may reach it at all);
 * - the TSIG key, which each zone's `update-policy` grants (the zone statement comes from
 *   zones.ts) and which every transfer needs (`allow-transfer { key ...; }`);
 * - on a primary, NOTIFY to its secondaries only (`notify explicit`: named would otherwise
 *   look up and notify the zone's NS names, which are the user's public names), signed
 *   with the key; on a secondary, NOTIFY accepted when signed with the key
 *   (`allow-notify`), since it reaches the pod from the primary pod's own address, not
 *   the stable address the zone's `primaries` name;
 * - queries signed with the key always allowed, whatever `allow-query` says, so the
 *   controller can read serials and probe the server;
 * - `server-id` set to a digest of everything else (`configId`): `dig CH TXT id.server`
 *   tells which rendering a running named has loaded, so the controller knows when an
 *   `rndc reconfig` took effect.
 *
 * Keys are not in the text: it includes the key files mounted from their Secrets. Every
 * value is validated again here (names.ts and the checks below), so nothing reaches the
 * text that could open a brace or end a statement.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { ValidationError } from '../errors.ts';
import { validateAddress, validateKeyName, validatePath, validatePort } from './names.ts';

export interface NamedKey {
  /** The key's name, as in the key file. */
  readonly name: string;
  /** The key file named includes (`key "name" { ... };`, as tsig-keygen prints it). */
  readonly file: string;
}

export interface NamedListen {
  readonly dnsPort: number;
  readonly rndcPort: number;
  /** `listen-on`: an address match list (`any`, or addresses). */
  readonly ipv4: readonly string[];
  /** `listen-on-v6`: an address match list (`any`, `none`, or addresses). */
  readonly ipv6: readonly string[];
  /** The control channel's address (`*` for all) and who may connect. */
  readonly controlAddress: string;
  readonly controlAllow: readonly string[];
}

export interface NamedRateLimit {
  readonly responsesPerSecond: number;
  readonly nxdomainsPerSecond?: number;
  readonly errorsPerSecond?: number;
  readonly window: number;
  readonly slip: number;
  readonly logOnly: boolean;
  readonly exemptClients?: readonly string[];
}

/** The options a user may set (Bind9Cluster `spec.options`). */
export interface NamedOptions {
  readonly recursion: boolean;
  readonly allowQuery: readonly string[];
  readonly rateLimit?: NamedRateLimit;
}

export interface NamedConfInput {
  readonly role: 'primary' | 'secondary';
  /** Who the configuration is for, for the header comment: `namespace/name`. */
  readonly owner: string;
  readonly tsigKey: NamedKey;
  readonly rndcKey: NamedKey;
  /** Writable: journals, transferred zones, the NZD database, the pid file. */
  readonly directory: string;
  readonly listen: NamedListen;
  /** A primary's secondaries, by a stable address each: they get NOTIFY. */
  readonly notify?: readonly { readonly address: string; readonly port: number }[];
  readonly options: NamedOptions;
}

export interface NamedConf {
  readonly text: string;
  /** What `server-id` says: a digest of the text (without that line). */
  readonly configId: string;
}

/** Where named listens in a pod: every address, the standard ports. */
export const POD_LISTEN: NamedListen = {
  dnsPort: 53,
  rndcPort: 953,
  ipv4: ['any'],
  ipv6: ['any'],
  controlAddress: '*',
  controlAllow: ['any'],
};

const NAMED_ACL_WORDS = new Set(['any', 'none', 'localhost', 'localnets']);

/**
 * One element of an address match list: `any`, `none`, `localhost`, `localnets`, an address
 * or a prefix, optionally negated with `!`. Returned as given.
 */
export function validateAddressMatch(value: string, field: string): string {
  const text = typeof value === 'string' && value.startsWith('!') ? value.slice(1) : value;
  const [address = '', length, ...rest] = typeof text === 'string' ? text.split('/') : [];
  const family = isIP(address);
  const maxLength = family === 6 ? 128 : 32;
  const lengthOk =
    length === undefined || (/^\d{1,3}$/.test(length) && Number(length) <= maxLength);
  const ok =
    rest.length === 0 &&
    ((NAMED_ACL_WORDS.has(address) && length === undefined) || (family !== 0 && lengthOk));
  if (!ok) {
    throw new ValidationError(
      field,
      `${field} ${JSON.stringify(String(value).slice(0, 60))} is not an address match element`,
    );
  }
  return value;
}

function matchList(values: readonly string[], field: string): string {
  if (values.length === 0) throw new ValidationError(field, `${field} is empty`);
  return values.map((v, i) => `${validateAddressMatch(v, `${field}[${i}]`)};`).join(' ');
}

function integer(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `${field} ${value} is not an integer in ${min}..${max}`);
  }
  return value;
}

function quoted(name: string): string {
  return `"${validateKeyName(name, 'key name')}"`;
}

function rateLimitLines(r: NamedRateLimit): string[] {
  const perSecond = (value: number | undefined, what: string, field: string) =>
    value === undefined ? [] : [`    ${what} ${integer(value, field, 0, 1000)};`];
  return [
    '  rate-limit {',
    ...perSecond(r.responsesPerSecond, 'responses-per-second', 'rateLimit.responsesPerSecond'),
    ...perSecond(r.nxdomainsPerSecond, 'nxdomains-per-second', 'rateLimit.nxdomainsPerSecond'),
    ...perSecond(r.errorsPerSecond, 'errors-per-second', 'rateLimit.errorsPerSecond'),
    `    window ${integer(r.window, 'rateLimit.window', 1, 3600)};`,
    `    slip ${integer(r.slip, 'rateLimit.slip', 0, 10)};`,
    ...(r.logOnly ? ['    log-only yes;'] : []),
    ...(r.exemptClients === undefined
      ? []
      : [`    exempt-clients { ${matchList(r.exemptClients, 'rateLimit.exemptClients')} };`]),
    '  };',
  ];
}

/** NOTIFY: a primary tells its secondaries, signed; a secondary tells no one. */
function notifyLines(input: NamedConfInput, key: string): string[] {
  if (input.role === 'secondary') return ['  notify no;', `  allow-notify { key ${key}; };`];
  const targets = (input.notify ?? []).map(
    (t, i) =>
      `${validateAddress(t.address, `notify[${i}].address`)} port ${validatePort(t.port, `notify[${i}].port`)} key ${key};`,
  );
  if (targets.length === 0) return ['  notify no;'];
  return ['  notify explicit;', `  also-notify { ${targets.join(' ')} };`];
}

function optionsLines(input: NamedConfInput): string[] {
  const key = quoted(input.tsigKey.name);
  const dir = validatePath(input.directory, 'directory');
  const { listen, options } = input;
  return [
    'options {',
    `  directory "${dir}";`,
    `  new-zones-directory "${dir}";`,
    `  managed-keys-directory "${dir}";`,
    `  pid-file "${dir}/named.pid";`,
    `  session-keyfile "${dir}/session.key";`,
    `  listen-on port ${validatePort(listen.dnsPort, 'dnsPort')} { ${matchList(listen.ipv4, 'listen.ipv4')} };`,
    `  listen-on-v6 port ${validatePort(listen.dnsPort, 'dnsPort')} { ${matchList(listen.ipv6, 'listen.ipv6')} };`,
    '  allow-new-zones yes;',
    `  recursion ${options.recursion ? 'yes' : 'no'};`,
    // Authoritative servers: no validation, so named never fetches trust anchors.
    '  dnssec-validation no;',
    `  allow-query { key ${key}; ${matchList(options.allowQuery, 'allowQuery')} };`,
    `  allow-transfer { key ${key}; };`,
    ...notifyLines(input, key),
    ...(options.rateLimit === undefined ? [] : rateLimitLines(options.rateLimit)),
    '};',
  ];
}

function controlsLine(input: NamedConfInput): string {
  const { listen } = input;
  const address =
    listen.controlAddress === '*'
      ? '*'
      : validateAddress(listen.controlAddress, 'listen.controlAddress');
  return `controls { inet ${address} port ${validatePort(listen.rndcPort, 'rndcPort')} allow { ${matchList(listen.controlAllow, 'listen.controlAllow')} } keys { ${quoted(input.rndcKey.name)}; }; };`;
}

const LOGGING = [
  'logging {',
  '  channel stderr_log { stderr; severity info; print-time yes; print-category yes; print-severity yes; };',
  '  category default { stderr_log; };',
  '  category lame-servers { null; };',
  '};',
];

/** Renders named.conf; throws a ValidationError naming the first value that is not safe. */
export function renderNamedConf(input: NamedConfInput): NamedConf {
  if (input.owner.includes('\n')) throw new ValidationError('owner', 'owner has a line break');
  const body = [
    `include "${validatePath(input.tsigKey.file, 'tsigKey.file')}";`,
    `include "${validatePath(input.rndcKey.file, 'rndcKey.file')}";`,
    '',
    ...optionsLines(input),
    '',
    controlsLine(input),
    '',
    ...LOGGING,
  ];
  const configId = `cfg-${createHash('sha256').update(body.join('\n')).digest('hex').slice(0, 16)}`;
  const at = body.indexOf('options {') + 1;
  const lines = [
    `# ${input.role} of ${input.owner}, rendered by bind9-controller: edits are overwritten.`,
    ...body.slice(0, at),
    `  server-id "${configId}";`,
    ...body.slice(at),
    '',
  ];
  return { text: lines.join('\n'), configId };
}
