/**
 * One dead server never delays the others (issue #18, item 3). A "black hole" — ports that
 * accept connections and datagrams and never answer — is a Bind9Instance selected by 8
 * DNSZones; a healthy zone on a real named beside it takes 30 record creates. Every record
 * is answered (the latency is printed, not asserted), and once the black hole is known
 * down no zone reconcile dials it: only the health poll does, on its own schedule.
 * Real kube-apiserver, real named, the controller in-process with deploy/'s RBAC.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import { freePort } from '../harness/ports.ts';
import {
  Admin,
  clusterWithRbac,
  dig,
  instanceSpec,
  type RunningController,
  startController,
  waitFor,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

/** Accepts TCP connections and UDP datagrams on a port and never answers; counts them. */
class BlackHole {
  readonly held = new Set<Socket>();
  connections = 0;
  datagrams = 0;
  readonly #tcp: Server;
  readonly #udp: UdpSocket | undefined;

  private constructor(tcp: Server, udp: UdpSocket | undefined) {
    this.#tcp = tcp;
    this.#udp = udp;
  }

  static async open(port: number, udp: boolean): Promise<BlackHole> {
    const hole: BlackHole = new BlackHole(
      createServer((socket) => {
        hole.connections++;
        hole.held.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => hole.held.delete(socket));
      }),
      udp ? createSocket('udp4') : undefined,
    );
    await new Promise<void>((resolve) => hole.#tcp.listen(port, '127.0.0.1', resolve));
    if (hole.#udp !== undefined) {
      hole.#udp.on('message', () => {
        hole.datagrams++;
      });
      await new Promise<void>((resolve) => hole.#udp?.bind(port, '127.0.0.1', resolve));
    }
    return hole;
  }

  async close(): Promise<void> {
    for (const s of this.held) s.destroy();
    this.#udp?.close();
    await new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

describe('a dead instance delays no other zone', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let dnsHole: BlackHole;
  let rndcHole: BlackHole;
  let ctl: RunningController;

  let dnsPort: number;
  let rndcPort: number;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('black-hole'));
    named = await startNamed();
    dnsPort = await freePort();
    rndcPort = await freePort();
    dnsHole = await BlackHole.open(dnsPort, true);
    rndcHole = await BlackHole.open(rndcPort, false);
    await admin.instance('healthy', named, { pool: 'healthy' });
    await admin.keySecret('hole-tsig', named.tsigKey);
    await admin.keySecret('hole-rndc', named.rndcKey);
    await admin.create(
      'Bind9Instance',
      'hole',
      instanceSpec(named, 'hole', { dnsPort, rndcPort }),
      {
        pool: 'hole',
      },
    );
    await admin.create('DNSZone', 'ok', zoneSpec('ok.test', { matchLabels: { pool: 'healthy' } }));
    for (let i = 0; i < 8; i++) {
      await admin.create(
        'DNSZone',
        `dead${i}`,
        zoneSpec(`dead${i}.test`, { matchLabels: { pool: 'hole' } }),
      );
    }
    ctl = await startController(user, admin.namespace);
  });

  after(async () => {
    if (process.env.CTRL_LOGS) console.error(ctl?.logs.join(''));
    await ctl?.stop();
    await Promise.all([dnsHole?.close(), rndcHole?.close(), named?.stop()]);
    await cluster?.stop();
  });

  it('answers 30 records of a healthy zone while 8 zones wait on a black hole, which only the health poll dials', async (t) => {
    await waitReady(admin, 'DNSZone', 'ok');
    for (let i = 0; i < 8; i++)
      await waitReady(admin, 'DNSZone', `dead${i}`, 'False', 'InstanceUnreachable');

    const pollMs = 3_000; // the shipped --health-poll the helpers keep
    const started = Date.now();
    const holeBefore = rndcHole.connections;
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const name = `r${i}`;
      const at = performance.now();
      await admin.create('ARecord', name, {
        zone: 'ok',
        name,
        ipv4Addresses: [`192.0.2.${i + 1}`],
      });
      await waitFor(`${name}.ok.test answered`, async () =>
        (await dig(named, `${name}.ok.test`, 'A')).join() === `192.0.2.${i + 1}` ? true : undefined,
      );
      latencies.push(performance.now() - at);
    }
    const windowMs = Date.now() - started;
    const sorted = [...latencies].sort((a, b) => a - b);
    t.diagnostic(
      `create -> answered over 30 creates beside a black hole: p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms`,
    );
    for (let i = 0; i < 30; i++) await waitReady(admin, 'ARecord', `r${i}`);

    // Only the health poll may dial the black hole now: one rndc connection per probe,
    // a probe at most every poll period (each waits up to its 3 s timeout). The 8 zones'
    // reconciles, retried with backoff, would add connections of their own.
    const dials = rndcHole.connections - holeBefore;
    const probes = Math.ceil(windowMs / pollMs) + 1;
    t.diagnostic(
      `black hole: ${dials} rndc connections in ${windowMs} ms (at most ${probes} probes)`,
    );
    assert.ok(
      dials <= probes,
      `${dials} connections to the black hole, more than ${probes} probes`,
    );
    const zone = await admin.get('DNSZone', 'dead0');
    const ready = zone?.status?.conditions?.find((c) => c.type === 'Ready');
    assert.match(ready?.message ?? '', /timed out/);
  });
});
