/**
 * Figures as rows of one table: the figure, its target beside it, and a same-run baseline
 * where one makes sense. A missed target is reported, never an exit status: benchmarks do
 * not fail for slowness.
 */
import { appendFileSync } from 'node:fs';

export interface Target {
  /** `max`: the figure should be at most `value`; `min`: at least. */
  readonly kind: 'max' | 'min';
  readonly value: number;
}

export interface Row {
  readonly scenario: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: Target;
  /** A same-run figure to read this one against, as text (with its own unit). */
  readonly baseline?: string;
  readonly note?: string;
  /** Decimals to print the value with (default: by size and unit). */
  readonly digits?: number;
}

/** Env var naming a JSON-lines file that every scenario appends its rows to (bench/all.ts). */
export const RESULTS_ENV = 'BENCH_RESULTS_FILE';

export const atMost = (value: number): Target => ({ kind: 'max', value });

export function met(row: Row): boolean | undefined {
  if (row.target === undefined || !Number.isFinite(row.value)) return undefined;
  return row.target.kind === 'max' ? row.value <= row.target.value : row.value >= row.target.value;
}

function figure(value: number, unit: string, fixed?: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits =
    fixed ?? (unit === 'x' ? 2 : Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : 1);
  return `${value.toFixed(digits)} ${unit}`.trim();
}

function targetText(row: Row): string {
  if (row.target === undefined) return '';
  return `${row.target.kind === 'max' ? '<=' : '>='} ${figure(row.target.value, row.unit, row.digits)}`;
}

function verdict(row: Row): string {
  const ok = met(row);
  if (ok === undefined) return row.target === undefined ? '' : 'n/a';
  return ok ? 'met' : 'MISSED';
}

/** A fixed-width text table (also valid Markdown). */
export function formatTable(rows: readonly Row[]): string {
  const header = ['scenario', 'figure', 'value', 'target', '', 'same-run baseline'];
  const cells = rows.map((r) => [
    r.scenario,
    r.metric,
    figure(r.value, r.unit, r.digits),
    targetText(r),
    verdict(r),
    [r.baseline, r.note].filter((x) => x !== undefined && x !== '').join('; '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}

/** Prints the rows and appends them to $BENCH_RESULTS_FILE when bench/all.ts runs us. */
export function report(rows: readonly Row[]): void {
  process.stdout.write(`\n${formatTable(rows)}\n`);
  const file = process.env[RESULTS_ENV];
  if (file !== undefined && file !== '') {
    appendFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export const log = (text: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${text}\n`);
};
