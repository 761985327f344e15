/**
 * One DNS server program run in the foreground by a test harness (named, knotd,
 * pdns_server): its output kept in memory, "up" once it says so and its ports accept TCP,
 * stopped with SIGTERM then SIGKILL, and killed if the test process exits first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { portOpen } from './ports.ts';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ServerProgram {
  /** Shown in errors: `named`, `knotd`, `pdns_server`. */
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  /** True once the program's output says it serves. */
  readonly ready: (output: string) => boolean;
  /** True when the output says a port was taken by someone else (then: other ports). */
  readonly portTaken: (output: string) => boolean;
  readonly address: string;
  /** Every TCP port that must accept connections before the server counts as up. */
  readonly ports: () => readonly number[];
  readonly startTimeoutMs: number;
}

export class ServerStartError extends Error {
  override readonly name = 'ServerStartError';
}

export class ServerProcess {
  readonly #program: ServerProgram;
  #child: ChildProcess | undefined;
  #output = '';

  constructor(program: ServerProgram) {
    this.#program = program;
  }

  /** Everything the program wrote so far (read from a pipe: it can lag behind). */
  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts the program and resolves once it is up; rejects if it exits or is too slow. */
  async launch(): Promise<void> {
    const p = this.#program;
    this.#output = '';
    const proc = spawn(p.command, [...p.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = proc;
    running.add(proc);
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      running.delete(proc);
    });
    for (const stream of [proc.stdout, proc.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.#output += chunk;
      });
    }
    const deadline = Date.now() + p.startTimeoutMs;
    while (Date.now() < deadline) {
      if (exited) throw new ServerStartError(`${p.label} exited during start-up:\n${this.tail()}`);
      if (p.ready(this.#output) && (await this.#portsOpen())) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
    throw new ServerStartError(
      `${p.label} did not start within ${p.startTimeoutMs} ms:\n${this.tail()}`,
    );
  }

  async #portsOpen(): Promise<boolean> {
    for (const port of this.#program.ports()) {
      if (!(await portOpen(port, this.#program.address))) return false;
    }
    return true;
  }

  /** Stops the program (SIGTERM, then SIGKILL after 5 s). */
  async halt(): Promise<void> {
    const proc = this.#child;
    this.#child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Resolves with the output once it matches `pattern`; rejects after `timeoutMs`. */
  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.#output)) {
      if (Date.now() > deadline) {
        throw new ServerStartError(
          `${this.#program.label} did not log ${pattern} within ${timeoutMs} ms:\n${this.tail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.#output;
  }

  tail(): string {
    return this.#output.slice(-4000);
  }

  /** Whether the last launch failed because a port was taken. */
  get portWasTaken(): boolean {
    return this.#program.portTaken(this.#output);
  }
}

/**
 * Writes the server's files and launches it; when a port found free was bound by another
 * process in between, picks other ports and tries again (at most 3 times), unless the
 * ports were given by the caller.
 */
export async function launchOnFreePorts(
  server: ServerProcess,
  steps: {
    readonly fixedPorts: boolean;
    readonly prepare: () => Promise<void>;
    readonly pickPorts: () => Promise<void>;
  },
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await steps.prepare();
    const failure = await server.launch().then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!server.portWasTaken) {
      if (failure !== undefined) throw failure;
      return;
    }
    await server.halt();
    if (steps.fixedPorts || attempt >= 3) {
      throw new ServerStartError(`a port of the server is in use:\n${server.tail()}`);
    }
    await steps.pickPorts();
  }
}
