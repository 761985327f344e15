import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KIND_NAMES } from '../api/kinds.ts';
import { crdDrift, parseCrdsArgs } from './crds.ts';

const MAIN = join(import.meta.dirname, 'main.ts');

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('bind9-controller crds', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crds-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes one CRD per kind and a kustomization, then --check passes', async () => {
    const written = cli('crds', '--out', dir);
    assert.equal(written.code, 0, written.stderr);
    const files = await readdir(dir);
    assert.equal(
      files.filter((f) => f.startsWith('dns.bind9-controller.io_')).length,
      KIND_NAMES.length,
    );
    assert.ok(files.includes('kustomization.yaml'));
    const checked = cli('crds', '--out', dir, '--check');
    assert.equal(checked.code, 0, checked.stderr);
  });

  it('--check exits 1 and names a changed, a missing and a stale file', async () => {
    cli('crds', '--out', dir);
    await appendFile(join(dir, 'dns.bind9-controller.io_arecords.yaml'), '# edited\n');
    await unlink(join(dir, 'dns.bind9-controller.io_txtrecords.yaml'));
    await writeFile(join(dir, 'dns.bind9-controller.io_oldrecords.yaml'), 'kind: Old\n');
    const checked = cli('crds', '--out', dir, '--check');
    assert.equal(checked.code, 1);
    assert.match(checked.stderr, /dns\.bind9-controller\.io_arecords\.yaml: differs/);
    assert.match(checked.stderr, /dns\.bind9-controller\.io_txtrecords\.yaml: missing/);
    assert.match(checked.stderr, /dns\.bind9-controller\.io_oldrecords\.yaml: stale/);
    assert.deepEqual(
      (await crdDrift(dir)).map((d) => d.problem),
      ['differs', 'missing', 'stale'],
    );
  });

  it('--check on a directory that does not exist reports every file missing', async () => {
    const drift = await crdDrift(join(dir, 'nowhere'));
    assert.equal(drift.length, KIND_NAMES.length + 1);
    assert.ok(drift.every((d) => d.problem === 'missing'));
  });

  it('defaults to writing into crds/ and refuses unknown options', () => {
    assert.deepEqual(parseCrdsArgs([]), { out: 'crds', check: false });
    const bad = cli('crds', '--frobnicate');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /frobnicate/);
  });
});

describe('bind9-controller', () => {
  it('lists its commands and exits 2 for an unknown one', () => {
    const result = cli('nonsense');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command: nonsense/);
    assert.match(result.stderr, /crds/);
  });

  it('prints usage for --help and exits 0', () => {
    const result = cli('--help');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /usage: bind9-controller <command>/);
  });
});
