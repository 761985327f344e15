/**
 * The example BIND9 of deploy/bind9/ is consistent and its named.conf works: a real named
 * (Debian's 9.18, the same major version as the ISC image) runs the shipped configuration
 * with only paths and ports moved to a temp dir and loopback, and does what the controller
 * needs from it: `rndc addzone` of a base file, a TSIG-signed UPDATE, a signed AXFR.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  findManifest,
  type Manifest,
  readManifests,
  renderKustomization,
} from '../../scripts/lib/manifests.ts';
import { formatKeyFile, parseKey } from '../../src/dns/keyfile.ts';
import { generateKey, minimalZone, NAMED_BIN } from '../harness/named.ts';
import { freePort, portOpen } from '../harness/ports.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

let objects: Manifest[] = [];
/** The placeholder key Secrets: a file of their own, outside the kustomization. */
let secrets: Manifest[] = [];
before(async () => {
  objects = await renderKustomization(join(root, 'deploy/bind9'));
  secrets = await readManifests(join(root, 'deploy/bind9/secrets.yaml'));
});

function podSpec(): Json {
  const deployment = findManifest(objects, 'Deployment', 'bind9-primary');
  return obj(obj(obj(deployment.spec).template).spec);
}

function namedConf(): string {
  const cm = findManifest(objects, 'ConfigMap', 'bind9-primary-config');
  const text = obj(cm.data)['named.conf'];
  assert.equal(typeof text, 'string');
  return text as string;
}

function secretKeyfile(name: string): string {
  const secret = findManifest(secrets, 'Secret', name);
  return String(obj(secret.stringData).keyfile);
}

describe('deploy/bind9 example primary', () => {
  test('the Bind9Instance refers to Secrets and a zone ConfigMap that the named pod mounts', () => {
    const spec = obj(findManifest(objects, 'Bind9Instance', 'bind9-primary').spec);
    const tsigSecret = String(obj(spec.tsigKeySecretRef).name);
    const rndcSecret = String(obj(obj(spec.rndc).keySecretRef).name);
    const zoneCm = obj(obj(spec.zoneFiles).configMap);
    const pod = podSpec();
    const volumes = list(pod.volumes);
    const mounts = list(list(pod.containers)[0]?.volumeMounts);
    const volumeOf = (path: string) =>
      volumes.find((v) => v.name === mounts.find((m) => m.mountPath === path)?.name);

    for (const name of [tsigSecret, rndcSecret]) findManifest(secrets, 'Secret', name);
    assert.ok(!objects.some((o) => o.kind === 'Secret'), 'kustomization never overwrites keys');
    assert.equal(obj(volumeOf(String(zoneCm.mountPath))?.configMap).name, zoneCm.name);
    const secretMounts = volumes.map((v) => obj(v.secret).secretName).filter(Boolean);
    assert.deepEqual(secretMounts.sort(), [rndcSecret, tsigSecret].sort());
  });

  test('the placeholder keys parse as key files and carry the names named.conf grants', () => {
    const tsig = parseKey(secretKeyfile('bind9-tsig-key'));
    const rndc = parseKey(secretKeyfile('bind9-rndc-key'));
    assert.ok(tsig.secret.toString().startsWith('REPLACE-ME'), 'placeholder is marked');
    assert.ok(rndc.secret.toString().startsWith('REPLACE-ME'), 'placeholder is marked');
    const conf = namedConf();
    assert.match(conf, new RegExp(`allow-transfer \\{ key "${tsig.name}"; \\}`));
    assert.match(conf, new RegExp(`keys \\{ "${rndc.name}"; \\}`));
    assert.match(conf, /allow-new-zones yes;/);
  });

  test('the named pod runs as non-root with a read-only root file system', () => {
    const pod = podSpec();
    const container = list(pod.containers)[0] ?? {};
    assert.equal(obj(pod.securityContext).runAsNonRoot, true);
    assert.equal(obj(container.securityContext).readOnlyRootFilesystem, true);
    assert.deepEqual(obj(obj(container.securityContext).capabilities).drop, ['ALL']);
    assert.match(String(container.image), /^internetsystemsconsortium\/bind9:9\.18/);
  });
});

/** The shipped named.conf with its paths under `dir` and its sockets on loopback ports. */
function localConf(conf: string, dir: string, dnsPort: number, rndcPort: number): string {
  const replacements: [string | RegExp, string][] = [
    ['/etc/bind/', `${dir}/etc/`],
    [/\/var\/cache\/bind/g, `${dir}/cache`],
    [/\/var\/lib\/bind/g, `${dir}/lib`],
    [/listen-on port 53 \{ any; \};/, `listen-on port ${dnsPort} { 127.0.0.1; };`],
    [/listen-on-v6 port 53 \{ any; \};/, 'listen-on-v6 { none; };'],
    [/inet \* port 953 allow \{ any; \}/, `inet 127.0.0.1 port ${rndcPort} allow { 127.0.0.1; }`],
  ];
  let out = conf;
  for (const [from, to] of replacements) {
    const next = typeof from === 'string' ? out.replaceAll(from, to) : out.replace(from, to);
    assert.notEqual(next, out, `named.conf no longer contains ${from}`);
    out = next;
  }
  return out;
}

/**
 * Resolves once named has logged that it is running and both ports accept connections;
 * bounded at 60 s (generous for a slow machine). Rejects if named exits first.
 */
async function waitForNamed(
  ports: readonly number[],
  proc: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`named exited:\n${log()}`);
    }
    if (
      log().includes('running') &&
      (await Promise.all(ports.map((p) => portOpen(p)))).every(Boolean)
    ) {
      return;
    }
    if (Date.now() > deadline) throw new Error(`named did not start in 60 s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once `proc` has exited, at once if it already has. */
function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

describe('the shipped named.conf on a real named', () => {
  let dir = '';
  let proc: ChildProcess | undefined;
  let output = '';
  let dnsPort = 0;
  let rndcPort = 0;
  const tsig = generateKey('ctrl-key');
  const rndc = generateKey('rndc-key');
  const tsigFile = () => join(dir, 'etc/keys/tsig/keyfile');
  const rndcFile = () => join(dir, 'etc/keys/rndc/keyfile');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deploy-bind9-'));
    for (const d of ['etc/conf', 'etc/keys/tsig', 'etc/keys/rndc', 'etc/zones', 'cache', 'lib']) {
      await mkdir(join(dir, d), { recursive: true });
    }
    await writeFile(tsigFile(), formatKeyFile(tsig), { mode: 0o600 });
    await writeFile(rndcFile(), formatKeyFile(rndc), { mode: 0o600 });
    const conf = join(dir, 'etc/conf/named.conf');
    // A port found free can be bound by another process before named binds it; named then
    // logs "address in use" and runs without it, so that start is retried on new ports.
    for (let attempt = 1; ; attempt++) {
      dnsPort = await freePort();
      rndcPort = await freePort();
      await writeFile(conf, localConf(namedConf(), dir, dnsPort, rndcPort));
      output = '';
      const child = spawn(NAMED_BIN, ['-g', '-n', '1', '-c', conf], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      proc = child;
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        output += chunk;
      });
      const started = await waitForNamed([dnsPort, rndcPort], child, () => output).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (!/address in use/i.test(output)) {
        if (started !== undefined) throw started;
        return;
      }
      const gone = exited(child);
      child.kill('SIGKILL');
      await gone;
      if (attempt >= 3) throw new Error(`named's ports stayed taken:\n${output}`);
    }
  });

  after(async () => {
    if (proc !== undefined) {
      const gone = exited(proc);
      proc.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('rndc addzone of a base file from the zone mount creates a zone named serves', async () => {
    await writeFile(join(dir, 'etc/zones/example.com.db'), minimalZone('example.com'));
    const zoneConf = `{ type primary; file "${dir}/etc/zones/example.com.db"; journal "${dir}/cache/example.com.db.jnl"; update-policy { grant ctrl-key zonesub ANY; }; };`;
    const args = ['-s', '127.0.0.1', '-p', String(rndcPort), '-k', rndcFile()];
    await run('rndc', [...args, 'addzone', 'example.com', zoneConf]);
    const soa = await run('dig', [
      '@127.0.0.1',
      '-p',
      String(dnsPort),
      'example.com',
      'SOA',
      '+short',
    ]);
    assert.match(soa.stdout, /^ns1\.example\.com\. hostmaster\.example\.com\. 1 /);
  });

  test('a TSIG-signed UPDATE with the controller key is applied and a signed AXFR shows it', async () => {
    const script = `server 127.0.0.1 ${dnsPort}\nzone example.com\nupdate add www.example.com 300 A 192.0.2.10\nsend\n`;
    const nsupdate = spawn('nsupdate', ['-k', tsigFile()], { stdio: ['pipe', 'pipe', 'pipe'] });
    nsupdate.stdin.end(script);
    const code = await new Promise((r) => nsupdate.once('exit', r));
    assert.equal(code, 0, output.slice(-2000));
    const axfr = await run('dig', [
      '@127.0.0.1',
      '-p',
      String(dnsPort),
      '-k',
      tsigFile(),
      'example.com',
      'AXFR',
      '+noall',
      '+answer',
    ]);
    assert.match(axfr.stdout, /^www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.10$/m);
  });

  test('an AXFR without the controller key is refused', async () => {
    const axfr = await run('dig', ['@127.0.0.1', '-p', String(dnsPort), 'example.com', 'AXFR']);
    assert.match(axfr.stdout, /Transfer failed/);
  });

  test('the zone added over rndc is kept in the NZD database in new-zones-directory', async () => {
    const files = await readFile(join(dir, 'lib/_default.nzd')).catch(() => undefined);
    assert.ok(files !== undefined && files.length > 0, 'NZD database written under /var/lib/bind');
  });
});
