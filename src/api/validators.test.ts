import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { KIND_NAMES } from './kinds.ts';
import { VALIDATORS } from './validators.generated.js';
import {
  DECLARATIONS_PATH,
  declarationsSource,
  GENERATED_PATH,
  validatorName,
  validatorsSource,
} from './validators-codegen.ts';

const run = promisify(execFile);

describe('the precompiled validators', () => {
  it('are exactly what the schemas generate (run npm run validators after a schema change)', async () => {
    // Compared as a boolean: the file is ~280 kB, too long for an assertion diff.
    const same = (await readFile(GENERATED_PATH, 'utf8')) === validatorsSource();
    assert.ok(same, 'src/api/validators.generated.js is stale: run npm run validators');
    assert.equal(await readFile(DECLARATIONS_PATH, 'utf8'), declarationsSource());
  });

  it('exist for the spec and the whole object of every kind', () => {
    const exported: Readonly<Record<string, unknown>> = VALIDATORS;
    for (const kind of KIND_NAMES) {
      for (const part of ['spec', 'object'] as const) {
        assert.equal(typeof exported[validatorName(kind, part)], 'function', `${kind} ${part}`);
      }
    }
  });
});

describe('what the controller loads from src/api', () => {
  it('is neither TypeBox nor the ajv compiler: only ajv runtime helpers', async () => {
    // Every module the run path imports from src/api, in a fresh process that records
    // each module it resolves.
    const code = `
      import { registerHooks } from 'node:module';
      const urls = [];
      registerHooks({ resolve(s, c, next) { const r = next(s, c); urls.push(r.url); return r; } });
      for (const m of ['kinds', 'validate', 'dnszone', 'bind9instance', 'records', 'meta', 'semantics'])
        await import(new URL('./' + m + '.ts', ${JSON.stringify(`${import.meta.url}`)}).href);
      process.stdout.write(JSON.stringify(urls));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code]);
    const urls = JSON.parse(stdout) as string[];
    assert.ok(urls.some((u) => u.endsWith('/src/api/validators.generated.js')));
    const heavy = urls.filter(
      (u) =>
        u.includes('/node_modules/@sinclair/typebox/') ||
        (u.includes('/node_modules/ajv/') && !u.includes('/node_modules/ajv/dist/runtime/')) ||
        /-schema\.ts$|kind-schemas\.ts$|record-specs\.ts$|fields\.ts$/.test(u),
    );
    assert.deepEqual(heavy, []);
  });
});
