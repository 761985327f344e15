/** `bind9-controller run` as a child process, for tests that kill it (SIGKILL). */
import { runController } from '../../src/cli/run.ts';

process.exitCode = await runController(process.argv.slice(2));
