import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ValidationError } from '../errors.ts';
import { adminEmailToRname, renderZoneFile, type ZoneConfig } from './zone-file.ts';

const run = promisify(execFile);

const zone: ZoneConfig = {
  name: 'Example.TEST.',
  ttl: 300,
  soa: {
    primaryNs: 'ns1.example.test',
    adminEmail: 'john.doe@example.test',
    serial: 2026112701,
    refresh: 3600,
    retry: 600,
    expire: 1209600,
    negativeTtl: 60,
  },
  nameServers: [
    { hostname: 'ns1.example.test.', ipv4Address: '192.0.2.1', ipv6Address: '2001:db8::1' },
    { hostname: 'ns2.example.test', ipv4Address: '192.0.2.2' },
    { hostname: 'ns.provider.example', ipv4Address: '198.51.100.9' },
  ],
};

describe('adminEmailToRname', () => {
  it('escapes the dots of the local part (RFC 1035 §8)', () => {
    assert.equal(adminEmailToRname('john.doe@example.com'), 'john\\.doe.example.com.');
    assert.equal(adminEmailToRname('hostmaster@Example.com'), 'hostmaster.example.com.');
  });
});

describe('renderZoneFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zone-file-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function checkzone(name: string, text: string): Promise<string> {
    const file = join(dir, `${name}.db`);
    await writeFile(file, text);
    const { stdout } = await run('named-checkzone', ['-D', '-o', '-', name, file]);
    return stdout;
  }

  it('renders $TTL, SOA, NS and glue only for name servers inside the zone', () => {
    const text = renderZoneFile(zone);
    const records = text.split('\n').filter((l) => l !== '' && !l.startsWith(';'));
    assert.deepEqual(records, [
      '$ORIGIN example.test.',
      '$TTL 300',
      'example.test. IN SOA ns1.example.test. john\\.doe.example.test. ( 2026112701 3600 600 1209600 60 )',
      'example.test. IN NS ns1.example.test.',
      'example.test. IN NS ns2.example.test.',
      'example.test. IN NS ns.provider.example.',
      'ns1.example.test. IN A 192.0.2.1',
      'ns1.example.test. IN AAAA 2001:db8::1',
      'ns2.example.test. IN A 192.0.2.2',
    ]);
  });

  it('produces a file named-checkzone loads with exactly the rendered records', async () => {
    const canonical = await checkzone('example.test', renderZoneFile(zone));
    const lines = canonical
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).join(' '));
    assert.deepEqual(lines.sort(), [
      'example.test. 300 IN NS ns.provider.example.',
      'example.test. 300 IN NS ns1.example.test.',
      'example.test. 300 IN NS ns2.example.test.',
      'example.test. 300 IN SOA ns1.example.test. john\\.doe.example.test. 2026112701 3600 600 1209600 60',
      'ns1.example.test. 300 IN A 192.0.2.1',
      'ns1.example.test. 300 IN AAAA 2001:db8::1',
      'ns2.example.test. 300 IN A 192.0.2.2',
    ]);
  });

  it('produces a loadable file when every name server is outside the zone', async () => {
    const outside: ZoneConfig = {
      ...zone,
      name: 'child.test',
      nameServers: [{ hostname: 'ns.provider.example' }],
    };
    assert.match(await checkzone('child.test', renderZoneFile(outside)), /IN\s+NS\s+ns\.provider/);
  });

  it('refuses an in-zone name server without glue, which named would not load', () => {
    const bare: ZoneConfig = { ...zone, nameServers: [{ hostname: 'ns1.example.test' }] };
    assert.throws(() => renderZoneFile(bare), ValidationError);
  });

  it('refuses a zone without name servers', () => {
    assert.throws(() => renderZoneFile({ ...zone, nameServers: [] }), ValidationError);
  });

  it('refuses values that would inject zone-file syntax', () => {
    const attempts: ZoneConfig[] = [
      { ...zone, name: 'evil.test; }; zone "x" {' },
      { ...zone, soa: { ...zone.soa, primaryNs: 'ns1.example.test.\n* IN A 6.6.6.6' } },
      { ...zone, soa: { ...zone.soa, adminEmail: 'a ( b@example.test' } },
      { ...zone, soa: { ...zone.soa, serial: 2 ** 32 } },
      { ...zone, nameServers: [{ hostname: 'ns1.example.test', ipv4Address: '1.2.3.4\n@ NS x' }] },
      { ...zone, ttl: -1 },
    ];
    for (const bad of attempts) assert.throws(() => renderZoneFile(bad), ValidationError);
  });
});
