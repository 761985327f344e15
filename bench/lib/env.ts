/**
 * The machine and versions a figure was measured on: printed at the head of every
 * scenario so a table never travels without its context.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { findBinDir } from '../../test/harness/cluster.ts';
import { NAMED_BIN } from '../../test/harness/named.ts';

const run = promisify(execFile);

export interface Environment {
  readonly date: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly named: string;
  readonly kubeApiserver: string;
  /** 1-minute load average when the scenario started: other work on the machine skews figures. */
  readonly load1: number;
}

async function firstLine(file: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, [...args]);
    return (stdout || stderr).split('\n')[0]?.trim() ?? '?';
  } catch (error) {
    return `unknown (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
  }
}

export async function environment(): Promise<Environment> {
  let apiserver = 'not found';
  try {
    apiserver = await firstLine(`${findBinDir()}/kube-apiserver`, ['--version']);
  } catch {
    // No control plane built: the scenarios that need one will say so themselves.
  }
  return {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    named: await firstLine(NAMED_BIN, ['-v']),
    kubeApiserver: apiserver,
    load1: loadavg()[0] ?? Number.NaN,
  };
}

export function formatEnvironment(e: Environment): string {
  return [
    `date:           ${e.date}`,
    `machine:        ${e.cpus} CPUs (${e.cpuModel}), ${e.memoryGiB} GiB RAM`,
    `node:           ${e.node}`,
    `named:          ${e.named}`,
    `kube-apiserver: ${e.kubeApiserver}`,
    `load average:   ${e.load1.toFixed(2)} (1 min, at start; other work on the machine skews figures)`,
  ].join('\n');
}
