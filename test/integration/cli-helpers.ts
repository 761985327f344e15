/**
 * Running `plan` and `apply` in this process, keeping what they print (the CLI tests), and
 * other programs with input on stdin (nsupdate, the installed command).
 */
import { spawn } from 'node:child_process';
import type { CliIO } from '../../src/cli/target.ts';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Calls a command in-process and keeps what it printed. */
export async function cli(
  command: (args: readonly string[], io: CliIO) => Promise<number>,
  args: readonly string[],
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) };
  const code = await command(args, io);
  return { code, stdout, stderr };
}

/** Runs a program with `input` on stdin; resolves with its exit code and output. */
export function runProgram(
  command: string,
  args: readonly string[],
  input = '',
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** The `in N UPDATE message(s)` figure apply prints for a zone. */
export function messagesOf(stdout: string): number | undefined {
  const match = /in (\d+) UPDATE message\(s\)/.exec(stdout);
  return match === null ? undefined : Number(match[1]);
}
