import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../dns/errors.ts';
import { SecretKey } from '../dns/keyfile.ts';
import { type BindTarget, canonicalZoneConfig, zoneStatementBody } from './zones.ts';

const generateKey = (name: string) => new SecretKey(name, 'hmac-sha256', Buffer.alloc(32, 1));
const key = generateKey('ctrl-key');
const primary: BindTarget = {
  name: 'p',
  role: 'primary',
  dns: { address: '127.0.0.1', port: 53 },
  rndc: { address: '127.0.0.1', port: 953 },
  rndcKey: generateKey('rndc-key'),
  updateKey: key,
};
const secondary: BindTarget = {
  ...primary,
  role: 'secondary',
  primaries: [
    { address: '192.0.2.1', port: 53 },
    { address: '2001:db8::1', port: 5353 },
  ],
};

describe('zoneStatementBody', () => {
  it('grants the update key zonesub ANY and transfers to it on a primary', () => {
    assert.equal(
      zoneStatementBody(primary, '/var/cache/bind/example.test.db'),
      '{ type primary; file "/var/cache/bind/example.test.db"; update-policy { grant "ctrl-key" zonesub ANY; }; allow-transfer { key "ctrl-key"; }; };',
    );
  });

  it('lists every primary with its port and the transfer key on a secondary', () => {
    assert.equal(
      zoneStatementBody(secondary, 'example.test.sec'),
      '{ type secondary; primaries { 192.0.2.1 port 53 key "ctrl-key"; 2001:db8::1 port 5353 key "ctrl-key"; }; file "example.test.sec"; };',
    );
  });

  it('refuses a file path or primary address that would inject configuration', () => {
    assert.throws(
      () => zoneStatementBody(primary, 'x.db"; allow-update { any; }; #'),
      ValidationError,
    );
    const evil = { ...secondary, primaries: [{ address: '1.2.3.4; }; notify yes', port: 53 }] };
    assert.throws(() => zoneStatementBody(evil, 'x.sec'), ValidationError);
  });
});

describe('canonicalZoneConfig', () => {
  const sent = zoneStatementBody(primary, '/tmp/Z/example.test.db');

  it('equates what we send with what named 9.18 prints back from showzone', () => {
    const shown =
      'zone "example.test" { type primary; file "/tmp/Z/example.test.db"; update-policy { grant "ctrl-key" zonesub "ANY"; }; allow-transfer  { key "ctrl-key"; }; };';
    assert.deepEqual(canonicalZoneConfig(shown), canonicalZoneConfig(sent));
  });

  it('ignores statement order, spacing, quoting and the old keyword spellings', () => {
    const shown =
      'zone example.test {\n\tallow-transfer { key ctrl-key; };\n\tupdate-policy { grant ctrl-key zonesub any; };\n\tfile "/tmp/Z/example.test.db";\n\ttype master;\n};';
    assert.deepEqual(canonicalZoneConfig(shown), canonicalZoneConfig(sent));
  });

  it('tells configurations apart when a value differs', () => {
    const otherKey = zoneStatementBody(
      { ...primary, updateKey: generateKey('k2') },
      '/tmp/Z/example.test.db',
    );
    const otherFile = zoneStatementBody(primary, '/tmp/Z/other.db');
    for (const other of [otherKey, otherFile, `${sent.slice(0, -3)} notify no; };`]) {
      assert.notDeepEqual(canonicalZoneConfig(other), canonicalZoneConfig(sent));
    }
    assert.notDeepEqual(
      canonicalZoneConfig(zoneStatementBody(secondary, 'x.sec')),
      canonicalZoneConfig(
        zoneStatementBody(
          { ...secondary, primaries: [{ address: '192.0.2.1', port: 53 }] },
          'x.sec',
        ),
      ),
    );
  });
});
