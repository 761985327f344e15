import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../errors.ts';
import { errorText, parseEndpoint, parseTargetArgs } from './target.ts';

describe('parseEndpoint', () => {
  it('takes an address with or without a port, IPv6 in brackets or bare', async () => {
    assert.deepEqual(await parseEndpoint('127.0.0.1', 53, 'server'), {
      address: '127.0.0.1',
      port: 53,
    });
    assert.deepEqual(await parseEndpoint('127.0.0.1:5353', 53, 'server'), {
      address: '127.0.0.1',
      port: 5353,
    });
    assert.deepEqual(await parseEndpoint('[::1]:953', 53, 'rndc'), { address: '::1', port: 953 });
    assert.deepEqual(await parseEndpoint('::1', 53, 'server'), { address: '::1', port: 53 });
  });

  it('resolves a host name', async () => {
    const endpoint = await parseEndpoint('localhost:53', 53, 'server');
    assert.ok(['127.0.0.1', '::1'].includes(endpoint.address), endpoint.address);
  });

  it('refuses a port out of range, naming the flag', async () => {
    await assert.rejects(parseEndpoint('127.0.0.1:70000', 53, 'server'), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.equal(errorText(error), '--server: port must be 1-65535, got "70000"');
      return true;
    });
  });
});

describe('parseTargetArgs', () => {
  let dir: string;
  let keyFile: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'target-'));
    keyFile = join(dir, 'k.key');
    await writeFile(keyFile, 'key "ctrl" { algorithm hmac-sha256; secret "c2VjcmV0"; };\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads files, server, key and defaults', async () => {
    const options = await parseTargetArgs([
      '-f',
      'a',
      '--filename',
      'b',
      '--server',
      '127.0.0.1:5300',
      '--key-file',
      keyFile,
    ]);
    assert.deepEqual(options?.files, ['a', 'b']);
    assert.deepEqual(options?.server, { address: '127.0.0.1', port: 5300 });
    assert.equal(options?.key.name, 'ctrl');
    assert.equal(options?.maxChangePercent, 30);
    assert.equal(options?.prune, false);
    assert.equal(options?.rndc, undefined);
  });

  it('requires the rndc flags together', async () => {
    const args = ['-f', 'a', '--server', '127.0.0.1', '--key-file', keyFile, '--rndc', '127.0.0.1'];
    await assert.rejects(parseTargetArgs(args), /is required/);
  });

  it('takes the rndc flags for plan as for apply: one parser for both', async () => {
    const rndc = ['--rndc', '127.0.0.1:9530', '--rndc-key-file', keyFile, '--zone-dir', dir];
    const args = ['-f', 'a', '--server', '127.0.0.1', '--key-file', keyFile, ...rndc];
    const options = await parseTargetArgs(args);
    assert.deepEqual(options?.rndc?.endpoint, { address: '127.0.0.1', port: 9530 });
    assert.equal(options?.rndc?.zoneDir, dir);
  });

  it('says which flag is missing or unreadable, never the secret', async () => {
    await assert.rejects(parseTargetArgs(['-f', 'a', '--key-file', keyFile]), /--server/);
    await assert.rejects(
      parseTargetArgs(['-f', 'a', '--server', '127.0.0.1', '--key-file', join(dir, 'none')]),
      (error: unknown) => errorText(error).startsWith('--key-file: cannot read'),
    );
  });
});
