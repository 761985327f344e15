/**
 * KubeRest's requests over HTTP/2 (src/kube/http2.ts, issue #16): against the real
 * kube-apiserver, and against small local TLS servers for what the API server cannot be
 * made to do (offer no HTTP/2, send GOAWAY, go silent on an open connection).
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createAuthenticator,
  type KubeTarget,
  loadKubeconfigFile,
} from '../../src/kube/kubeconfig.ts';
import { isKubeApiError, isNotFound, KubeRest } from '../../src/kube/rest.ts';
import { type Cluster, useCluster } from '../harness/cluster.ts';
import { createPki, type Pki } from '../harness/cluster-pki.ts';

let cluster: Cluster;
let pki: Pki;
let serving: { cert: string; key: string };

before(async () => {
  cluster = await useCluster();
  pki = await createPki(await mkdtemp(join(tmpdir(), 'h2-pki-')));
  serving = await pki.serving('local', ['127.0.0.1']);
});
after(() => cluster?.stop());

/** A client for a local server at `port`, trusting the test CA, with no credentials. */
function localClient(port: number, timeoutMs?: number): KubeRest {
  const target: KubeTarget = {
    server: `https://127.0.0.1:${port}`,
    namespace: 'default',
    tls: { ca: Buffer.from(pki.ca.cert), insecureSkipTlsVerify: false },
    auth: { kind: 'none' },
    origin: 'test',
  };
  return new KubeRest(target, { apply: async () => {} }, timeoutMs ? { timeoutMs } : {});
}

function listen(server: Http2SecureServer | ReturnType<typeof createHttpsServer>): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

describe('KubeRest over HTTP/2', () => {
  it('sends every request to the real API server over one HTTP/2 connection', async () => {
    const target = await loadKubeconfigFile(cluster.kubeconfigPath);
    const rest = new KubeRest(target, await createAuthenticator(target));
    try {
      const versions = await Promise.all(
        Array.from({ length: 20 }, () => rest.request<{ gitVersion: string }>('GET', '/version')),
      );
      assert.ok(versions.every((v) => v.gitVersion.startsWith('v1.')));
      const missing = await rest.request('GET', '/api/v1/namespaces/none-such').catch((e) => e);
      assert.ok(isNotFound(missing), String(missing));
      assert.deepEqual(rest.http2, { sessions: 1, unsupported: false });
    } finally {
      rest.close();
    }
  });

  it('sends each method with its body and answers with the status, Retry-After and body the server sent, typed as over HTTP/1.1', async () => {
    const server = createSecureServer({ ...serving }, (req, res) => {
      if (req.url === '/busy') {
        res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', code: 429 }));
        return;
      }
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => res.end(JSON.stringify({ method: req.method, body })));
    });
    const rest = localClient(await listen(server));
    try {
      const echoed = await rest.request<{ method: string; body: string }>('PATCH', '/x', {
        body: { a: 1 },
        contentType: 'merge-patch',
      });
      assert.deepEqual(echoed, { method: 'PATCH', body: '{"a":1}' });
      // A DELETE may carry DeleteOptions; a GET has no body.
      const deleted = await rest.request('DELETE', '/x', {
        body: { propagationPolicy: 'Background' },
      });
      assert.deepEqual(deleted, { method: 'DELETE', body: '{"propagationPolicy":"Background"}' });
      assert.deepEqual(await rest.request('GET', '/x'), { method: 'GET', body: '' });
      const busy = await rest.request('GET', '/busy').catch((e) => e);
      assert.ok(isKubeApiError(busy) && busy.status === 429, String(busy));
      assert.equal(busy.retryAfterSeconds, 7);
      assert.equal(rest.http2?.sessions, 1);
    } finally {
      rest.close();
      server.close();
    }
  });

  it('falls back to HTTP/1.1 for a server that offers no HTTP/2', async () => {
    const server = createHttpsServer({ ...serving }, (_req, res) => res.end('{"over":"h1"}'));
    const rest = localClient(await listen(server));
    try {
      assert.deepEqual(await rest.request('GET', '/a'), { over: 'h1' });
      assert.deepEqual(await rest.request('GET', '/b'), { over: 'h1' });
      assert.equal(rest.http2?.unsupported, true);
    } finally {
      rest.close();
      server.close();
    }
  });

  it('opens a new connection for the requests after the server sent GOAWAY', async () => {
    const sessions: ServerHttp2Session[] = [];
    const server = createSecureServer({ ...serving }, (req, res) => {
      res.end('{}');
      if (req.url === '/last') res.stream.session?.goaway();
    });
    server.on('session', (s) => sessions.push(s));
    const rest = localClient(await listen(server));
    try {
      await rest.request('GET', '/last');
      await rest.request('GET', '/after');
      await rest.request('GET', '/after');
      assert.equal(sessions.length, 2);
      assert.equal(rest.http2?.sessions, 2);
    } finally {
      rest.close();
      server.close();
    }
  });

  it('gives up on a connection that went silent once a deadline passes with nothing received', async () => {
    let silent = true;
    const server = createSecureServer({ ...serving }, (_req, res) => {
      if (!silent) res.end('{"ok":true}');
    });
    const rest = localClient(await listen(server), 300);
    try {
      const stuck = await rest.request('GET', '/x').catch((e) => e);
      assert.equal((stuck as { code?: string }).code, 'TIMEOUT');
      silent = false;
      assert.deepEqual(await rest.request('GET', '/x'), { ok: true });
      assert.equal(rest.http2?.sessions, 2, 'the silent connection was dropped');
    } finally {
      rest.close();
      server.close();
    }
  });
});
