/**
 * A plan as the script `nsupdate -k KEYFILE` reads: what `bind9-controller plan` prints.
 * Its `send`s are the messages `apply` sends (the executor's `messagesOf`, with the same
 * bounds and the same size measure), each with the same prerequisites and updates
 * (`updateRequestFor`), so `plan | nsupdate -k KEYFILE` changes the zone as `apply` does.
 */
import { SecretKey } from '../dns/keyfile.ts';
import { fqdn, type RdataByType, type RecordType, type RRset, rdataText } from '../dns/rrset.ts';
import type { DnsEndpoint, UpdateRequest } from '../dns/update-request.ts';
import { type ApplyOptions, messagesOf } from './executor.ts';
import { type Change, type Plan, updateRequestFor } from './plan.ts';

export interface ScriptOptions
  extends Pick<ApplyOptions, 'maxMessageBytes' | 'maxChangesPerMessage' | 'measure'> {
  /** The key the messages are signed with: messages are sized with it, as `apply` sizes them. */
  readonly key?: SecretKey;
}

function rrLines(prefix: string, rrset: RRset, ttl: string): string[] {
  return (rrset.rdata as readonly RdataByType[RecordType][]).map(
    (r) =>
      `${prefix} ${fqdn(rrset.name)}${ttl} IN ${rrset.type} ${rdataText(rrset.type, r as never)}`,
  );
}

/** The nsupdate lines of one request (nsupdate puts `prereq` lines in §2.4's section). */
export function nsupdateLines(request: UpdateRequest): string[] {
  const lines: string[] = [];
  for (const p of request.prerequisites) {
    if (p.kind === 'rrsetEquals') lines.push(...rrLines('prereq yxrrset', p.rrset, ''));
    else if (p.kind === 'rrsetExists') lines.push(`prereq yxrrset ${fqdn(p.name)} IN ${p.type}`);
    else if (p.kind === 'rrsetAbsent') lines.push(`prereq nxrrset ${fqdn(p.name)} IN ${p.type}`);
    else if (p.kind === 'nameInUse') lines.push(`prereq yxdomain ${fqdn(p.name)}`);
    else lines.push(`prereq nxdomain ${fqdn(p.name)}`);
  }
  for (const u of request.updates) {
    if (u.kind === 'add') lines.push(...rrLines('update add', u.rrset, ` ${u.rrset.ttl}`));
    else if (u.kind === 'deleteRRset') lines.push(`update delete ${fqdn(u.name)} IN ${u.type}`);
    else if (u.kind === 'deleteName') lines.push(`update delete ${fqdn(u.name)}`);
    else lines.push(...rrLines('update delete', u.rrset, ''));
  }
  return lines;
}

function describe(change: Change): string {
  const s = change.after ?? change.before;
  const who = change.owner === undefined ? 'not declared by any resource (prune)' : change.owner;
  return `; ${change.action} ${fqdn(s.name)} ${s.type}: ${who}`;
}

/**
 * The plan as a script: `server`, `zone`, then for each message the comments saying which
 * resource wants each change, the prerequisites and updates, and `send`. `keyName` is only
 * named in a comment: nsupdate takes the key from `-k`.
 */
export function formatNsupdateScript(
  plan: Plan,
  server: DnsEndpoint,
  keyName?: string,
  options: ScriptOptions = {},
): string {
  const lines = [
    `; plan for zone ${fqdn(plan.zone)}: ${plan.changes.length} change(s)`,
    ...(keyName === undefined
      ? []
      : [`; send with: nsupdate -k KEYFILE (the file holding key "${keyName}")`]),
    ...plan.skipped.map(
      (s) =>
        `; skipped ${fqdn(s.rrset.name)} ${s.rrset.type} (${s.rrset.owner}): ${s.reason}: ${s.message}`,
    ),
  ];
  if (plan.changes.length === 0) return `${lines.join('\n')}\n`;
  lines.push(`server ${server.address} ${server.port}`, `zone ${fqdn(plan.zone)}`);
  // Without the key itself, messages are sized for a stand-in of the same name (the
  // estimate assumes the longest MAC anyway); no secret is involved.
  const key = options.key ?? new SecretKey(keyName ?? 'key', 'hmac-sha512', Buffer.alloc(64));
  for (const message of messagesOf(plan, key, options)) {
    lines.push(
      ...message.map(describe),
      ...nsupdateLines(updateRequestFor(plan.zone, message)),
      'send',
    );
  }
  return `${lines.join('\n')}\n`;
}
