import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServedSerials } from './served.ts';

describe('ServedSerials', () => {
  it('sees a zone changed when its served serial is not the one the controller left', () => {
    const served = new ServedSerials();
    served.note('ns/knot', 'Example.Test', 7);
    assert.equal(served.changed('ns/knot', 'example.test', 7), false);
    // Reloaded from its file (serial back to 1), edited by hand (8), or not served at all.
    for (const serial of [1, 8, undefined]) {
      assert.equal(served.changed('ns/knot', 'example.test', serial), true, String(serial));
    }
  });

  it('knows nothing of a zone it never saw, nor of another instance, nor after forget', () => {
    const served = new ServedSerials();
    served.note('ns/knot', 'example.test', 7);
    assert.equal(served.changed('ns/knot', 'other.test', 1), false);
    assert.equal(served.changed('ns/pdns', 'example.test', 1), false);
    served.forget('ns/knot');
    assert.equal(served.changed('ns/knot', 'example.test', 1), false);
  });

  it('takes the serial of a zone read by AXFR from its SOA', () => {
    const served = new ServedSerials();
    const soa = {
      name: 'example.test',
      type: 'SOA' as const,
      ttl: 60,
      rdata: [{ mname: 'a', rname: 'b', serial: 42, refresh: 1, retry: 1, expire: 1, minimum: 1 }],
    };
    served.noteRead('ns/knot', 'example.test', [soa]);
    assert.equal(served.changed('ns/knot', 'example.test', 42), false);
    assert.equal(served.changed('ns/knot', 'example.test', 41), true);
  });
});
