/**
 * What `plan` and `apply` share: their flags (the same for both), the instance to talk to
 * they name (src/bind/target.ts), and telling a zone the server does not serve from a
 * failed read (RFC 5936, RFC 8945).
 */
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { directoryStore } from '../bind/files.ts';
import type { InstanceTarget } from '../bind/target.ts';
import type { DnsClient } from '../dns/client.ts';
import { parseKey, type SecretKey } from '../dns/keyfile.ts';
import type { DnsEndpoint } from '../dns/update-request.ts';
import { isControllerError, ValidationError } from '../errors.ts';

/** Where command output goes; tests pass their own. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export const consoleIO: CliIO = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

export interface RndcOptions {
  readonly endpoint: DnsEndpoint;
  readonly key: SecretKey;
  readonly zoneDir: string;
}

export interface TargetOptions {
  readonly files: readonly string[];
  readonly server: DnsEndpoint;
  readonly key: SecretKey;
  readonly prune: boolean;
  readonly force: boolean;
  readonly maxChangePercent: number;
  readonly rndc?: RndcOptions;
  readonly timeoutMs: number;
}

export const TARGET_USAGE = `options:
  -f, --filename PATH        manifest file or directory (recursive); repeatable
  --server HOST[:PORT]       the BIND9 server (DNS port, default 53)
  --key-file FILE            TSIG key in tsig-keygen form (the file nsupdate -k reads)
  --prune                    delete RRsets no manifest declares (never SOA or apex NS);
                             a DNSZone with spec.prune: true prunes too
  --force                    change more than --max-change-percent of a zone anyway
  --max-change-percent N     safety threshold for zones of 10+ RRsets (default 30)
  --timeout SECONDS          per DNS exchange (default 10)`;

export const RNDC_USAGE = `  --rndc HOST[:PORT]         create missing zones over rndc (port default 953), with
  --rndc-key-file FILE       the rndc key, and
  --zone-dir DIR             the directory named reads base zone files from`;

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address; host names are resolved. */
export async function parseEndpoint(
  text: string,
  defaultPort: number,
  flag: string,
): Promise<DnsEndpoint> {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(text);
  const match = bracketed ?? (isIP(text) === 6 ? [text, text, undefined] : plain);
  if (match === null || match[1] === undefined) {
    throw new ValidationError(`--${flag}`, `expected HOST[:PORT], got "${text}"`);
  }
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ValidationError(`--${flag}`, `port must be 1-65535, got "${match[2]}"`);
  }
  const host = match[1];
  const address = isIP(host) !== 0 ? host : (await lookup(host)).address;
  return { address, port };
}

async function readKey(path: string, flag: string): Promise<SecretKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ValidationError(`--${flag}`, `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseKey(text);
  } catch (error) {
    throw new ValidationError(`--${flag}`, `${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '')
    throw new ValidationError(`--${flag}`, `--${flag} is required`);
  return value;
}

async function rndcOptions(values: Record<string, unknown>): Promise<RndcOptions | undefined> {
  const rndc = values.rndc as string | undefined;
  const keyFile = values['rndc-key-file'] as string | undefined;
  const zoneDir = values['zone-dir'] as string | undefined;
  if (rndc === undefined && keyFile === undefined && zoneDir === undefined) return undefined;
  return {
    endpoint: await parseEndpoint(required(rndc, 'rndc'), 953, 'rndc'),
    key: await readKey(required(keyFile, 'rndc-key-file'), 'rndc-key-file'),
    zoneDir: required(zoneDir, 'zone-dir'),
  };
}

function numberFlag(value: unknown, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > max) {
    throw new ValidationError(`--${flag}`, `must be a number from 0 to ${max}`);
  }
  return n;
}

/** Parses the flags of `plan` or `apply` (the same flags). Undefined means `--help`. */
export async function parseTargetArgs(args: readonly string[]): Promise<TargetOptions | undefined> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      server: { type: 'string' },
      'key-file': { type: 'string' },
      prune: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      'max-change-percent': { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      rndc: { type: 'string' },
      'rndc-key-file': { type: 'string' },
      'zone-dir': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const files = values.filename ?? [];
  if (files.length === 0)
    throw new ValidationError('-f', 'at least one manifest file or directory is required');
  const rndc = await rndcOptions(values);
  return {
    files,
    server: await parseEndpoint(required(values.server, 'server'), 53, 'server'),
    key: await readKey(required(values['key-file'], 'key-file'), 'key-file'),
    prune: values.prune,
    force: values.force,
    maxChangePercent: numberFlag(values['max-change-percent'], 'max-change-percent', 30, 100),
    timeoutMs: numberFlag(values.timeout, 'timeout', 10, 3600) * 1000,
    ...(rndc === undefined ? {} : { rndc }),
  };
}

/**
 * The server the flags name, as the one instance the CLI talks to: with `--rndc` it may
 * create zones (base files in `--zone-dir`), without it the zones are the server's own.
 */
export function targetOf(options: TargetOptions): InstanceTarget {
  const rndc = options.rndc;
  return {
    id: 'cli',
    role: 'primary',
    dns: options.server,
    tsigKey: options.key,
    ...(rndc === undefined
      ? {}
      : { rndc: { endpoint: rndc.endpoint, key: rndc.key }, files: directoryStore(rndc.zoneDir) }),
  };
}

/**
 * Whether a failed read of `zone` means the server does not serve it. named answers an
 * AXFR for a zone it does not serve with NOTAUTH (a TSIG failure is a TsigError with its
 * own code); an unsigned SOA query, which it REFUSES then, confirms it.
 */
export async function notServed(
  client: DnsClient,
  server: DnsEndpoint,
  zone: string,
  error: unknown,
): Promise<boolean> {
  if (!isControllerError(error) || !['NOTAUTH', 'REFUSED'].includes(error.code)) return false;
  const served = await client.querySoa(server, zone).catch(() => undefined);
  return served === undefined;
}

/** One line for an error: its message, and the field for validation errors. */
export function errorText(error: unknown): string {
  if (error instanceof ValidationError && !error.message.includes(error.field)) {
    return `${error.field}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
