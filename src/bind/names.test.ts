import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from '../errors.ts';
import {
  validateAddress,
  validateDomainName,
  validateEmail,
  validateKeyName,
  validatePath,
  validatePort,
  validateTtl,
  validateUint32,
  validateZoneName,
} from './names.ts';

/** Characters that carry meaning in named.conf or zone-file syntax. */
const SYNTAX = /[\s"'{};\\$()@#/!*]/;

const INJECTIONS = [
  'evil.test; }; zone "x" {',
  'evil.test"; };',
  'a b.test',
  'x.test\nzone',
  'x..test',
  '.x.test',
  '-clean',
  'x.test;',
  '{',
  '',
  '.',
  `${'a'.repeat(64)}.test`,
  `${'abcdefghi.'.repeat(26)}test`,
  'ex\u00e4mple.test',
];

describe('validateZoneName', () => {
  it('accepts ordinary zone names and returns them lower-case without the final dot', () => {
    assert.equal(validateZoneName('Example.COM.'), 'example.com');
    assert.equal(validateZoneName('10.in-addr.arpa'), '10.in-addr.arpa');
    assert.equal(validateZoneName('_tcp.example.com'), '_tcp.example.com');
    assert.equal(validateZoneName('test'), 'test');
  });

  for (const bad of INJECTIONS) {
    it(`refuses ${JSON.stringify(bad)} with a ValidationError naming the field`, () => {
      assert.throws(
        () => validateZoneName(bad, 'spec.zoneName'),
        (error: unknown) => error instanceof ValidationError && error.field === 'spec.zoneName',
      );
    });
  }

  it('never returns a name containing configuration or zone-file syntax', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: 'binary' }), (value) => {
        try {
          const name = validateDomainName(value, 'name');
          assert.ok(!SYNTAX.test(name), name);
          assert.ok(name.length > 0 && name.length <= 253);
        } catch (error) {
          assert.ok(error instanceof ValidationError);
        }
      }),
    );
  });
});

describe('other values that reach rndc text', () => {
  it('accepts key names as domain names and refuses quotes', () => {
    assert.equal(validateKeyName('ctrl-key'), 'ctrl-key');
    assert.throws(() => validateKeyName('k"; };'), ValidationError);
  });

  it('accepts safe absolute and relative paths and refuses .., quotes and spaces', () => {
    assert.equal(validatePath('/var/cache/bind/example.com.db'), '/var/cache/bind/example.com.db');
    assert.equal(validatePath('example.com.db'), 'example.com.db');
    for (const bad of ['../etc/passwd', '/a/../b', 'a b', 'x";', '/etc/x\n', '', '.hidden']) {
      assert.throws(() => validatePath(bad), ValidationError, bad);
    }
  });

  it('accepts IPv4 and IPv6 literals only, of the family asked for', () => {
    assert.equal(validateAddress('127.0.0.1'), '127.0.0.1');
    assert.equal(validateAddress('2001:db8::1', 'a', 6), '2001:db8::1');
    for (const bad of ['127.0.0.1; }', 'localhost', '1.2.3', '::1 port 53']) {
      assert.throws(() => validateAddress(bad), ValidationError, bad);
    }
    assert.throws(() => validateAddress('::1', 'a', 4), ValidationError);
  });

  it('bounds ports, TTLs and 32-bit numbers', () => {
    assert.equal(validatePort(953), 953);
    for (const bad of [0, 65536, 1.5, Number.NaN]) assert.throws(() => validatePort(bad));
    assert.equal(validateUint32(4294967295, 'serial'), 4294967295);
    assert.throws(() => validateUint32(4294967296, 'serial'), ValidationError);
    assert.throws(() => validateUint32(-1, 'serial'), ValidationError);
    assert.throws(() => validateTtl(2 ** 31, 'ttl'), ValidationError);
  });

  it('splits an e-mail address and refuses one with syntax in its local part', () => {
    assert.deepEqual(validateEmail('john.doe@Example.com'), {
      local: 'john.doe',
      domain: 'example.com',
    });
    for (const bad of ['nobody', '@example.com', 'a b@example.com', 'a;@x.test', 'a..b@x.test']) {
      assert.throws(() => validateEmail(bad), ValidationError, bad);
    }
  });
});
