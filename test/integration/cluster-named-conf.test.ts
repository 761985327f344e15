/**
 * The named.conf a Bind9Cluster's pods run (src/bind/named-conf.ts) on real named 9.18:
 * `named-checkconf` accepts it, and a named started with it does what the controller needs
 * — `rndc addzone` of the zone statement the controller sends (zones.ts), a TSIG-signed
 * UPDATE, a signed AXFR — and refuses an unsigned transfer; a secondary rendered for the
 * same cluster transfers with the key and follows NOTIFY from the primary. For the
 * defaults and for every option.
 *
 * Each server runs in a network namespace of the test's own with only loopback
 * (harness/netns.ts): on the pods' real ports, with `recursion yes` as a user may set it,
 * and with no way to send a packet anywhere else.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type NamedConfInput,
  type NamedListen,
  type NamedOptions,
  POD_LISTEN,
  renderNamedConf,
} from '../../src/bind/named-conf.ts';
import { BindServerConfig } from '../../src/bind/server-config.ts';
import type { InstanceTarget } from '../../src/bind/target.ts';
import { renderZoneFile } from '../../src/bind/zone-file.ts';
import { zoneStatementBody } from '../../src/bind/zones.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { formatKeyFile } from '../../src/dns/keyfile.ts';
import { zoneFileKey, zoneJournal } from '../../src/kube/configmap-store.ts';
import { generateKey, NAMED_BIN, type NamedServer, startNamed } from '../harness/named.ts';
import { type PrivateNetwork, privateNetwork } from '../harness/netns.ts';

const tsigKey = generateKey('edge-tsig');
const rndcKey = generateKey('edge-rndc');

/** Key files, as the pods mount them from the two Secrets. */
async function keyFiles(dir: string): Promise<{ tsig: string; rndc: string }> {
  const tsig = join(dir, 'keys/tsig/keyfile');
  const rndc = join(dir, 'keys/rndc/keyfile');
  await mkdir(join(dir, 'keys/tsig'), { recursive: true });
  await mkdir(join(dir, 'keys/rndc'), { recursive: true });
  await writeFile(tsig, formatKeyFile(tsigKey), { mode: 0o600 });
  await writeFile(rndc, formatKeyFile(rndcKey), { mode: 0o600 });
  return { tsig, rndc };
}

interface Server {
  readonly address: string;
  readonly directory: string;
  readonly zonesDir: string;
  readonly confPath: string;
  readonly configId: string;
  log(): string;
  waitForLog(pattern: RegExp): Promise<void>;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, log: () => string) {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} within 60 s:\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Renders, checks with named-checkconf, and starts named inside `net`. */
async function startServer(
  net: PrivateNetwork,
  root: string,
  name: string,
  input: Omit<NamedConfInput, 'tsigKey' | 'rndcKey' | 'directory' | 'owner'>,
): Promise<Server> {
  const dir = join(root, name);
  const files = await keyFiles(dir);
  const directory = join(dir, 'data');
  const zonesDir = join(dir, 'zones');
  await mkdir(directory, { recursive: true });
  await mkdir(zonesDir, { recursive: true });
  const conf = renderNamedConf({
    ...input,
    owner: `test/${name}`,
    tsigKey: { name: tsigKey.name, file: files.tsig },
    rndcKey: { name: rndcKey.name, file: files.rndc },
    directory,
  });
  const confPath = join(dir, 'named.conf');
  await writeFile(confPath, conf.text);
  const check = await net.run('named-checkconf', [confPath]);
  assert.equal(check.code, 0, `named-checkconf:\n${check.stdout}${check.stderr}\n${conf.text}`);
  let output = '';
  const child: ChildProcess = net.spawn(NAMED_BIN, ['-g', '-n', '1', '-c', confPath]);
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  const log = () => output;
  await waitFor('named running', () => /running$/m.test(output) || child.exitCode !== null, log);
  assert.equal(child.exitCode, null, `named exited:\n${output}`);
  const address = input.listen.controlAddress === '*' ? '127.0.0.1' : input.listen.controlAddress;
  return {
    address,
    directory,
    zonesDir,
    confPath,
    configId: conf.configId,
    log,
    waitForLog: (pattern) => waitFor(`named logging ${pattern}`, () => pattern.test(output), log),
  };
}

/** What the controller would talk to, for zones.ts to build the zone statement. */
function targetOf(server: Server, role: 'primary' | 'secondary', primary?: string): InstanceTarget {
  const endpoint = { address: server.address, port: 53 };
  return {
    id: `test/${role}`,
    role,
    dns: endpoint,
    rndc: { endpoint: { address: server.address, port: 953 }, key: rndcKey },
    tsigKey,
    ...(primary === undefined ? {} : { primaries: [{ address: primary, port: 53 }] }),
  };
}

const ZONE = 'example.com';

/**
 * `rndc addzone` with the statement the controller sends: for a primary the base file as
 * the ConfigMap delivery names it (read-only mount, relative journal in `directory`).
 */
async function addZone(net: PrivateNetwork, server: Server, target: InstanceTarget) {
  let files: { file: string; journal?: string } = { file: `${ZONE}.sec` };
  if (target.role === 'primary') {
    const file = join(server.zonesDir, zoneFileKey(ZONE));
    const config = {
      name: ZONE,
      ttl: 300,
      soa: {
        primaryNs: `ns1.${ZONE}`,
        adminEmail: `hostmaster@${ZONE}`,
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 604800,
        negativeTtl: 60,
      },
      nameServers: [{ hostname: `ns1.${ZONE}`, ipv4Address: '192.0.2.53' }],
    };
    await writeFile(file, renderZoneFile(config));
    files = { file, journal: zoneJournal(ZONE) };
  }
  const body = zoneStatementBody(target, files);
  const rndc = await rndcCommand(net, server, ['addzone', ZONE, 'in', '_default', body]);
  assert.equal(rndc.code, 0, `${rndc.stdout}${rndc.stderr}\n${server.log().slice(-2000)}`);
}

function rndcCommand(net: PrivateNetwork, server: Server, args: readonly string[]) {
  const keyfile = join(server.directory, '../keys/rndc/keyfile');
  return net.run('rndc', ['-s', server.address, '-p', '953', '-k', keyfile, ...args]);
}

function keyFileOf(server: Server): string {
  return join(server.directory, '../keys/tsig/keyfile');
}

async function dig(net: PrivateNetwork, server: Server, args: readonly string[], signed = false) {
  const key = signed ? ['-k', keyFileOf(server)] : [];
  const result = await net.run('dig', [
    `@${server.address}`,
    ...key,
    '+tries=1',
    '+time=5',
    ...args,
  ]);
  return result.stdout;
}

async function signedUpdate(net: PrivateNetwork, server: Server, name: string, address: string) {
  const script = `server ${server.address} 53\nzone ${ZONE}\nupdate add ${name}.${ZONE} 300 A ${address}\nsend\n`;
  const result = await net.run('nsupdate', ['-k', keyFileOf(server)], script);
  assert.equal(result.code, 0, `${result.stdout}${result.stderr}\n${server.log().slice(-2000)}`);
}

const axfrAnswer = (name: string, address: string) =>
  new RegExp(
    `^${name}\\.example\\.com\\.\\s+300\\s+IN\\s+A\\s+${address.replaceAll('.', '\\.')}$`,
    'm',
  );

/** addzone, a signed UPDATE, a signed AXFR showing it, an unsigned AXFR refused. */
async function controllerOperations(net: PrivateNetwork, server: Server): Promise<void> {
  await addZone(net, server, targetOf(server, 'primary'));
  // Signed, as the controller asks: allow-query may refuse everyone else.
  assert.match(
    await dig(net, server, [ZONE, 'SOA', '+short'], true),
    /^ns1\.example\.com\. hostmaster/,
  );
  await signedUpdate(net, server, 'www', '192.0.2.10');
  const axfr = await dig(net, server, [ZONE, 'AXFR', '+noall', '+answer'], true);
  assert.match(axfr, axfrAnswer('www', '192.0.2.10'));
  assert.match(await dig(net, server, [ZONE, 'AXFR']), /Transfer failed/);
}

async function idServer(net: PrivateNetwork, server: Server, signed = false): Promise<string> {
  return (await dig(net, server, ['id.server', 'CH', 'TXT', '+short'], signed)).trim();
}

describe('a rendered primary and secondary on real named servers', () => {
  let net: PrivateNetwork;
  let root = '';
  let primary: Server;
  let secondary: Server;
  const options: NamedOptions = { recursion: false, allowQuery: ['any'] };
  // The primary answers on 127.0.0.1 and on 127.0.0.3, its stand-in "Service address",
  // which the secondary's zone names as primary. NOTIFY leaves from 127.0.0.1, so the
  // secondary takes it only because it is signed (allow-notify), as with pods behind Services.
  const primaryListen: NamedListen = {
    ...POD_LISTEN,
    ipv4: ['127.0.0.1', '127.0.0.3'],
    ipv6: ['none'],
    controlAddress: '127.0.0.1',
    controlAllow: ['127.0.0.0/8'],
  };
  const secondaryListen: NamedListen = {
    ...primaryListen,
    ipv4: ['127.0.0.2'],
    controlAddress: '127.0.0.2',
  };

  before(async () => {
    net = await privateNetwork(['127.0.0.2', '127.0.0.3']);
    root = await mkdtemp(join(tmpdir(), 'cluster-named-'));
    primary = await startServer(net, root, 'primary', {
      role: 'primary',
      listen: primaryListen,
      notify: [{ address: '127.0.0.2', port: 53 }],
      options,
    });
    secondary = await startServer(net, root, 'secondary', {
      role: 'secondary',
      listen: secondaryListen,
      options,
    });
  });
  after(async () => {
    await net?.close();
    await rm(root, { recursive: true, force: true });
  });

  test('the primary takes the controller zone, a signed UPDATE and a signed AXFR, and refuses an unsigned AXFR', async () => {
    await controllerOperations(net, primary);
  });

  test('the secondary transfers the zone with the cluster key and refuses an unsigned transfer itself', async () => {
    await addZone(net, secondary, targetOf(secondary, 'secondary', '127.0.0.3'));
    await waitFor(
      'the secondary serving www',
      async () => /192\.0\.2\.10/.test(await dig(net, secondary, [`www.${ZONE}`, 'A', '+short'])),
      secondary.log,
    );
    assert.match(await dig(net, secondary, [ZONE, 'AXFR']), /Transfer failed/);
    assert.match(
      await dig(net, secondary, [ZONE, 'AXFR', '+noall', '+answer'], true),
      axfrAnswer('www', '192.0.2.10'),
    );
  });

  test('an UPDATE on the primary reaches the secondary by a signed NOTIFY, long before its refresh', async () => {
    await signedUpdate(net, primary, 'api', '192.0.2.20');
    // Refresh is an hour: only NOTIFY brings the change within the wait.
    await waitFor(
      'the secondary serving api',
      async () => /192\.0\.2\.20/.test(await dig(net, secondary, [`api.${ZONE}`, 'A', '+short'])),
      secondary.log,
    );
    await secondary.waitForLog(/notify from 127\.0\.0\.1#\d+: serial \d+/);
    assert.doesNotMatch(secondary.log(), /refused notify/);
  });

  test('server-id names the rendering each server has loaded, also to a signed query', async () => {
    assert.equal(await idServer(net, primary), `"${primary.configId}"`);
    assert.equal(await idServer(net, secondary, true), `"${secondary.configId}"`);
    assert.notEqual(primary.configId, secondary.configId);
  });

  test('a new rendering takes effect with rndc reconfig, and the zones added by rndc stay', async () => {
    const next = renderNamedConf({
      role: 'primary',
      owner: 'test/primary',
      tsigKey: { name: tsigKey.name, file: keyFileOf(primary) },
      rndcKey: { name: rndcKey.name, file: join(primary.directory, '../keys/rndc/keyfile') },
      directory: primary.directory,
      listen: primaryListen,
      notify: [{ address: '127.0.0.2', port: 53 }],
      options: { ...options, allowQuery: ['127.0.0.0/8'] },
    });
    assert.notEqual(next.configId, primary.configId);
    await writeFile(primary.confPath, next.text);
    const reconfig = await rndcCommand(net, primary, ['reconfig']);
    assert.equal(reconfig.code, 0, reconfig.stderr);
    assert.equal(await idServer(net, primary), `"${next.configId}"`);
    assert.match(await dig(net, primary, [`www.${ZONE}`, 'A', '+short']), /192\.0\.2\.10/);
  });
});

interface Variant {
  readonly what: string;
  readonly options: NamedOptions;
  /** What the option does, checked on the running server. */
  readonly check: (net: PrivateNetwork, server: Server) => Promise<void>;
}

const flagsOf = (digOutput: string) =>
  /;; flags: ([a-z ]+);/.exec(digOutput)?.[1]?.split(' ') ?? [];

/**
 * Up to three bursts of 20 identical UDP queries; true once one came back truncated.
 * Without DNS cookies: named lets a client that proves its address with a server cookie
 * through (RRL is against spoofed sources, which cannot).
 */
async function truncatedInBurst(net: PrivateNetwork, server: string): Promise<boolean> {
  const queries = Array.from({ length: 20 }, () => [ZONE, 'SOA']).flat();
  for (let burst = 0; burst < 3; burst++) {
    const { stdout } = await net.run('dig', [
      `@${server}`,
      '+ignore',
      '+notcp',
      '+nocookie',
      '+tries=1',
      '+time=2',
      ...queries,
    ]);
    if (/flags: [a-z ]*\btc\b/.test(stdout)) return true;
  }
  return false;
}

const variants: readonly Variant[] = [
  {
    what: 'the defaults',
    options: { recursion: false, allowQuery: ['any'] },
    async check(net, server) {
      assert.ok(!flagsOf(await dig(net, server, [ZONE, 'SOA'])).includes('ra'), 'no recursion');
    },
  },
  {
    what: 'recursion',
    options: { recursion: true, allowQuery: ['any'] },
    async check(net, server) {
      // Asked about its own zone: answered from its data, recursion offered (ra).
      const flags = flagsOf(await dig(net, server, [ZONE, 'SOA']));
      assert.ok(flags.includes('ra') && flags.includes('aa'), flags.join(' '));
    },
  },
  {
    what: 'allow-query',
    options: { recursion: false, allowQuery: ['!127.0.0.1', 'any'] },
    async check(net, server) {
      assert.match(await dig(net, server, [ZONE, 'SOA']), /status: REFUSED/);
      assert.match(await dig(net, server, [ZONE, 'SOA'], true), /status: NOERROR/);
      const v6 = await net.run('dig', ['@::1', '+tries=1', '+time=5', ZONE, 'SOA']);
      assert.match(v6.stdout, /status: NOERROR/);
    },
  },
  {
    what: 'rate limiting',
    options: {
      recursion: false,
      allowQuery: ['any'],
      rateLimit: {
        responsesPerSecond: 1,
        window: 1,
        slip: 1,
        logOnly: false,
        exemptClients: ['::1'],
      },
    },
    async check(net) {
      assert.ok(await truncatedInBurst(net, '127.0.0.1'), 'a burst from 127.0.0.1 is limited');
      assert.ok(!(await truncatedInBurst(net, '::1')), 'an exempt client is not');
    },
  },
  {
    what: 'every option together',
    options: {
      recursion: true,
      allowQuery: ['localhost', '10.0.0.0/8', '2001:db8::/32'],
      rateLimit: {
        responsesPerSecond: 50,
        nxdomainsPerSecond: 5,
        errorsPerSecond: 5,
        window: 15,
        slip: 2,
        logOnly: true,
      },
    },
    async check(net, server) {
      assert.match(await dig(net, server, [ZONE, 'SOA']), /status: NOERROR/);
    },
  },
];

describe('every option on a real named, with the pods\u2019 own listen settings', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'cluster-named-options-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  for (const [i, variant] of variants.entries()) {
    test(`with ${variant.what}: addzone, signed UPDATE and AXFR work, an unsigned AXFR is refused, and the option acts`, async () => {
      const net = await privateNetwork();
      try {
        const server = await startServer(net, root, `variant-${i}`, {
          role: 'primary',
          listen: POD_LISTEN,
          notify: [],
          options: variant.options,
        });
        await controllerOperations(net, server);
        await variant.check(net, server);
      } finally {
        await net.close();
      }
    });
  }
});

describe('the controller asking a named which named.conf it runs (src/bind/server-config.ts)', () => {
  let named: NamedServer;
  const dns = new DnsClient({ timeoutMs: 5000 });
  before(async () => {
    // allow-query lets no one in but the key: the controller's signed question still passes.
    named = await startNamed({
      options: 'server-id "cfg-first"; allow-query { key "ctrl-key"; };',
    });
  });
  after(async () => {
    await dns.close();
    await named?.stop();
  });

  const target = () => ({
    dns: { address: named.address, port: named.dnsPort },
    tsigKey: named.tsigKey,
    rndc: { endpoint: { address: named.address, port: named.rndcPort }, key: named.rndcKey },
  });

  test('reads server-id by a signed CHAOS query, and reconfig makes named load an edited file', async () => {
    const servers = new BindServerConfig(dns);
    assert.equal(await servers.loadedConfig(target()), 'cfg-first');
    const path = join(named.dir, 'named.conf');
    await writeFile(path, (await readFile(path, 'utf8')).replace('cfg-first', 'cfg-second'));
    await servers.reconfig(target());
    assert.equal(await servers.loadedConfig(target()), 'cfg-second');
  });

  test('says undefined for a named without server-id', async () => {
    const plain = await startNamed();
    try {
      const t = {
        ...target(),
        dns: { address: plain.address, port: plain.dnsPort },
        tsigKey: plain.tsigKey,
      };
      assert.equal(await new BindServerConfig(dns).loadedConfig(t), undefined);
    } finally {
      await plain.stop();
    }
  });
});
