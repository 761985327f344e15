import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { isControllerError } from '../errors.ts';
import { keyFromSecretData } from './secrets.ts';

/** Every run of 8 characters of `secret` that `text` contains (none is the only good answer). */
export function leakedParts(text: string, secret: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 8 <= secret.length; i++) {
    const part = secret.slice(i, i + 8);
    if (text.includes(part)) out.push(part);
  }
  return out;
}

function realKey(algorithm: string, name: string) {
  const keyfile = execFileSync('tsig-keygen', ['-a', algorithm, name]).toString();
  const secret = /secret "([^"]+)"/.exec(keyfile)?.[1] ?? '';
  assert.ok(secret.length >= 24, 'tsig-keygen printed a secret');
  return { keyfile, secret };
}

/** The message a Secret's data gives, or undefined when it gives a key. */
function messageOf(data: Record<string, string>): string | undefined {
  try {
    keyFromSecretData(data, 'dns/k');
    return undefined;
  } catch (error) {
    assert.ok(isControllerError(error));
    assert.equal(error.code, 'InvalidKey');
    assert.equal(error.cause, undefined, 'the parser error is not kept as a cause');
    return error.message;
  }
}

describe('key Secrets never show a key value in an error', () => {
  for (const algorithm of ['hmac-sha256', 'hmac-sha512', 'hmac-sha1']) {
    it(`puts a real ${algorithm} key into every field of both Secret forms and finds none of it in the message`, () => {
      const { keyfile, secret } = realKey(algorithm, 'ctrl-key');
      const values = [secret, keyfile, ` ${secret}\n`];
      const shapes: Record<string, string>[] = [];
      for (const v of values) {
        // The three-field form, the value put in each field in turn (the swap of issue #18 first).
        shapes.push({ name: 'ctrl-key', algorithm: v, secret: algorithm });
        shapes.push({ name: 'ctrl-key', algorithm: v, secret: v });
        shapes.push({ name: v, algorithm, secret: v });
        shapes.push({ name: v, algorithm: v, secret: v });
        shapes.push({ name: 'ctrl-key', algorithm, secret: `${v}!` });
        // The keyfile form, with the value where a name or algorithm belongs.
        shapes.push({ keyfile: v });
        shapes.push({ keyfile: `key "${v}" { algorithm ${algorithm}; };` });
        shapes.push({ keyfile: `key "${v}" { secret "${secret}"; };` });
        shapes.push({ keyfile: `key "k" { algorithm ${secret}; secret "${secret}"; };` });
        shapes.push({ keyfile: `key "k" { algorithm "${v}"; secret "${secret}"; };` });
      }
      let refused = 0;
      for (const data of shapes) {
        const message = messageOf(data);
        if (message === undefined) {
          // Only a whole key file is a usable key (the value itself, or embedded in another).
          assert.ok(JSON.stringify(data).includes('algorithm'), JSON.stringify(data));
          continue;
        }
        refused++;
        assert.deepEqual(
          leakedParts(message, secret),
          [],
          `${JSON.stringify(data)} gave: ${message}`,
        );
      }
      assert.ok(refused >= shapes.length - 4, `${refused} of ${shapes.length} shapes were refused`);
    });
  }

  it('names the Secret and the field, and says when algorithm and secret look swapped', () => {
    const { secret } = realKey('hmac-sha256', 'ctrl-key');
    const message = messageOf({ name: 'ctrl-key', algorithm: secret, secret: 'hmac-sha256' });
    assert.match(message ?? '', /^Secret dns\/k: field algorithm: not a known algorithm/);
    assert.match(message ?? '', /look swapped/);
    assert.match(message ?? '', /looks like a base64 secret/);
    const inFile = messageOf({ keyfile: `key "k" { algorithm ${secret}; secret "${secret}"; };` });
    assert.match(inFile ?? '', /field keyfile \(its algorithm\)/);
  });

  it('still reads a good key from either form', () => {
    const { keyfile, secret } = realKey('hmac-sha256', 'ctrl-key');
    assert.equal(keyFromSecretData({ keyfile }, 'dns/k').name, 'ctrl-key');
    const key = keyFromSecretData({ name: 'ctrl-key', algorithm: 'hmac-sha256', secret }, 'dns/k');
    assert.equal(key.secret.toString('base64'), secret);
  });

  it("picks a key of a several-key keyfile by the reference's keyName, else by the Secret's own, else refuses naming them", () => {
    const a = realKey('hmac-sha256', 'ctrl-key');
    const b = realKey('hmac-sha512', 'xfer-key');
    const keyfile = `${a.keyfile}${b.keyfile}`;
    const refused = messageOf({ keyfile });
    assert.match(refused ?? '', /field keyfile: holds 2 keys \("ctrl-key", "xfer-key"\)/);
    assert.deepEqual(leakedParts(refused ?? '', a.secret), []);
    assert.equal(keyFromSecretData({ keyfile, keyName: 'xfer-key' }, 'dns/k').name, 'xfer-key');
    const byRef = keyFromSecretData({ keyfile, keyName: 'xfer-key' }, 'dns/k', 'ctrl-key');
    assert.equal(byRef.name, 'ctrl-key', 'the reference wins over the Secret');
    assert.match(messageOf({ keyfile, keyName: 'nope' }) ?? '', /field keyName: no key "nope"/);
  });
});
