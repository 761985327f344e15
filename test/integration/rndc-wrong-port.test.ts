/**
 * An rndc endpoint that is not named's control channel (issue #18): the API server's TLS
 * port, an HTTP server, a port that answers something else. Each is reported as the wrong
 * port (`NotRndcServer`), not as a bad rndc key (which sends the operator to the wrong fix)
 * nor as a generic error; a real named with the wrong key still says RndcBadKey.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RndcClient } from '../../src/dns/rndc/client.ts';
import { isControllerError } from '../../src/errors.ts';
import type { Kube } from '../../src/kube/client.ts';
import { reasonFor } from '../../src/reconcilers/reasons.ts';
import type { Cluster } from '../harness/cluster.ts';
import { generateKey, type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  type RunningController,
  startController,
  waitReady,
} from './controller-helpers.ts';

function listening(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

/** What RndcClient.status() fails with against `port`. */
async function statusError(port: number, key = generateKey('rndc-key')) {
  const client = new RndcClient({ endpoint: { address: '127.0.0.1', port }, key, timeoutMs: 5000 });
  try {
    await client.status();
  } catch (error) {
    assert.ok(isControllerError(error), String(error));
    return error;
  } finally {
    client.close();
  }
  assert.fail('status() answered');
}

describe('an rndc endpoint that is not an rndc server', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let http: Server;
  let banner: TcpServer;
  let apiPort: number;
  let ctl: RunningController | undefined;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('wrong-port'));
    apiPort = Number(new URL(cluster.kubeConfig.getCurrentCluster()?.server ?? '').port);
    named = await startNamed();
    http = createHttpServer((_req, res) => res.writeHead(404).end('not here'));
    // A service that greets every connection with a banner, as SSH or SMTP do.
    banner = createTcpServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
  });

  after(async () => {
    await ctl?.stop();
    http?.close();
    banner?.close();
    await named?.stop();
    await cluster?.stop();
  });

  it("says the API server's TLS port speaks TLS, not that the rndc key is wrong", async () => {
    const error = await statusError(apiPort);
    assert.equal(error.code, 'RNDC_SPEAKS_TLS');
    assert.match(error.message, /speaks TLS/);
    assert.equal(reasonFor(error).reason, 'NotRndcServer');
  });

  it('says an HTTP server speaks HTTP', async () => {
    const error = await statusError(await listening(http));
    assert.equal(error.code, 'RNDC_SPEAKS_HTTP');
    assert.equal(reasonFor(error).reason, 'NotRndcServer');
  });

  it('says a port that answers something else is not an rndc control channel', async () => {
    const error = await statusError(await listening(banner));
    assert.equal(error.code, 'RNDC_NOT_RNDC');
    assert.match(error.message, /not with the rndc control protocol/);
    assert.equal(reasonFor(error).reason, 'NotRndcServer');
  });

  it("still says RndcBadKey for named's own control channel with another key", async () => {
    const error = await statusError(named.rndcPort, generateKey(named.rndcKey.name));
    assert.equal(error.code, 'RNDC_AUTH');
    assert.equal(reasonFor(error).reason, 'RndcBadKey');
  });

  it('gives a Bind9Instance whose rndc endpoint is the API server Ready=False NotRndcServer', async () => {
    await admin.keySecret('wp-tsig', named.tsigKey);
    await admin.keySecret('wp-rndc', named.rndcKey);
    await admin.create('Bind9Instance', 'wrong-port', {
      role: 'primary',
      dns: { address: named.address, port: named.dnsPort },
      rndc: { address: '127.0.0.1', port: apiPort, keySecretRef: { name: 'wp-rndc' } },
      tsigKeySecretRef: { name: 'wp-tsig' },
      zoneFiles: { directory: { path: named.zoneDir } },
    });
    ctl = await startController(user, admin.namespace);
    const ready = await waitReady(admin, 'Bind9Instance', 'wrong-port', 'False', 'NotRndcServer');
    assert.match(ready.message, /speaks TLS/);
  });
});
