/**
 * The runtime environment the controller image ships with, read from the Dockerfile's
 * `ENV` instructions of its final stage, so the benchmarks run the controller with exactly
 * the heap flags the image sets (NODE_OPTIONS, MALLOC_ARENA_MAX) and nothing can drift
 * between the two. deploy/deployment.yaml repeats them (a Pod spec's `env` replaces the
 * image's only where it names the same variable); test/integration/deploy-flags.test.ts
 * checks that the two agree.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
export const DOCKERFILE = resolve(REPO, 'Dockerfile');

/** The variables that size the controller's memory; the rest of ENV is not ours to copy. */
export const MEMORY_ENV_NAMES = ['NODE_OPTIONS', 'MALLOC_ARENA_MAX'] as const;

/** Dockerfile instructions with `\` continuations joined and comments dropped. */
export function instructions(text: string): string[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** `K=V K2="v w"` pairs of one ENV instruction (the `ENV K V` legacy form too). */
export function parseEnvInstruction(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  const pair = /([A-Za-z_][A-Za-z0-9_]*)=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [name = '', ...rest] = args.split(/\s+/);
    env[name] = rest.join(' ');
    return env;
  }
  for (const m of args.matchAll(pair)) {
    env[m[1] as string] = m[2]?.replace(/\\(.)/g, '$1') ?? m[3] ?? m[4] ?? '';
  }
  return env;
}

/** Every ENV of the Dockerfile's final stage (what the running image sees), in order. */
export function imageEnv(text = readFileSync(DOCKERFILE, 'utf8')): Record<string, string> {
  let env: Record<string, string> = {};
  for (const line of instructions(text)) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (/^FROM$/i.test(keyword)) env = {};
    else if (/^ENV$/i.test(keyword)) Object.assign(env, parseEnvInstruction(args));
  }
  return env;
}

/** NODE_OPTIONS and MALLOC_ARENA_MAX as the image sets them (absent ones left out). */
export function imageMemoryEnv(text?: string): Record<string, string> {
  const env = imageEnv(text);
  const picked: Record<string, string> = {};
  for (const name of MEMORY_ENV_NAMES) {
    const value = env[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

/** `--max-old-space-size=256` → 256 (MB), from a NODE_OPTIONS string. */
export function nodeFlag(nodeOptions: string, flag: string): number | undefined {
  const m = new RegExp(`(?:^|\\s)--${flag}[= ](\\d+)(?:\\s|$)`).exec(nodeOptions);
  return m ? Number(m[1]) : undefined;
}
