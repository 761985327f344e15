/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: self time by
 * package (or our source folder) and the top functions. Also reads a .heapprofile (node
 * --heap-prof, written at exit): the sampled live bytes by allocating package and function.
 * For RESULTS.md's "what limits it".
 *
 * Self time is spread thin over Node's HTTP and stream internals, so the CPU profile also
 * gets time *including callees* for our own functions (src/), and, for the samples with no
 * frame of ours on the stack (socket reads, timers: the asynchronous halves of requests),
 * the Node.js function nearest the root.
 *
 *     node bench/cpuprofile-top.ts FILE.cpuprofile|FILE.heapprofile [--top 25]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});

/** `node_modules/<pkg>`, `src/<folder>`, `node:internal`, or the frame's kind. */
function bucketOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/(src|test|bench)\/([^/]+)/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  if (url.startsWith('node:')) return 'node: (core)';
  return url;
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function top(map: Map<string, number>, n: number, total: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, us]) =>
        `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`,
    );
}

function frameKey(f: CallFrame): string {
  const where = f.url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
}

/** Live sampled bytes, by package and by allocating function. */
function heapReport(file: string, head: HeapNode, n: number): string {
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  const stack = [head];
  while (stack.length > 0) {
    const node = stack.pop()!;
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    total += node.selfSize;
    add(buckets, bucketOf(node.callFrame.url, node.callFrame.functionName), node.selfSize);
    add(functions, frameKey(node.callFrame), node.selfSize);
  }
  const fmt = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, b]) =>
          `${(b / 2 ** 20).toFixed(1).padStart(8)} MB ${((100 * b) / total).toFixed(1).padStart(5)}%  ${k}`,
      );
  return [
    `${file}: ${(total / 2 ** 20).toFixed(1)} MB live (sampled) at exit`,
    '',
    'allocated by package / folder:',
    ...fmt(buckets),
    '',
    'allocated by function:',
    ...fmt(functions),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const file = positionals[0];
  if (file === undefined)
    throw new Error('usage: cpuprofile-top.ts FILE.cpuprofile|FILE.heapprofile');
  const parsed = JSON.parse(await readFile(file, 'utf8')) as Profile | { head: HeapNode };
  if ('head' in parsed) {
    process.stdout.write(heapReport(file, parsed.head, Number(values.top)));
    return;
  }
  const profile = parsed;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (node === undefined) return;
    const { functionName, url } = node.callFrame;
    total += us;
    add(buckets, bucketOf(url, functionName), us);
    add(functions, frameKey(node.callFrame), us);
  });
  const n = Number(values.top);
  const { ours, entries, areas } = inclusive(profile, byId);
  process.stdout.write(
    [
      `${file}: ${(total / 1000).toFixed(0)} ms sampled over ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms`,
      '',
      'self time by package / folder:',
      ...top(buckets, n, total),
      '',
      'self time by function:',
      ...top(functions, n, total),
      '',
      'time including callees, our functions (src/):',
      ...top(ours, n, total),
      '',
      'samples with no frame of ours, by the first Node.js frame below the root:',
      ...top(entries, n, total),
      '',
      'busy time by area (the deepest frame of ours decides; none: the Node.js frames):',
      ...top(
        areas,
        n,
        [...areas.values()].reduce((a, b) => a + b, 0),
      ),
      '',
    ].join('\n'),
  );
}

const isOurs = (f: CallFrame) => /\/src\//.test(f.url) && !/node_modules/.test(f.url);

/** What a sample's deepest frame of ours was doing, by file (RESULTS.md's profile tops). */
function areaOfOurs(f: CallFrame): string {
  const url = f.url;
  if (/src\/kube\/(rest|http2|rest-kube)\./.test(url)) return 'API requests (client side)';
  if (
    /src\/kube\/(watch|informer)\./.test(url) ||
    /src\/controller\/(stores|relevance|keys)\./.test(url)
  )
    return 'watch events: decode, cache, event to key';
  if (/src\/(dns|bind)\//.test(url)) return 'DNS: AXFR, plan, UPDATE';
  if (/src\/(reconcilers|api)\//.test(url)) return 'reconcile: desired state, ownership, status';
  return `other: ${url.replace(/^.*\/src\//, 'src/')}`;
}

/** The area of a sample with no frame of ours: start-up, GC, or the HTTP machinery. */
function areaOfNode(stack: readonly CallFrame[]): string {
  const leaf = stack[0]?.functionName ?? '';
  if (leaf === '(garbage collector)') return 'garbage collection';
  const urls = stack.map((f) => f.url).join(' ');
  if (/modules\/esm|bootstrap\/realm|run_main_module/.test(urls))
    return 'start-up (module loading)';
  if (/http2|_http_|_tls_|stream_base|node:net|streams\//.test(urls))
    return 'API requests (client side)';
  return `other: ${leaf || '(anonymous)'}`;
}

/** Inclusive time per src/ function (each counted once per sample), and what else ran. */
function inclusive(profile: Profile, byId: ReadonlyMap<number, ProfileNode>) {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const ours = new Map<string, number>();
  const entries = new Map<string, number>();
  const areas = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node !== undefined) stack.push(node.callFrame);
    }
    const seen = new Set<string>();
    const mine = stack.filter(isOurs);
    for (const frame of mine) seen.add(frameKey(frame));
    for (const key of seen) add(ours, key, us);
    if (stack[0]?.functionName !== '(idle)')
      add(areas, mine[0] ? areaOfOurs(mine[0]) : areaOfNode(stack), us);
    if (seen.size > 0) return;
    // Root first: the first named frame that is not the root or a bare (program)/(idle).
    const first = [...stack].reverse().find((f) => f.url !== '' || !f.functionName.startsWith('('));
    const leaf = stack[0];
    const key =
      first !== undefined
        ? frameKey(first)
        : leaf !== undefined
          ? leaf.functionName || '(anonymous)'
          : '(none)';
    add(entries, key, us);
  });
  return { ours, entries, areas };
}

await main();
