/**
 * Zone provisioning against real named servers: addzone of a rendered base file, served
 * exactly as rendered; idempotence; modzone; delzone; NZD persistence across a restart;
 * lost-zone detection after a restart with an empty disk; a secondary fed by signed AXFR;
 * injection attempts refused before anything is sent.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { directoryStore } from '../../src/bind/files.ts';
import type { InstanceTarget } from '../../src/bind/target.ts';
import {
  ensureZone,
  removeZone,
  serverFingerprint,
  type ZoneConfig,
} from '../../src/bind/zones.ts';
import { RndcClient } from '../../src/dns/rndc/client.ts';
import { ValidationError } from '../../src/errors.ts';
import { generateKey, type NamedServer, startNamed } from '../harness/named.ts';
import { startTcpProxy } from '../harness/tcp-proxy.ts';

const run = promisify(execFile);

function zoneConfig(name: string, serial = 2026112701): ZoneConfig {
  return {
    name,
    ttl: 300,
    soa: {
      primaryNs: `ns1.${name}`,
      adminEmail: `host.master@${name}`,
      serial,
      refresh: 3600,
      retry: 600,
      expire: 1209600,
      negativeTtl: 60,
    },
    nameServers: [
      { hostname: `ns1.${name}`, ipv4Address: '127.0.0.1', ipv6Address: '::1' },
      { hostname: 'ns.elsewhere.example' },
    ],
  };
}

function primaryTarget(named: NamedServer, tsigKey = named.tsigKey): InstanceTarget {
  return {
    id: 'primary',
    role: 'primary',
    dns: { address: named.address, port: named.dnsPort },
    rndc: { endpoint: { address: named.address, port: named.rndcPort }, key: named.rndcKey },
    tsigKey,
    files: directoryStore(named.zoneDir),
  };
}

/** Answer records from `dig`, whitespace collapsed, sorted; `status` is the rcode. */
async function dig(
  named: NamedServer,
  name: string,
  type: string,
): Promise<{ status: string; answers: string[] }> {
  const { stdout } = await run('dig', [
    '+norec',
    '+noall',
    '+answer',
    '+comments',
    '-p',
    String(named.dnsPort),
    `@${named.address}`,
    name,
    type,
  ]);
  const status = /status: ([A-Z]+)/.exec(stdout)?.[1] ?? 'NONE';
  const answers = stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith(';'))
    .map((l) => l.split(/\s+/).join(' '))
    .sort();
  return { status, answers };
}

/** Sends an RFC 2136 update with the real nsupdate, signed with the harness's TSIG key. */
async function nsupdate(named: NamedServer, commands: string): Promise<void> {
  const child = execFile('nsupdate', ['-k', named.tsigKeyFile]);
  child.stdin?.end(`server ${named.address} ${named.dnsPort}\n${commands}`);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, 'nsupdate failed');
}

/** Probes until `ok` holds or 60 s have passed (generous for a slow machine); the last value. */
async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await probe();
  }
  return value;
}

describe('zones on a real primary named', () => {
  let named: NamedServer;
  let rndc: RndcClient;
  const otherKey = generateKey('other-key');

  before(async () => {
    named = await startNamed({ keys: [otherKey] });
    rndc = new RndcClient({
      endpoint: { address: named.address, port: named.rndcPort },
      key: named.rndcKey,
    });
  });
  after(async () => {
    rndc.close();
    await named.stop();
  });

  it('adds a zone that named then serves with exactly the rendered SOA, NS and glue', async () => {
    const target = primaryTarget(named);
    assert.equal(await ensureZone(target, zoneConfig('served.test'), rndc), 'created');
    const soa = await dig(named, 'served.test', 'SOA');
    assert.equal(soa.status, 'NOERROR');
    assert.deepEqual(soa.answers, [
      'served.test. 300 IN SOA ns1.served.test. host\\.master.served.test. 2026112701 3600 600 1209600 60',
    ]);
    assert.deepEqual((await dig(named, 'served.test', 'NS')).answers, [
      'served.test. 300 IN NS ns.elsewhere.example.',
      'served.test. 300 IN NS ns1.served.test.',
    ]);
    assert.deepEqual((await dig(named, 'ns1.served.test', 'A')).answers, [
      'ns1.served.test. 300 IN A 127.0.0.1',
    ]);
    assert.deepEqual((await dig(named, 'ns1.served.test', 'AAAA')).answers, [
      'ns1.served.test. 300 IN AAAA ::1',
    ]);
  });

  it('grants the update key zonesub ANY and transfers only with it', async () => {
    const target = primaryTarget(named);
    await ensureZone(target, zoneConfig('policy.test'), rndc);
    const status = await rndc.zonestatus('policy.test');
    assert.equal(status.type, 'primary');
    assert.ok(status.dynamic);
    const config = await rndc.showzone('policy.test');
    assert.match(config, /grant "ctrl-key" zonesub "?ANY"?/i);
    const unsigned = await run('dig', [
      '-p',
      String(named.dnsPort),
      `@${named.address}`,
      'policy.test',
      'AXFR',
    ]);
    assert.match(unsigned.stdout, /Transfer failed/);
    const signed = await run('dig', [
      '-k',
      named.tsigKeyFile,
      '-p',
      String(named.dnsPort),
      `@${named.address}`,
      'policy.test',
      'AXFR',
    ]);
    assert.match(signed.stdout, /policy\.test\.\s+300\s+IN\s+SOA/);
  });

  it('does nothing when the zone is already there as configured', async () => {
    const target = primaryTarget(named);
    assert.equal(await ensureZone(target, zoneConfig('idem.test'), rndc), 'created');
    const before = await rndc.showzone('idem.test');
    assert.equal(await ensureZone(target, zoneConfig('idem.test'), rndc), 'unchanged');
    // A new SOA serial in the spec is data, not configuration: no rewrite, no modzone.
    assert.equal(await ensureZone(target, zoneConfig('idem.test', 7), rndc), 'unchanged');
    assert.equal(await rndc.showzone('idem.test'), before);
    assert.equal((await rndc.zonestatus('idem.test')).serial, 2026112701);
  });

  it('modifies the zone when the configuration differs (another update key)', async () => {
    await ensureZone(primaryTarget(named), zoneConfig('mod.test'), rndc);
    const changed = primaryTarget(named, otherKey);
    assert.equal(await ensureZone(changed, zoneConfig('mod.test'), rndc), 'modified');
    assert.match(await rndc.showzone('mod.test'), /grant "other-key"/);
    assert.equal(await ensureZone(changed, zoneConfig('mod.test'), rndc), 'unchanged');
    assert.equal((await dig(named, 'mod.test', 'SOA')).status, 'NOERROR');
  });

  it('settles concurrent ensureZone calls for one zone on a single created', async () => {
    const target = primaryTarget(named);
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => ensureZone(target, zoneConfig('race.test'))),
    );
    assert.deepEqual(outcomes.sort(), ['created', 'unchanged', 'unchanged']);
    assert.equal((await dig(named, 'race.test', 'SOA')).status, 'NOERROR');
  });

  it('runs notify, sync and reload on a zone it added', async () => {
    await ensureZone(primaryTarget(named), zoneConfig('cmds.test'), rndc);
    assert.match((await rndc.notify('cmds.test')).text, /notify/);
    assert.equal((await rndc.sync('cmds.test', { clean: true })).result, 0);
    // named refuses to reload a dynamic zone from its file, and says so.
    await assert.rejects(rndc.reload('cmds.test'), { code: 'RNDC_DYNAMIC_ZONE' });
    assert.match((await rndc.reload()).text, /reload successful/);
  });

  it('keeps the journal where the store says, for base files on a read-only mount', async () => {
    const journals = join(named.dir, 'journals');
    const target: InstanceTarget = {
      ...primaryTarget(named),
      files: directoryStore(join(named.dir, 'base'), { journalDirectory: journals }),
    };
    assert.equal(await ensureZone(target, zoneConfig('journal.test'), rndc), 'created');
    assert.match(
      await rndc.showzone('journal.test'),
      /journal "[^"]*\/journals\/journal\.test\.jnl"/,
    );
    await nsupdate(named, 'update add www.journal.test. 60 IN A 192.0.2.80\nsend\n');
    assert.deepEqual((await dig(named, 'www.journal.test', 'A')).answers, [
      'www.journal.test. 60 IN A 192.0.2.80',
    ]);
    assert.ok(existsSync(join(journals, 'journal.test.jnl')));
    assert.equal(existsSync(join(named.dir, 'base', 'journal.test.db.jnl')), false);
    assert.equal(await ensureZone(target, zoneConfig('journal.test'), rndc), 'unchanged');
    assert.equal(await removeZone(target, 'journal.test', rndc), 'removed');
    assert.equal(existsSync(join(journals, 'journal.test.jnl')), false);
  });

  it('removes the zone and its files, and a second removal finds it absent', async () => {
    const target = primaryTarget(named);
    await ensureZone(target, zoneConfig('gone.test'), rndc);
    const file = join(named.zoneDir, 'gone.test.db');
    assert.ok(existsSync(file));
    assert.equal(await removeZone(target, 'gone.test', rndc), 'removed');
    assert.equal((await dig(named, 'gone.test', 'SOA')).status, 'REFUSED');
    assert.equal(existsSync(file), false);
    assert.equal(await removeZone(target, 'gone.test', rndc), 'absent');
  });

  it('opens and closes its own rndc connection when none is given', async () => {
    const target = primaryTarget(named);
    assert.equal(await ensureZone(target, zoneConfig('own.test')), 'created');
    assert.equal(await ensureZone(target, zoneConfig('own.test')), 'unchanged');
    assert.equal(await removeZone(target, 'own.test'), 'removed');
  });

  it('reaches rndc by host name, as a Kubernetes Service would be named', async () => {
    const target: InstanceTarget = {
      ...primaryTarget(named),
      rndc: { endpoint: { address: 'localhost', port: named.rndcPort }, key: named.rndcKey },
    };
    assert.equal(await ensureZone(target, zoneConfig('byname.test')), 'created');
    assert.equal(await removeZone(target, 'byname.test'), 'removed');
  });

  it('refuses injection attempts before sending anything to named', async () => {
    const proxy = await startTcpProxy({ target: { address: named.address, port: named.rndcPort } });
    try {
      const target: InstanceTarget = {
        ...primaryTarget(named),
        rndc: { endpoint: { address: '127.0.0.1', port: proxy.port }, key: named.rndcKey },
      };
      const base = zoneConfig('safe.test');
      const attempts: [InstanceTarget, ZoneConfig][] = [
        [target, { ...base, name: 'evil.test; }; zone "x" {' }],
        [target, { ...base, name: 'evil.test" { type primary; file "/etc/passwd"; }; #' }],
        [target, { ...base, soa: { ...base.soa, primaryNs: 'ns1 }; include "/etc/x' } }],
        [{ ...target, tsigKey: generateKey('k"; }; allow-update { any; }; #') }, base],
        [
          {
            ...target,
            role: 'secondary',
            files: undefined,
            primaries: [{ address: '127.0.0.1; }; also-notify { 6.6.6.6', port: 53 }],
          },
          base,
        ],
      ];
      for (const [t, z] of attempts) {
        await assert.rejects(ensureZone(t, z), ValidationError);
      }
      await assert.rejects(removeZone(target, 'x.test; }; zone "y" {'), ValidationError);
      assert.equal(proxy.bytesFromClients, 0);
      assert.equal(proxy.connections, 0);
    } finally {
      await proxy.close();
    }
  });
});

describe('zones across named restarts', () => {
  let named: NamedServer;

  before(async () => {
    named = await startNamed();
  });
  after(async () => {
    await named.stop();
  });

  it('keeps added zones across a restart (NZD) and sees the restart in its fingerprint', async () => {
    const target = primaryTarget(named);
    const first = await serverFingerprint(target);
    assert.equal(await ensureZone(target, zoneConfig('kept.test')), 'created');
    assert.equal((await serverFingerprint(target)).zoneCount, first.zoneCount + 1);
    // named prints its boot time in whole seconds: wait for the next second so a restart
    // shows, without asserting anything about how long anything took.
    await new Promise((r) => setTimeout(r, 1100));
    await named.restart();
    const second = await serverFingerprint(target);
    assert.notEqual(second.bootTime, first.bootTime);
    assert.equal(second.zoneCount, first.zoneCount + 1);
    assert.equal((await dig(named, 'kept.test', 'SOA')).status, 'NOERROR');
    assert.equal(await ensureZone(target, zoneConfig('kept.test')), 'unchanged');
  });

  it('re-creates a zone after named lost its disk', async () => {
    const target = primaryTarget(named);
    await ensureZone(target, zoneConfig('lost.test'));
    const before = await serverFingerprint(target);
    await named.restart({ wipe: true });
    const after = await serverFingerprint(target);
    assert.ok(after.zoneCount < before.zoneCount);
    assert.equal((await dig(named, 'lost.test', 'SOA')).status, 'REFUSED');
    assert.equal(await ensureZone(target, zoneConfig('lost.test')), 'created');
    assert.equal((await dig(named, 'lost.test', 'SOA')).status, 'NOERROR');
  });
});

describe('a secondary named', () => {
  let primary: NamedServer;
  let secondary: NamedServer;

  before(async () => {
    primary = await startNamed();
    secondary = await startNamed({ tsigKey: primary.tsigKey });
  });
  after(async () => {
    await secondary.stop();
    await primary.stop();
  });

  function secondaryTarget(): InstanceTarget {
    return {
      id: 'secondary',
      role: 'secondary',
      dns: { address: secondary.address, port: secondary.dnsPort },
      rndc: {
        endpoint: { address: secondary.address, port: secondary.rndcPort },
        key: secondary.rndcKey,
      },
      tsigKey: secondary.tsigKey,
      primaries: [{ address: primary.address, port: primary.dnsPort }],
    };
  }

  it('gets the zone from the primary by TSIG-signed AXFR', async () => {
    assert.equal(await ensureZone(primaryTarget(primary), zoneConfig('copy.test')), 'created');
    assert.equal(await ensureZone(secondaryTarget(), zoneConfig('copy.test')), 'created');
    const soa = await eventually(
      () => dig(secondary, 'copy.test', 'SOA'),
      (r) => r.status === 'NOERROR',
    );
    assert.deepEqual(soa.answers, (await dig(primary, 'copy.test', 'SOA')).answers);
    assert.deepEqual(
      (await dig(secondary, 'copy.test', 'NS')).answers,
      (await dig(primary, 'copy.test', 'NS')).answers,
    );
    // The primary allows transfers only with the key, so this one was signed; its log says so.
    // The secondary can answer before it logs the transfer's end, and logs reach us through
    // pipes: wait for the lines rather than read at once.
    const signed =
      /\/key ctrl-key \(copy\.test\): transfer of 'copy\.test\/IN': AXFR started: TSIG ctrl-key/;
    assert.match(await primary.waitForLog(signed), signed);
    const success = /transfer of 'copy\.test\/IN' from 127\.0\.0\.1#\d+: Transfer status: success/;
    assert.match(await secondary.waitForLog(success), success);
    const rndc = new RndcClient({
      endpoint: { address: secondary.address, port: secondary.rndcPort },
      key: secondary.rndcKey,
    });
    const status = await rndc.zonestatus('copy.test');
    rndc.close();
    assert.equal(status.type, 'secondary');
    assert.equal(await ensureZone(secondaryTarget(), zoneConfig('copy.test')), 'unchanged');
  });

  it('transfers again on retransfer', async () => {
    await ensureZone(primaryTarget(primary), zoneConfig('again.test'));
    await ensureZone(secondaryTarget(), zoneConfig('again.test'));
    await eventually(
      () => dig(secondary, 'again.test', 'SOA'),
      (r) => r.status === 'NOERROR',
    );
    const rndc = new RndcClient({
      endpoint: { address: secondary.address, port: secondary.rndcPort },
      key: secondary.rndcKey,
    });
    try {
      assert.equal((await rndc.retransfer('again.test')).result, 0);
      const log = await eventually(
        async () => primary.log(),
        (l) =>
          (l.match(/transfer of 'again\.test\/IN': AXFR started: TSIG ctrl-key/g) ?? []).length >=
          2,
      );
      assert.equal(
        (log.match(/transfer of 'again\.test\/IN': AXFR started: TSIG ctrl-key/g) ?? []).length,
        2,
      );
    } finally {
      rndc.close();
    }
  });

  it('turns a primary zone into a secondary one when the instance changes role', async () => {
    await ensureZone(primaryTarget(primary), zoneConfig('role.test'));
    const asPrimary: InstanceTarget = { ...primaryTarget(secondary), tsigKey: secondary.tsigKey };
    assert.equal(await ensureZone(asPrimary, zoneConfig('role.test', 5)), 'created');
    assert.equal(await ensureZone(secondaryTarget(), zoneConfig('role.test')), 'modified');
    const soa = await eventually(
      () => dig(secondary, 'role.test', 'SOA'),
      (r) => r.answers.some((a) => a.includes(' 2026112701 ')),
    );
    assert.deepEqual(soa.answers, (await dig(primary, 'role.test', 'SOA')).answers);
    assert.equal(await ensureZone(secondaryTarget(), zoneConfig('role.test')), 'unchanged');
  });

  it('does not get the zone when the primary refuses its key', async () => {
    const strangers = await startNamed();
    try {
      await ensureZone(primaryTarget(primary), zoneConfig('guarded.test'));
      const target: InstanceTarget = {
        ...secondaryTarget(),
        rndc: {
          endpoint: { address: strangers.address, port: strangers.rndcPort },
          key: strangers.rndcKey,
        },
        tsigKey: strangers.tsigKey,
      };
      assert.equal(await ensureZone(target, zoneConfig('guarded.test')), 'created');
      // The SOA query the secondary signs with its own key fails at the primary.
      const log = await eventually(
        async () => strangers.log(),
        (l) => /zone guarded\.test\/IN: refresh: failure trying primary.*tsig/.test(l),
      );
      assert.match(log, /zone guarded\.test\/IN: refresh: failure trying primary.*tsig/);
      assert.equal((await dig(strangers, 'guarded.test', 'SOA')).status, 'SERVFAIL');
    } finally {
      await strangers.stop();
    }
  });
});
