import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretKey } from '../dns/keyfile.ts';
import { ValidationError } from '../errors.ts';
import type { InstanceTarget } from './target.ts';
import { canonicalZoneConfig, zoneStatementBody } from './zones.ts';

const generateKey = (name: string) => new SecretKey(name, 'hmac-sha256', Buffer.alloc(32, 1));
const key = generateKey('ctrl-key');
const primary: InstanceTarget = {
  id: 'p',
  role: 'primary',
  dns: { address: '127.0.0.1', port: 53 },
  rndc: { endpoint: { address: '127.0.0.1', port: 953 }, key: generateKey('rndc-key') },
  tsigKey: key,
};
const secondary: InstanceTarget = {
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
      zoneStatementBody(primary, { file: '/var/cache/bind/example.test.db' }),
      '{ type primary; file "/var/cache/bind/example.test.db"; update-policy { grant "ctrl-key" zonesub ANY; }; allow-transfer { key "ctrl-key"; }; };',
    );
  });

  it('points the journal elsewhere when the store says so, and refuses an unsafe one', () => {
    const files = {
      file: '/etc/bind/zones/example.test.db',
      journal: '/var/lib/bind/example.test.jnl',
    };
    assert.match(
      zoneStatementBody(primary, files),
      / journal "\/var\/lib\/bind\/example\.test\.jnl";/,
    );
    assert.throws(
      () => zoneStatementBody(primary, { ...files, journal: 'x"; allow-update { any; };' }),
      ValidationError,
    );
  });

  it('lists every primary with its port and the transfer key on a secondary', () => {
    assert.equal(
      zoneStatementBody(secondary, { file: 'example.test.sec' }),
      '{ type secondary; primaries { 192.0.2.1 port 53 key "ctrl-key"; 2001:db8::1 port 5353 key "ctrl-key"; }; file "example.test.sec"; };',
    );
  });

  it('refuses a file path or primary address that would inject configuration', () => {
    assert.throws(
      () => zoneStatementBody(primary, { file: 'x.db"; allow-update { any; }; #' }),
      ValidationError,
    );
    const evil = { ...secondary, primaries: [{ address: '1.2.3.4; }; notify yes', port: 53 }] };
    assert.throws(() => zoneStatementBody(evil, { file: 'x.sec' }), ValidationError);
  });
});

describe('canonicalZoneConfig', () => {
  const sent = zoneStatementBody(primary, { file: '/tmp/Z/example.test.db' });

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
      { ...primary, tsigKey: generateKey('k2') },
      { file: '/tmp/Z/example.test.db' },
    );
    const otherFile = zoneStatementBody(primary, { file: '/tmp/Z/other.db' });
    const otherJournal = zoneStatementBody(primary, {
      file: '/tmp/Z/example.test.db',
      journal: '/tmp/J/example.test.jnl',
    });
    for (const other of [otherKey, otherFile, otherJournal, `${sent.slice(0, -3)} notify no; };`]) {
      assert.notDeepEqual(canonicalZoneConfig(other), canonicalZoneConfig(sent));
    }
    assert.notDeepEqual(
      canonicalZoneConfig(zoneStatementBody(secondary, { file: 'x.sec' })),
      canonicalZoneConfig(
        zoneStatementBody(
          { ...secondary, primaries: [{ address: '192.0.2.1', port: 53 }] },
          { file: 'x.sec' },
        ),
      ),
    );
  });
});
