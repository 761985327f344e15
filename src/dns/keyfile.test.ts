import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ValidationError } from '../errors.ts';
import { formatKeyFile, makeKey, parseAlgorithm, parseKey, parseKeyFile } from './keyfile.ts';

const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==';

describe('key files', () => {
  it('parses the text tsig-keygen prints', () => {
    const text = execFileSync('tsig-keygen', ['-a', 'hmac-sha512', 'Ctrl-Key.']).toString();
    const key = parseKey(text);
    assert.equal(key.name, 'ctrl-key');
    assert.equal(key.algorithm, 'hmac-sha512');
    assert.equal(key.secret.length, 64);
  });

  it('parses rndc-confgen output and ignores its commented parts', () => {
    const text = execFileSync('rndc-confgen', ['-k', 'rndc-key', '-A', 'hmac-sha256']).toString();
    const keys = parseKeyFile(text);
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.name, 'rndc-key');
  });

  it('round-trips through formatKeyFile', () => {
    const key = makeKey('k1', 'HMAC-SHA256.', SECRET);
    const again = parseKey(formatKeyFile(key));
    assert.equal(again.name, 'k1');
    assert.equal(again.algorithm, 'hmac-sha256');
    assert.deepEqual(again.secret, key.secret);
  });

  it('maps the legacy md5 algorithm name', () => {
    assert.equal(parseAlgorithm('hmac-md5.sig-alg.reg.int.'), 'hmac-md5');
    assert.equal(parseAlgorithm('hmac-sha3'), undefined);
  });

  it('refuses unknown algorithms, bad names and bad secrets without echoing the secret', () => {
    assert.throws(() => makeKey('k', 'rsa', SECRET), ValidationError);
    assert.throws(() => makeKey('bad key"', 'hmac-sha256', SECRET), ValidationError);
    assert.throws(
      () => makeKey('k', 'hmac-sha256', 'not base64 !!'),
      (e: unknown) => e instanceof ValidationError && !e.message.includes('not base64 !!'),
    );
    assert.throws(() => parseKeyFile('options { };'), ValidationError);
  });

  it('never shows the secret in JSON, inspect or string form', () => {
    const key = makeKey('k', 'hmac-sha256', SECRET);
    const b64 = key.secret.toString('base64');
    for (const shown of [JSON.stringify(key), inspect(key), String(key), JSON.stringify({ key })]) {
      assert.ok(!shown.includes(b64), shown);
    }
  });

  it('refuses a key file of several keys without a name to pick, naming the keys it holds', () => {
    const two = `${formatKeyFile(makeKey('ctrl-key', 'hmac-sha256', SECRET))}${formatKeyFile(makeKey('xfer-key', 'hmac-sha512', SECRET))}`;
    assert.throws(
      () => parseKey(two),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.field === 'keyfile' &&
        /holds 2 keys \("ctrl-key", "xfer-key"\)/.test(e.message) &&
        !e.message.includes(SECRET),
    );
    assert.equal(parseKey(two, 'xfer-key').algorithm, 'hmac-sha512');
    assert.equal(parseKey(two, 'CTRL-KEY.').name, 'ctrl-key');
    assert.throws(
      () => parseKey(two, 'other-key'),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.field === 'keyName' &&
        /no key "other-key".*"ctrl-key", "xfer-key"/.test(e.message),
    );
    assert.equal(parseKey(formatKeyFile(makeKey('only', 'hmac-sha256', SECRET))).name, 'only');
  });
});
