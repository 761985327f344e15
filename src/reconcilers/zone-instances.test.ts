import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bind9Instance } from '../api/kinds.ts';
import { serialsFor } from './zone-instances.ts';

describe('serialsFor', () => {
  const primary = (name: string, address: string, port?: number) =>
    ({
      metadata: { name, namespace: 'ns' },
      spec: { role: 'primary', dns: { address, ...(port === undefined ? {} : { port }) } },
    }) as unknown as Bind9Instance;
  const secondary = (primaries: string[], primariesPort?: number) =>
    ({
      metadata: { name: 's', namespace: 'ns' },
      spec: { role: 'secondary', primaries, ...(primariesPort ? { primariesPort } : {}) },
    }) as unknown as Bind9Instance;
  const served = [
    { instance: primary('a', '10.0.0.1'), serial: 5 },
    { instance: primary('b', '10.0.0.2', 5300), serial: 9 },
  ];

  it('takes the serials of the primaries the secondary transfers from (address and port)', () => {
    assert.deepEqual(serialsFor(secondary(['10.0.0.1']), served), [5]);
    assert.deepEqual(serialsFor(secondary(['10.0.0.2'], 5300), served), [9]);
  });

  it('takes every primary’s serial when the secondary names none of them (a Service address)', () => {
    assert.deepEqual(serialsFor(secondary(['10.9.9.9']), served), [5, 9]);
    assert.deepEqual(serialsFor(secondary(['10.0.0.2']), served), [5, 9], 'port 53 is not 5300');
  });
});
