/**
 * Issue #18, item 1: a key Secret with its fields swapped or garbled — the real key put
 * under `algorithm`, `name` or `keyfile` — must not show any of the key in what the
 * controller writes or prints: status of the instance, its zones and their records, Events,
 * the log and /metrics. Real kube-apiserver, real named, the controller in-process with the
 * RBAC of deploy/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  instanceSpec,
  type RunningController,
  startController,
  waitReady,
  zoneSpec,
} from './controller-helpers.ts';

/** Every run of 8 characters of `secret` found in `text`. */
function leakedParts(text: string, secret: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i + 8 <= secret.length; i++) {
    const part = secret.slice(i, i + 8);
    if (text.includes(part)) out.add(part);
  }
  return [...out];
}

describe('a key Secret with swapped or garbled fields shows none of the key anywhere', {
  timeout: 600_000,
}, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('leak'));
    named = await startNamed();
    ctl = await startController(user, admin.namespace);
  });

  after(async () => {
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  async function secret(name: string, stringData: Record<string, string>) {
    await admin.core.createNamespacedSecret({
      namespace: admin.namespace,
      body: { metadata: { name, namespace: admin.namespace }, stringData },
    });
  }

  /** An instance whose `which` key Secret holds `data`; the other key is good. */
  async function instanceWith(name: string, which: 'tsig' | 'rndc', data: Record<string, string>) {
    const good = which === 'tsig' ? named.rndcKey : named.tsigKey;
    await secret(`${name}-${which}`, data);
    await secret(`${name}-${which === 'tsig' ? 'rndc' : 'tsig'}`, {
      name: good.name,
      algorithm: good.algorithm,
      secret: good.secret.toString('base64'),
    });
    await admin.create('Bind9Instance', name, instanceSpec(named, name), { leak: name });
    await admin.create('DNSZone', name, zoneSpec(`${name}.test`, { matchLabels: { leak: name } }));
    await admin.create('ARecord', `${name}-www`, {
      zone: name,
      name: 'www',
      ipv4Addresses: ['192.0.2.1'],
    });
  }

  it('keeps both keys out of status, Events, logs and metrics for every field they are put in', async () => {
    const tsig = named.tsigKey.secret.toString('base64');
    const rndc = named.rndcKey.secret.toString('base64');
    const cases: [string, 'tsig' | 'rndc', Record<string, string>][] = [
      // The swap of the report: the secret under algorithm, the algorithm under secret.
      [
        'tsig-swapped',
        'tsig',
        { name: named.tsigKey.name, algorithm: tsig, secret: 'hmac-sha256' },
      ],
      [
        'rndc-swapped',
        'rndc',
        { name: named.rndcKey.name, algorithm: rndc, secret: 'hmac-sha256' },
      ],
      ['tsig-in-name', 'tsig', { name: tsig, algorithm: 'hmac-sha256', secret: tsig }],
      ['rndc-in-name', 'rndc', { name: rndc, algorithm: 'hmac-sha256', secret: rndc }],
      ['tsig-keyfile', 'tsig', { keyfile: tsig }],
      [
        'rndc-keyfile',
        'rndc',
        { keyfile: `key "${rndc}" { algorithm ${rndc}; secret "${rndc}"; };` },
      ],
    ];
    for (const [name, which, data] of cases) await instanceWith(name, which, data);
    const messages: string[] = [];
    for (const [name] of cases) {
      const ready = await waitReady(admin, 'Bind9Instance', name, 'False', 'InvalidKey');
      messages.push(`${name}: ${ready.message}`);
      await waitReady(admin, 'DNSZone', name, 'False', 'InvalidKey');
      await waitReady(admin, 'ARecord', `${name}-www`, 'False', 'InvalidKey');
    }

    const objects = await Promise.all(
      cases.flatMap(([name]) => [
        admin.get('Bind9Instance', name),
        admin.get('DNSZone', name),
        admin.get('ARecord', `${name}-www`),
      ]),
    );
    const events = await admin.core.listNamespacedEvent({ namespace: admin.namespace });
    assert.ok(
      events.items.some((e) => e.reason === 'InvalidKey'),
      'the InvalidKey Events exist',
    );
    const port = ctl.controller.healthPort;
    assert.ok(port !== undefined);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.ok(ctl.logs.join('').includes('InvalidKey'), 'the log has the failures');
    const places: Record<string, string> = {
      status: JSON.stringify(objects.map((o) => o?.status)),
      events: JSON.stringify(events.items),
      logs: ctl.logs.join(''),
      metrics,
    };
    for (const [where, text] of Object.entries(places)) {
      for (const [key, value] of [
        ['TSIG', tsig],
        ['rndc', rndc],
      ] as const) {
        assert.deepEqual(leakedParts(text, value), [], `the ${key} key appears in ${where}`);
      }
    }
    for (const message of messages)
      assert.match(message, /: field /, 'the message names the field');
  });
});
