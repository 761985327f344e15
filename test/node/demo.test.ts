/**
 * `scripts/demo.sh --node --once`: the demo's checks with deploy/ and deploy/bind9/ running
 * as pods of the one-node cluster (it reuses the running cluster, and leaves it running).
 * This file stays on the host, like a user typing the command: the demo enters the
 * cluster's namespace by itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './harness.ts';

function demo(args: readonly string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(join(REPO_ROOT, 'scripts/demo.sh'), args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

test('demo --node --once shows kubectl get dns -A and dig answers every example record from the BIND9 Service', async () => {
  const { code, out } = await demo(['--node', '--once']);
  assert.equal(code, 0, out);
  assert.match(out, /\[demo\] kubectl get dns -A\n/);
  assert.match(out, /dnszone\.dns\.bind9-controller\.io\/example-com\s+example\.com\s+300\s+True/);
  assert.match(out, /the Lease is held by bind9-controller-/);
  const ok = out.split('\n').filter((l) => /^\[demo\] ok +dig @10\.215\.\d+\.\d+ -p 53 /.test(l));
  assert.ok(ok.length >= 10, `${ok.length} records answered:\n${out}`);
  assert.doesNotMatch(out, /FAIL/);
});
