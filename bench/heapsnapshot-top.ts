/**
 * Reads a V8 .heapsnapshot and prints what the heap holds: self size by node type and
 * constructor name, and the largest strings' first characters (they tell whose data it is).
 *
 *     node --max-old-space-size=4096 bench/heapsnapshot-top.ts FILE.heapsnapshot [--top 25]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});

function table(map: Map<string, { bytes: number; count: number }>, n: number, total: number) {
  return [...map]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, n)
    .map(
      ([k, v]) =>
        `${(v.bytes / 2 ** 20).toFixed(1).padStart(8)} MB ${((100 * v.bytes) / total).toFixed(1).padStart(5)}% ${String(v.count).padStart(9)}  ${k}`,
    );
}

async function main(): Promise<void> {
  const file = positionals[0];
  if (file === undefined) throw new Error('usage: heapsnapshot-top.ts FILE.heapsnapshot');
  const snap = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byName = new Map<string, { bytes: number; count: number }>();
  const strings = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!] ?? '?';
    const name = snap.strings[snap.nodes[i + nameAt]!] ?? '';
    const size = snap.nodes[i + sizeAt]!;
    total += size;
    const key = type === 'object' || type === 'closure' ? `${type} ${name}` : type;
    const entry = byName.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count++;
    byName.set(key, entry);
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
      const head = name.slice(0, 60).replace(/\s+/g, ' ');
      const s = strings.get(head) ?? { bytes: 0, count: 0 };
      s.bytes += size;
      s.count++;
      strings.set(head, s);
    }
  }
  const n = Number(values.top);
  process.stdout.write(
    [
      `${file}: ${(total / 2 ** 20).toFixed(1)} MB in ${snap.nodes.length / width} nodes`,
      '',
      '      self     %     count  type / constructor',
      ...table(byName, n, total),
      '',
      'strings by their first 60 characters:',
      ...table(strings, n, total),
      '',
    ].join('\n'),
  );
}

await main();
