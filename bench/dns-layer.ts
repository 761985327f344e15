/**
 * 10,000 adds then 10,000 deletes to one zone of a real named, through our DnsClient and
 * through BIND's own `nsupdate`, same server, same key, same run.
 *
 * Fair by construction: both send the same RFC 2136 messages (BATCH updates per message:
 * nsupdate gets BATCH `update` lines per `send`, we put BATCH operations per UPDATE), both
 * over TCP (`nsupdate -v`), both TSIG-signed with the same hmac-sha256 key, both wait for
 * each reply before the next message (nsupdate cannot pipeline, so we do not either). Two
 * rounds in opposite order, so a warmer server or a longer journal favours neither side.
 *
 *     node bench/dns-layer.ts [--records 10000] [--batch 500]
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DnsClient } from '../src/dns/client.ts';
import type { UpdateOperation } from '../src/dns/update-request.ts';
import { type NamedServer, startNamed } from '../test/harness/named.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '500' },
  },
});
const RECORDS = Number(values.records);
const BATCH = Number(values.batch);
const ZONE = 'bench.test';

const hostName = (i: number) => `h${i}.${ZONE}`;
const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

const indices = Array.from({ length: RECORDS }, (_, i) => i);

async function ours(named: NamedServer, kind: 'add' | 'delete'): Promise<number> {
  const client = new DnsClient({ timeoutMs: 30_000 });
  const server = { address: named.address, port: named.dnsPort };
  const op = (i: number): UpdateOperation =>
    kind === 'add'
      ? {
          kind: 'add',
          rrset: { name: hostName(i), type: 'A', ttl: 300, rdata: [{ address: address(i) }] },
        }
      : { kind: 'deleteRRset', name: hostName(i), type: 'A' };
  const start = performance.now();
  for (const batch of batches(indices)) {
    await client.update(server, named.tsigKey, {
      zone: ZONE,
      prerequisites: [],
      updates: batch.map(op),
    });
  }
  const elapsed = performance.now() - start;
  await client.close();
  return elapsed;
}

async function nsupdate(named: NamedServer, kind: 'add' | 'delete'): Promise<number> {
  const lines = [`server ${named.address} ${named.dnsPort}`, `zone ${ZONE}`];
  for (const batch of batches(indices)) {
    for (const i of batch) {
      lines.push(
        kind === 'add'
          ? `update add ${hostName(i)} 300 A ${address(i)}`
          : `update delete ${hostName(i)} A`,
      );
    }
    lines.push('send');
  }
  const script = join(named.dir, `nsupdate-${kind}.txt`);
  await writeFile(script, `${lines.join('\n')}\n`);
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('nsupdate', ['-v', '-k', named.tsigKeyFile, script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`nsupdate exited ${code}: ${stderr}`)),
    );
  });
  return performance.now() - start;
}

async function countA(named: NamedServer): Promise<number> {
  const client = new DnsClient({ timeoutMs: 30_000 });
  const zone = await client.axfr(
    { address: named.address, port: named.dnsPort },
    named.tsigKey,
    ZONE,
  );
  await client.close();
  return zone.filter((r) => r.type === 'A' && r.name.startsWith('h')).length;
}

type Side = 'ours' | 'nsupdate';
const runners: Record<Side, typeof ours> = { ours, nsupdate };

async function phase(named: NamedServer, side: Side, kind: 'add' | 'delete'): Promise<number> {
  const ms = await runners[side](named, kind);
  const expected = kind === 'add' ? RECORDS : 0;
  const found = await countA(named);
  if (found !== expected)
    throw new Error(`${side} ${kind}: zone has ${found} host records, expected ${expected}`);
  return ms;
}

async function main(): Promise<void> {
  const named = await startNamed({ zones: [{ name: ZONE }] });
  const totals: Record<Side, { add: number; delete: number }> = {
    ours: { add: 0, delete: 0 },
    nsupdate: { add: 0, delete: 0 },
  };
  try {
    for (const order of [
      ['ours', 'nsupdate'],
      ['nsupdate', 'ours'],
    ] as const) {
      for (const side of order) {
        totals[side].add += await phase(named, side, 'add');
        totals[side].delete += await phase(named, side, 'delete');
      }
    }
  } finally {
    await named.stop();
  }
  const fmt = (ms: number) => `${(ms / 2).toFixed(0).padStart(6)} ms`;
  const sum = (s: Side) => totals[s].add + totals[s].delete;
  process.stdout.write(
    [
      `dns-layer: ${RECORDS} adds then ${RECORDS} deletes of A records in zone ${ZONE}, one named, key hmac-sha256`,
      `batching: ${BATCH} updates per UPDATE message for both (nsupdate: ${BATCH} lines per send), TCP for both (nsupdate -v), one message in flight at a time`,
      'times: mean of 2 rounds, run in opposite orders; each phase checked by a signed AXFR afterwards',
      `             adds     deletes    total`,
      `ours      ${fmt(totals.ours.add)} ${fmt(totals.ours.delete)} ${fmt(sum('ours'))}`,
      `nsupdate  ${fmt(totals.nsupdate.add)} ${fmt(totals.nsupdate.delete)} ${fmt(sum('nsupdate'))}`,
      `ratio ours/nsupdate: ${(sum('ours') / sum('nsupdate')).toFixed(2)}x (target <= 1.00x)`,
      '',
    ].join('\n'),
  );
}

await main();
