/**
 * Running `plan` and `apply` in this process, keeping what they print (the CLI tests).
 */
import type { CliIO } from '../../src/cli/target.ts';

/** Calls a command in-process and keeps what it printed. */
export async function cli(
  command: (args: readonly string[], io: CliIO) => Promise<number>,
  args: readonly string[],
) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) };
  const code = await command(args, io);
  return { code, stdout, stderr };
}
