/**
 * What examples/ declares and how to check that a DNS server answers it: the RRset each
 * record resource declares, and `dig` against a server compared with those RRsets. Shared by
 * both modes of the demo (a named on loopback, or the BIND9 Service of the one-node cluster)
 * and the node tests.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isRecordKind, type RecordSpecByKind, recordRRset } from '../../src/api/index.ts';
import { type RRset, rdataTexts } from '../../src/dns/rrset.ts';
import type { Manifest } from './manifests.ts';

const run = promisify(execFile);

/** A DNS server to ask: an address and a port. */
export interface DnsTarget {
  readonly address: string;
  readonly port: number;
}

/** The Ready condition of an object (`Unknown`/`NotReconciled` before the first status). */
export function readyOf(object: unknown): { status: string; reason: string } {
  const status = (object as { status?: { conditions?: unknown } }).status;
  const conditions = Array.isArray(status?.conditions) ? status.conditions : [];
  const ready = conditions.find((c: { type?: unknown }) => c?.type === 'Ready') as
    | { status?: string; reason?: string }
    | undefined;
  return { status: ready?.status ?? 'Unknown', reason: ready?.reason ?? 'NotReconciled' };
}

/** The RRset each example record resource declares, resolved against its DNSZone. */
export function expectedRRsets(examples: readonly Manifest[]): { id: string; rrset: RRset }[] {
  const zones = new Map(
    examples
      .filter((o) => o.kind === 'DNSZone')
      .map((o) => [o.metadata.name, o.spec as { zoneName: string; ttl?: number }]),
  );
  const out: { id: string; rrset: RRset }[] = [];
  for (const o of examples) {
    if (!isRecordKind(o.kind)) continue;
    const spec = o.spec as RecordSpecByKind[typeof o.kind];
    const zone = zones.get(spec.zone);
    if (zone === undefined)
      throw new RangeError(`${o.kind}/${o.metadata.name}: no DNSZone ${spec.zone}`);
    const rrset = recordRRset(o.kind, spec as never, zone.zoneName, zone.ttl ?? 3600) as RRset;
    out.push({ id: `${o.kind}/${o.metadata.name}`, rrset });
  }
  return out;
}

/** `name TTL IN TYPE rdata` lines of dig's output, for one owner and type. */
export function digRecords(output: string, name: string, type: string): string[] {
  const records: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (m?.[1]?.toLowerCase() === `${name}.` && m[3] === type) records.push(`${m[2]} ${m[4]}`);
  }
  return records.map((r) => r.toLowerCase()).sort();
}

/** The outcome of asking for one declared RRset. */
export interface DigCheck {
  readonly id: string;
  readonly args: readonly string[];
  readonly got: readonly string[];
  readonly want: readonly string[];
  readonly same: boolean;
}

/**
 * Asks the server with dig for every record and compares TTL and data with the declared
 * RRset. The authority section counts too: an NS RRset below the apex is a delegation,
 * which named answers with a referral (RFC 1034 §4.3.2), not an answer.
 */
export async function digExamples(
  target: DnsTarget,
  examples: readonly Manifest[],
): Promise<DigCheck[]> {
  const checks: DigCheck[] = [];
  for (const { id, rrset } of expectedRRsets(examples)) {
    const args = [`@${target.address}`, '-p', String(target.port), `${rrset.name}.`, rrset.type];
    const { stdout } = await run('dig', [...args, '+noall', '+answer', '+authority', '+time=2']);
    const got = digRecords(stdout, rrset.name, rrset.type);
    const want = rdataTexts(rrset)
      .map((t) => `${rrset.ttl} ${t}`.toLowerCase())
      .sort();
    const same = got.length === want.length && got.every((g, i) => g === want[i]);
    checks.push({ id, args, got, want, same });
  }
  return checks;
}

/** Prints each check the way the demo shows it; true when every answer was as declared. */
export function printDigChecks(checks: readonly DigCheck[], say: (line: string) => void): boolean {
  for (const c of checks) {
    say(`${c.same ? 'ok  ' : 'FAIL'} dig ${c.args.join(' ')}   # ${c.id}`);
    for (const line of c.got) process.stdout.write(`         ${line}\n`);
    if (!c.same) process.stdout.write(`       expected: ${c.want.join(' | ')}\n`);
  }
  return checks.every((c) => c.same);
}
