/**
 * The DNS client against a real named: TSIG-signed UPDATEs with every HMAC algorithm,
 * seen by `dig`. Every record kind through UPDATE and AXFR, against named, Knot DNS and
 * PowerDNS: record-layer-dns.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DnsClient } from '../../src/dns/client.ts';
import { HMAC_ALGORITHMS } from '../../src/dns/keyfile.ts';
import { generateKey, type NamedServer, startNamed } from '../harness/named.ts';

const run = promisify(execFile);
const ZONE = 'update.test';
const algorithmKeys = HMAC_ALGORITHMS.map((a) => generateKey(`key-${a}`, a));

async function dig(named: NamedServer, name: string, type: string): Promise<string[]> {
  const { stdout } = await run('dig', [
    '+short',
    '+norec',
    '-p',
    String(named.dnsPort),
    `@${named.address}`,
    name,
    type,
  ]);
  return stdout.trim().split('\n').filter(Boolean).sort();
}

describe('UPDATE against a real named', () => {
  let named: NamedServer;
  const client = new DnsClient({ timeoutMs: 5000 });
  const server = () => ({ address: named.address, port: named.dnsPort });

  before(async () => {
    named = await startNamed({
      keys: algorithmKeys,
      zones: [{ name: ZONE, updateKeys: ['ctrl-key', ...algorithmKeys.map((k) => k.name)] }],
    });
  });
  after(async () => {
    await client.close();
    await named?.stop();
  });

  for (const key of algorithmKeys) {
    test(`an UPDATE signed with ${key.algorithm} is accepted and dig sees the new record`, async () => {
      const name = `${key.algorithm}.${ZONE}`;
      await client.update(server(), key, {
        zone: ZONE,
        prerequisites: [{ kind: 'rrsetAbsent', name, type: 'TXT' }],
        updates: [
          {
            kind: 'add',
            rrset: { name, type: 'TXT', ttl: 120, rdata: [{ strings: [key.algorithm] }] },
          },
        ],
      });
      assert.deepEqual(await dig(named, name, 'TXT'), [`"${key.algorithm}"`]);
    });
  }

  test('querySoa returns the zone SOA with the serial named incremented', async () => {
    const before = await client.querySoa(server(), ZONE);
    assert.ok(before);
    await client.update(server(), named.tsigKey, {
      zone: ZONE,
      prerequisites: [],
      updates: [
        {
          kind: 'add',
          rrset: { name: `serial.${ZONE}`, type: 'A', ttl: 5, rdata: [{ address: '192.0.2.9' }] },
        },
      ],
    });
    const after = await client.querySoa(server(), ZONE, named.tsigKey);
    assert.ok(after);
    assert.ok(after.rdata[0]!.serial > before.rdata[0]!.serial);
  });

  test('a query for a name that does not exist returns undefined', async () => {
    assert.equal(await client.query(server(), `missing.${ZONE}`, 'A'), undefined);
  });
});
