/**
 * The README's first command. `scripts/demo.ts --once` starts a real control plane and a
 * real named, runs the controller as the ServiceAccount of deploy/ (so the shipped RBAC is
 * what it runs with), applies examples/, and exits 0 only when every example resource is
 * Ready and dig answers each record with exactly its data. Interactive, it waits for
 * Ctrl-C and then removes everything it started; a Ctrl-C during start-up does too.
 * (scripts/demo.sh adds only scripts/setup.sh in front, which the test suite runs anyway.)
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { portOpen } from '../harness/ports.ts';

const root = new URL('../..', import.meta.url).pathname;

interface Demo {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves once the output matches `pattern`; rejects if the demo exits first or 5 min pass. */
  waitFor(pattern: RegExp): Promise<void>;
  /** The exit code, or the signal that ended it; after its output has been read in full. */
  exited: Promise<number | string>;
}

/** Demos started by the current test: whatever is still running after it is stopped. */
const running = new Set<Demo>();

afterEach(async () => {
  for (const demo of running) {
    // A failed assertion must not leave a demo (and its named and API server) running,
    // nor keep this file from ending.
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGINT');
      const timer = setTimeout(() => demo.child.kill('SIGKILL'), 60_000);
      await demo.exited;
      clearTimeout(timer);
    }
  }
  running.clear();
});

function startDemo(args: readonly string[]): Demo {
  const child = spawn(process.execPath, [join(root, 'scripts/demo.ts'), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: string) => {
    output += chunk;
    for (const listener of listeners) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  // 'close', not 'exit': 'exit' can come before the last of its output has been read.
  const exited = new Promise<number | string>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const demo: Demo = {
    child,
    output: () => output,
    exited,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} from the demo in 5 min:\n${output}`));
        }, 300_000);
        const check = () => {
          if (!pattern.test(output)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        listeners.add(check);
        check();
        exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`demo exited before ${pattern}:\n${output}`));
        });
      }),
  };
  running.add(demo);
  return demo;
}

test('the demo in --once mode brings every example to Ready and dig answers each record', async () => {
  const demo = startDemo(['--once']);
  const code = await demo.exited;
  assert.equal(code, 0, demo.output().slice(-6000));
  assert.match(demo.output(), /\d+\/\d+ Ready\n/);
  assert.doesNotMatch(demo.output(), /FAIL dig/);
  // One dig line per record resource of examples/ (ten of them).
  assert.equal(demo.output().match(/^\[demo\] ok +dig /gm)?.length, 10);
});

/** The API server's port and state directory, from the demo's first line about it. */
function apiserverOf(output: string): { apiPort: number; stateDir: string } {
  const m = /kube-apiserver at https:\/\/127\.0\.0\.1:(\d+) \(state in (\S+)\)/.exec(output);
  assert.ok(m, `the demo names its API server:\n${output}`);
  return { apiPort: Number(m[1]), stateDir: String(m[2]) };
}

test('the interactive demo keeps running until Ctrl-C, then stops named and the API server', async () => {
  const demo = startDemo([]);
  await demo.waitFor(/applied \d+ example resources/);
  const { apiPort, stateDir } = apiserverOf(demo.output());
  const dnsPort = Number(/named on 127\.0\.0\.1 port (\d+)/.exec(demo.output())?.[1]);
  assert.ok(existsSync(join(stateDir, 'admin.kubeconfig')), 'the kubeconfig exists while it runs');
  assert.equal(await portOpen(apiPort), true, 'kube-apiserver answers while the demo runs');
  assert.equal(await portOpen(dnsPort), true, 'named answers while the demo runs');
  await demo.waitFor(/press Ctrl-C/);
  // At once, as a person reading fast would: the demo must already be listening for it
  // (a handler installed after printing the line lost this race on CI and here).
  demo.child.kill('SIGINT');
  assert.equal(await demo.exited, 0, demo.output().slice(-4000));
  assert.match(demo.output(), /export KUBECONFIG=\S+\/admin\.kubeconfig/);
  assert.equal(existsSync(stateDir), false, 'the control plane state is removed');
  assert.equal(await portOpen(dnsPort), false, 'named is stopped');
  assert.equal(await portOpen(apiPort), false, 'kube-apiserver is stopped');
});

test('a Ctrl-C during start-up ends the demo with status 130 and leaves nothing running', async () => {
  const demo = startDemo([]);
  await demo.waitFor(/kube-apiserver at /);
  demo.child.kill('SIGINT');
  assert.equal(await demo.exited, 130, demo.output().slice(-4000));
  const { apiPort, stateDir } = apiserverOf(demo.output());
  assert.equal(existsSync(stateDir), false, 'the control plane state is removed');
  assert.equal(await portOpen(apiPort), false, 'kube-apiserver is stopped');
  const named = /named on 127\.0\.0\.1 port (\d+)/.exec(demo.output());
  if (named) assert.equal(await portOpen(Number(named[1])), false, 'named is stopped');
  assert.doesNotMatch(demo.output(), /press Ctrl-C/);
});
