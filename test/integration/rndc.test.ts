/**
 * The rndc client against a real named: authentication both ways, the nonce handshake,
 * several commands on one connection, and the errors a caller must tell apart.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { formatKeyFile, HMAC_ALGORITHMS, parseKey, SecretKey } from '../../src/dns/keyfile.ts';
import { RndcClient } from '../../src/dns/rndc/client.ts';
import { decodeMessage, tableOf, textOf, verifyMessage } from '../../src/dns/rndc/codec.ts';
import { DecodeError, PermanentError, TransientError, ValidationError } from '../../src/errors.ts';
import { generateKey, minimalZone, type NamedServer, startNamed } from '../harness/named.ts';
import { freePort } from '../harness/ports.ts';
import { startTcpProxy } from '../harness/tcp-proxy.ts';

const run = promisify(execFile);

/** Keys as BIND's own tools print them. */
const confgenKey = parseKey(
  (await run('rndc-confgen', ['-A', 'hmac-sha384', '-k', 'confgen-key'])).stdout,
);
const keygenKey = parseKey((await run('tsig-keygen', ['-a', 'hmac-md5', 'keygen-key'])).stdout);
const controlKeys = [
  ...HMAC_ALGORITHMS.map((a) => generateKey(`rndc-${a}`, a)),
  confgenKey,
  keygenKey,
];

describe('rndc client against a real named', () => {
  let named: NamedServer;
  const clients: RndcClient[] = [];
  const client = (options: Partial<ConstructorParameters<typeof RndcClient>[0]> = {}) => {
    const c = new RndcClient({
      endpoint: { address: named.address, port: named.rndcPort },
      key: named.rndcKey,
      timeoutMs: 5000,
      ...options,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    named = await startNamed({ controlKeys });
  });
  after(async () => {
    for (const c of clients) c.close();
    await named.stop();
  });

  it('reads the server status with the key file rndc reads', async () => {
    const key = parseKey(await readFile(named.rndcKeyFile, 'utf8'));
    const status = await client({ key }).status();
    assert.match(status.version, /^BIND 9\./);
    assert.ok(status.running);
    assert.ok(status.bootTime.length > 0);
    assert.ok(status.zoneCount >= 0);
  });

  it('authenticates with the keys rndc-confgen and tsig-keygen print', async () => {
    assert.ok((await client({ key: confgenKey }).status()).running);
    assert.ok((await client({ key: keygenKey }).status()).running);
  });

  for (const key of controlKeys) {
    it(`authenticates with a ${key.algorithm} key and verifies named's signed reply`, async () => {
      const status = await client({ key }).status();
      assert.ok(status.running);
    });
  }

  it('runs several commands over one connection', async () => {
    const proxy = await startTcpProxy({ target: { address: named.address, port: named.rndcPort } });
    try {
      const c = client({ endpoint: { address: '127.0.0.1', port: proxy.port } });
      await writeFile(join(named.zoneDir, 'multi.test.db'), minimalZone('multi.test'));
      await c.status();
      await c.addzone('multi.test', '{ type primary; file "multi.test.db"; };');
      assert.equal((await c.zonestatus('multi.test')).serial, 1);
      await c.delzone('multi.test');
      assert.equal(proxy.connections, 1);
    } finally {
      await proxy.close();
    }
  });

  it('opens a new connection when named closed the previous one', async () => {
    const proxy = await startTcpProxy({ target: { address: named.address, port: named.rndcPort } });
    try {
      const c = client({ endpoint: { address: '127.0.0.1', port: proxy.port } });
      await c.status();
      // Whether or not the client has seen the close yet, the next command goes through.
      proxy.dropAll();
      assert.ok((await c.status()).running);
      assert.equal(proxy.connections, 2);
    } finally {
      await proxy.close();
    }
  });

  it('carries named own error text when a command fails', async () => {
    await assert.rejects(client().showzone('absent.test'), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.equal(error.code, 'RNDC_NOT_FOUND');
      assert.match(error.message, /no matching zone 'absent\.test'/);
      return true;
    });
  });

  it('reports addzone of a primary whose file is not there yet as transient, with named text', async () => {
    const c = client();
    await assert.rejects(
      c.addzone('nofile.test', '{ type primary; file "not-yet-delivered.db"; };'),
      (error: unknown) => {
        assert.ok(error instanceof TransientError);
        assert.equal(error.code, 'RNDC_FILE_NOT_FOUND');
        assert.match(error.message, /file not found/);
        return true;
      },
    );
    // named reverted the addzone.
    await assert.rejects(c.showzone('nofile.test'), { code: 'RNDC_NOT_FOUND' });
  });

  it('reports a wrong rndc key as a permanent authentication error', async () => {
    const wrong = new SecretKey('rndc-key', 'hmac-sha256', Buffer.alloc(32, 7));
    await assert.rejects(client({ key: wrong }).status(), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.equal(error.code, 'RNDC_AUTH');
      assert.match(error.message, /rndc key "rndc-key"/);
      return true;
    });
  });

  it('reports a key named does not know as a permanent authentication error', async () => {
    const unknown = generateKey('someone-else', 'hmac-sha256');
    await assert.rejects(client({ key: unknown }).status(), { code: 'RNDC_AUTH' });
  });

  it('reports a clock ten minutes off as a permanent authentication error', async () => {
    const now = () => Date.now() + 600_000;
    await assert.rejects(client({ now }).status(), { code: 'RNDC_AUTH' });
  });

  it('rejects a reply whose HMAC was tampered with', async () => {
    // Flip one character of the base64 MAC in the first reply (the nonce reply): the
    // frame still decodes, only the signature is wrong.
    const proxy = await startTcpProxy({
      target: { address: named.address, port: named.rndcPort },
      alterReply: (chunk, index) => {
        if (index !== 0) return chunk;
        const copy = Buffer.from(chunk);
        const at = 4 + 4 + 23; // length, version, `_auth` and `hsha` headers, algorithm byte
        copy[at] = copy[at] === 0x41 ? 0x42 : 0x41;
        return copy;
      },
    });
    try {
      const c = client({ endpoint: { address: '127.0.0.1', port: proxy.port } });
      await assert.rejects(c.status(), (error: unknown) => {
        assert.ok(error instanceof PermanentError);
        assert.equal(error.code, 'RNDC_REPLY_AUTH');
        return true;
      });
    } finally {
      await proxy.close();
    }
  });

  it('rejects a reply whose signed body was tampered with', async () => {
    const proxy = await startTcpProxy({
      target: { address: named.address, port: named.rndcPort },
      alterReply: (chunk) => {
        const copy = Buffer.from(chunk);
        const last = copy.length - 1;
        copy[last] = (copy[last] ?? 0) ^ 0x01;
        return copy;
      },
    });
    try {
      const c = client({ endpoint: { address: '127.0.0.1', port: proxy.port } });
      await assert.rejects(c.status(), { code: 'RNDC_REPLY_AUTH' });
    } finally {
      await proxy.close();
    }
  });

  it('refuses a reply that claims to be larger than any rndc reply, without waiting for it', async () => {
    const proxy = await startTcpProxy({
      target: { address: named.address, port: named.rndcPort },
      alterReply: (chunk) => {
        const copy = Buffer.from(chunk);
        copy.writeUInt32BE(0xffffffff, 0);
        return copy;
      },
    });
    try {
      const c = client({ endpoint: { address: '127.0.0.1', port: proxy.port } });
      await assert.rejects(c.status(), DecodeError);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a zone argument that would inject configuration before connecting', async () => {
    const proxy = await startTcpProxy({ target: { address: named.address, port: named.rndcPort } });
    try {
      const c = client({ endpoint: { address: '127.0.0.1', port: proxy.port } });
      for (const zone of ['evil.test; }; zone "x" {', 'a b', 'x.test"', '-clean', '']) {
        await assert.rejects(c.delzone(zone), ValidationError);
      }
      assert.equal(proxy.bytesFromClients, 0);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a command larger than named reads, and the connection stays usable', async () => {
    const c = client();
    await assert.rejects(c.command(`status ${'x'.repeat(40_000)}`), ValidationError);
    assert.ok((await c.status()).running);
  });

  it('reports a stopped named as a transient timeout', async () => {
    const pid = Number(await readFile(join(named.dir, 'named.pid'), 'utf8'));
    process.kill(pid, 'SIGSTOP');
    try {
      await assert.rejects(client({ timeoutMs: 300 }).status(), (error: unknown) => {
        assert.ok(error instanceof TransientError);
        assert.equal(error.code, 'TIMEOUT');
        return true;
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});

describe('rndc client without a server', () => {
  it('reports a port nobody listens on as a transient error', async () => {
    const port = await freePort();
    const c = new RndcClient({
      endpoint: { address: '127.0.0.1', port },
      key: generateKey('rndc-key'),
      timeoutMs: 2000,
    });
    await assert.rejects(c.status(), (error: unknown) => {
      assert.ok(error instanceof TransientError);
      assert.equal(error.code, 'RNDC_UNREACHABLE');
      assert.match(error.message, /connection refused/);
      return true;
    });
  });
});

describe('interoperability with the rndc binary', () => {
  it('decodes and verifies the first message the real rndc sends', async () => {
    // A listener that only records what rndc sends: a real named would not show us.
    const key = generateKey('interop-key', 'hmac-sha512');
    const frames: Buffer[] = [];
    const server = createServer((socket) => {
      let data = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (data.length >= 4 && data.length >= 4 + data.readUInt32BE(0)) {
          frames.push(data.subarray(0, 4 + data.readUInt32BE(0)));
          socket.destroy();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const dir = await mkdtemp(join(tmpdir(), 'rndc-interop-'));
    try {
      const keyFile = join(dir, 'rndc.key');
      await writeFile(keyFile, formatKeyFile(key));
      await run('rndc', ['-k', keyFile, '-s', '127.0.0.1', '-p', String(port), 'status'], {
        timeout: 10_000,
      }).catch(() => undefined);
      assert.equal(frames.length, 1);
      const decoded = decodeMessage(frames[0]!);
      assert.ok(verifyMessage(decoded, key));
      assert.equal(textOf(tableOf(decoded.table, '_data'), 'type'), 'null');
      assert.match(textOf(tableOf(decoded.table, '_ctrl'), '_ser') ?? '', /^\d+$/);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
