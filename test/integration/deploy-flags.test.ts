/**
 * The heap flags the controller ships with are set in one place per artefact and agree:
 * the Dockerfile's ENV (what the image, and bench/memory.ts, run with) and the controller
 * container's `env` in deploy/deployment.yaml (a Pod's env would silently replace the
 * image's), and the container's memory limit leaves room over the V8 heap they allow, so
 * a growing heap fails in V8 (a loud, restartable crash) before the kernel OOM-kills it.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  DOCKERFILE,
  imageEnv,
  imageMemoryEnv,
  MEMORY_ENV_NAMES,
  nodeFlag,
} from '../../bench/lib/image-env.ts';

const root = new URL('../..', import.meta.url).pathname;
/** Node, TLS, the HTTP client and server and malloc's arenas: ~85 MB outside the V8 heap
 *  at 10,000 records (bench/RESULTS.md, memory); twice that leaves room for a burst. */
const NATIVE_HEADROOM_MIB = 160;

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  resources?: { limits?: { memory?: string }; requests?: { memory?: string } };
}

async function controllerContainer(): Promise<Container> {
  const doc = parse(await readFile(`${root}deploy/deployment.yaml`, 'utf8')) as {
    spec: { template: { spec: { containers: Container[] } } };
  };
  const container = doc.spec.template.spec.containers.find((c) => c.name === 'controller');
  assert.ok(container, 'deploy/deployment.yaml has a container named controller');
  return container;
}

function mebibytes(quantity: string | undefined): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity ?? '');
  assert.ok(m, `memory quantity in Mi or Gi, got ${quantity}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

describe('the heap flags the controller ships with', () => {
  test('the Dockerfile sets NODE_OPTIONS with both heap bounds and MALLOC_ARENA_MAX', async () => {
    const env = imageMemoryEnv(await readFile(DOCKERFILE, 'utf8'));
    assert.deepEqual(Object.keys(env).sort(), [...MEMORY_ENV_NAMES].sort());
    const options = env.NODE_OPTIONS ?? '';
    assert.ok(nodeFlag(options, 'max-old-space-size'), options);
    assert.ok(nodeFlag(options, 'max-semi-space-size'), options);
    assert.match(env.MALLOC_ARENA_MAX ?? '', /^\d+$/);
  });

  test('deploy/deployment.yaml gives the controller the same values as the image', async () => {
    const image = imageMemoryEnv();
    const env = (await controllerContainer()).env ?? [];
    for (const name of MEMORY_ENV_NAMES) {
      const entry = env.find((e) => e.name === name);
      assert.equal(entry?.value, image[name], `${name} in deployment.yaml and the Dockerfile`);
    }
  });

  test('the memory limit leaves headroom over the V8 heap the flags allow', async () => {
    const options = imageMemoryEnv().NODE_OPTIONS ?? '';
    const oldSpace = nodeFlag(options, 'max-old-space-size') ?? Number.POSITIVE_INFINITY;
    // V8's young generation is three semi-spaces (two plus the new large-object space).
    const young = 3 * (nodeFlag(options, 'max-semi-space-size') ?? Number.POSITIVE_INFINITY);
    const { resources } = await controllerContainer();
    const limit = mebibytes(resources?.limits?.memory);
    assert.ok(
      limit >= oldSpace + young + NATIVE_HEADROOM_MIB,
      `limit ${limit} Mi < old ${oldSpace} + young ${young} + ${NATIVE_HEADROOM_MIB} Mi`,
    );
    assert.ok(mebibytes(resources?.requests?.memory) <= limit);
  });

  test('reads ENV of the final stage only, across continuations and quoting', () => {
    const text = [
      'FROM base AS build',
      'ENV NODE_OPTIONS=--build-only',
      'FROM base',
      '# ENV NODE_OPTIONS=--commented',
      'ENV NODE_ENV=production \\',
      '    NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=256" \\',
      "    MALLOC_ARENA_MAX='2'",
      'ENV LEGACY form value',
    ].join('\n');
    assert.deepEqual(imageEnv(text), {
      NODE_ENV: 'production',
      NODE_OPTIONS: '--max-semi-space-size=2 --max-old-space-size=256',
      MALLOC_ARENA_MAX: '2',
      LEGACY: 'form value',
    });
    assert.equal(
      nodeFlag('--max-semi-space-size=2 --max-old-space-size=256', 'max-old-space-size'),
      256,
    );
    assert.equal(nodeFlag('--max-old-space-size=256', 'max-semi-space-size'), undefined);
  });
});
