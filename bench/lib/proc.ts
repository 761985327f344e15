/**
 * CPU time of a process from the kernel's own accounting (/proc/PID/stat): what the
 * controller, kube-apiserver and etcd spent during a scenario, whatever else the machine
 * ran meanwhile (wall-clock figures move with the machine's load; CPU seconds much less).
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

let ticks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot be asked). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of `stat`'s text, in seconds (fields 14 and 15, counted after the `)`). */
export function cpuSecondsOf(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** User + system CPU seconds `pid` has used so far; NaN when it cannot be read. */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    return cpuSecondsOf(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of several processes, by name, read as close together as possible. */
export async function cpuByName(pids: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const entries = await Promise.all(
    [...pids].map(async ([name, pid]) => [name, await cpuSeconds(pid)] as const),
  );
  return new Map(entries);
}
