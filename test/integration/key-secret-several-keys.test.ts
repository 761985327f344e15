/**
 * A key Secret whose keyfile holds several keys (issue #18): without a `keyName` the
 * instance is refused, naming the keys found, instead of signing with the first one; the
 * reference's `keyName` picks the key, and the CRD refuses a keyName that is no key name.
 * Real kube-apiserver, real named.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatKeyFile } from '../../src/dns/keyfile.ts';
import type { Kube } from '../../src/kube/client.ts';
import type { Cluster } from '../harness/cluster.ts';
import { generateKey, type NamedServer, startNamed } from '../harness/named.ts';
import {
  Admin,
  clusterWithRbac,
  instanceSpec,
  type RunningController,
  startController,
  waitReady,
} from './controller-helpers.ts';

describe('a key Secret holding several keys', { timeout: 300_000 }, () => {
  let cluster: Cluster;
  let user: Kube;
  let admin: Admin;
  let named: NamedServer;
  let ctl: RunningController;

  before(async () => {
    ({ cluster, user } = await clusterWithRbac());
    admin = new Admin(cluster, await cluster.createNamespace('several-keys'));
    named = await startNamed();
    ctl = await startController(user, admin.namespace);
  });

  after(async () => {
    await ctl?.stop();
    await named?.stop();
    await cluster?.stop();
  });

  function spec(keyName?: string) {
    // The rndc key is `several-rndc`; the TSIG key comes from the two-key Secret `both`.
    const ref = { name: 'both', ...(keyName === undefined ? {} : { keyName }) };
    return { ...instanceSpec(named, 'several'), tsigKeySecretRef: ref };
  }

  it('is refused naming the keys it holds, and works once keyName picks one', async () => {
    const other = generateKey('aaa-other-key');
    // The other key first: "the first key" would be the wrong one.
    const keyfile = `${formatKeyFile(other)}${formatKeyFile(named.tsigKey)}`;
    await admin.core.createNamespacedSecret({
      namespace: admin.namespace,
      body: { metadata: { name: 'both' }, stringData: { keyfile } },
    });
    await admin.keySecret('several-rndc', named.rndcKey);
    await admin.create('Bind9Instance', 'several', spec());
    const refused = await waitReady(admin, 'Bind9Instance', 'several', 'False', 'InvalidKey');
    assert.match(refused.message, /holds 2 keys/);
    assert.match(refused.message, /"aaa-other-key"/);
    assert.match(refused.message, new RegExp(`"${named.tsigKey.name}"`));

    await admin.patchSpec('Bind9Instance', 'several', {
      tsigKeySecretRef: { name: 'both', keyName: named.tsigKey.name },
    });
    await waitReady(admin, 'Bind9Instance', 'several', 'True', 'Reachable');
  });

  it('refuses at admission a keyName that is not a key name', async () => {
    await assert.rejects(
      admin.create('Bind9Instance', 'bad-key-name', spec('not a "key"; }')),
      (e: unknown) => /keyName/.test(String((e as { body?: unknown }).body ?? e)),
    );
  });
});
