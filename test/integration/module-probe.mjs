/**
 * `node --import ./module-probe.mjs ...`: records every module the process resolves and, on
 * exit, writes their URLs one per line to $MODULE_PROBE_OUT (run-footprint.test.ts reads
 * it to prove what the controller's run path never loads). Plain JavaScript, so that probing
 * the built controller does not load Node's TypeScript stripper.
 */
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.MODULE_PROBE_OUT;
const urls = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    urls.add(result.url);
    return result;
  },
});
process.on('exit', () => {
  if (out !== undefined) writeFileSync(out, [...urls].join('\n'));
});
