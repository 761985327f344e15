/**
 * The BIND9 pod of deploy/bind9/ keeps its data on emptyDirs on purpose: a replaced pod
 * starts empty, and the controller puts back every zone (rndc addzone of the base file the
 * pod finds in its ConfigMap volume) and every record (UPDATE).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { digExamples } from '../../scripts/lib/examples.ts';
import { nodeCluster } from './harness.ts';
import { waitFor } from './system.ts';
import {
  BIND9_NAMESPACE,
  BIND9_SELECTOR,
  bind9Address,
  examples,
  installAll,
} from './workloads.ts';

const cluster = await nodeCluster();

before(() => installAll(cluster));

test('a deleted BIND9 pod is replaced empty, and every zone and record is answered again within 10 s of the new pod turning Ready', async (t) => {
  const [old] = await cluster.waitForPods(BIND9_NAMESPACE, BIND9_SELECTOR);
  assert.ok(old);
  const address = await bind9Address(cluster);
  const declared = await examples();
  await cluster.kubectl([
    '-n',
    BIND9_NAMESPACE,
    'delete',
    'pod',
    old.metadata.name,
    '--wait=false',
  ]);
  const [fresh] = await cluster.waitForPods(BIND9_NAMESPACE, BIND9_SELECTOR, {
    except: [old.metadata.name],
    timeoutMs: 180_000,
  });
  assert.ok(fresh);
  // The API server's time of the flip (whole seconds, rounded down: the figure errs long).
  const readySince = fresh.status.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
  assert.ok(readySince, 'the new pod has a Ready time');
  const answeredAt = await waitFor(
    'every example answered by the new pod',
    120_000,
    async () => {
      const checks = await digExamples({ address, port: 53 }, declared);
      return checks.every((c) => c.same) ? Date.now() : undefined;
    },
    200,
  );
  const seconds = (answeredAt - Date.parse(readySince)) / 1000;
  t.diagnostic(`every record answered ${seconds.toFixed(1)} s after the new pod turned Ready`);
  process.stderr.write(
    `[heal] BIND9 pod replaced: every record answered ${seconds.toFixed(1)} s after Ready\n`,
  );
  assert.ok(seconds <= 10, `answered ${seconds.toFixed(1)} s after Ready (at most 10 s)`);
  // It did start empty: the controller added each zone to this pod's named again.
  const log = await cluster.kubectl(['-n', BIND9_NAMESPACE, 'logs', fresh.metadata.name]);
  for (const zone of declared.filter((o) => o.kind === 'DNSZone')) {
    const name = (zone.spec as { zoneName: string }).zoneName;
    assert.ok(
      log.includes(`received control channel command 'addzone ${name} `),
      `addzone ${name} in the new pod's log`,
    );
  }
});
