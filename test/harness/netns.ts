/**
 * A network namespace of our own with only a loopback interface, for servers that must run
 * on their real ports (53, 953) or with settings that could make them send queries of
 * their own (recursion): nothing started in it can reach any other machine, and nothing
 * in it collides with ports used on the host. Commands run inside with nsenter.
 *
 *     const net = await privateNetwork();
 *     const named = net.spawn('named', ['-g', '-c', conf]);
 *     const { stdout } = await net.run('dig', ['@127.0.0.1', 'example.com', 'SOA']);
 *     await net.close();                  // also kills what spawn started
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface PrivateNetwork {
  /** Runs a command inside and waits for it (at most `timeoutMs`, default 30 s). */
  run(
    command: string,
    args: readonly string[],
    input?: string,
    timeoutMs?: number,
  ): Promise<RunResult>;
  /** Starts a long-running command inside; `close` kills it if it is still running. */
  spawn(command: string, args: readonly string[]): ChildProcess;
  close(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess): Promise<void> {
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/**
 * `addresses`: more loopback addresses (`127.0.0.2`, ...) on `lo`, for servers that must
 * each have an address of their own: named listens only on addresses an interface carries.
 */
export async function privateNetwork(addresses: readonly string[] = []): Promise<PrivateNetwork> {
  for (const a of addresses) {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a))
      throw new Error(`${a} is not a loopback address`);
  }
  const setup = ['ip link set lo up', ...addresses.map((a) => `ip addr add ${a}/8 dev lo`)];
  // The holder keeps the namespace alive; it ends by itself after two hours at the latest.
  const script = `${setup.join(' && ')} && echo up && exec sleep 7200`;
  const holder = spawn('unshare', ['--net', '--', 'sh', '-c', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      said += chunk;
      if (said.includes('up')) resolve();
    });
    holder.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      said += chunk;
    });
    holder.once('exit', (code) => reject(new Error(`unshare exited (${code}): ${said}`)));
  });
  const enter = [`--net=/proc/${holder.pid}/ns/net`, '--'];
  const children = new Set<ChildProcess>();
  return {
    run(command, args, input, timeoutMs = 30_000) {
      const child = spawn('nsenter', [...enter, command, ...args], { stdio: 'pipe' });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
      });
      // A command that exits without reading its input (dig does not read stdin) closes
      // the pipe first: EPIPE then is no failure, the exit code and output tell.
      child.stdin.on('error', () => {});
      child.stdin.end(input ?? '');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      return new Promise((resolve) =>
        child.once('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        }),
      );
    },
    spawn(command, args) {
      const child = spawn('nsenter', [...enter, command, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    async close() {
      await Promise.all([...children].map(stopChild));
      await stopChild(holder);
    },
  };
}
