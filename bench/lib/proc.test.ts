import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuSeconds, cpuSecondsOf } from './proc.ts';

describe('process CPU time from /proc/PID/stat', () => {
  it('adds utime and stime, whatever the command name holds', () => {
    // Fields 14 and 15 are 250 and 50 ticks (100 a second on Linux).
    const stat = '4741 (node (a) b) R 4738 4738 16950 0 -1 4194304 115 0 0 0 250 50 0 0 20 0 1';
    assert.equal(cpuSecondsOf(stat), 3);
  });

  it('reads a live process and gives NaN for one that is not there', async () => {
    assert.ok((await cpuSeconds(process.pid)) > 0);
    assert.ok(Number.isNaN(await cpuSeconds(2 ** 30)));
  });
});
