/**
 * The `bind9-controller` command: a small table of subcommands. Add one by adding an
 * entry; each gets its own arguments and returns the process exit code. Each command's
 * module is imported only when that command runs, so `crds --check` in CI does not load
 * the Kubernetes client, and one command's broken import cannot break the others.
 */

export interface Command {
  readonly summary: string;
  readonly run: (args: readonly string[]) => Promise<number>;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  crds: {
    summary: 'write the CRD YAML generated from src/api (--out DIR, default crds; --check)',
    run: async (args) => (await import('./crds.ts')).runCrds(args),
  },
  run: {
    summary: 'run the controller (run --help for its options)',
    run: async (args) => (await import('./run.ts')).runController(args),
  },
  plan: {
    summary:
      'print the nsupdate script that brings a BIND9 server to the manifests (exit 2: changes)',
    run: async (args) => (await import('./plan.ts')).runPlan(args),
  },
  apply: {
    summary: 'send the plan to a BIND9 server as signed UPDATEs (--rndc: create missing zones)',
    run: async (args) => (await import('./apply.ts')).runApply(args),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return ['usage: bind9-controller <command> [options]', '', 'commands:', ...lines].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`unknown command: ${name}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (error) {
    // Argument errors (node:util parseArgs) and the like: one line, no stack.
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
