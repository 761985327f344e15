/**
 * The README's first command, non-interactive: `scripts/demo.ts --once` starts a real
 * control plane and a real named, runs the controller as the ServiceAccount of deploy/
 * (so the shipped RBAC is what it runs with), applies examples/, and exits 0 only when
 * every example resource is Ready and dig answers each record with exactly its data.
 * (scripts/demo.sh adds only scripts/setup.sh in front, which the test suite runs anyway.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;

test('the demo in --once mode brings every example to Ready and dig answers each record', async () => {
  const child = spawn(process.execPath, [join(root, 'scripts/demo.ts'), '--once'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, output.slice(-6000));
  assert.match(output, /\d+\/\d+ Ready\n/);
  assert.doesNotMatch(output, /FAIL dig/);
  // One dig line per record resource of examples/ (ten of them).
  assert.equal(output.match(/^\[demo\] ok +dig /gm)?.length, 10);
});
