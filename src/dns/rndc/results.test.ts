import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStatus, parseZoneStatus } from './results.ts';

describe('rndc result parsing', () => {
  it('reads boot time and zone counts from status text', () => {
    const status = parseStatus(
      [
        'version: BIND 9.18.28-1~deb12u2-Debian (Extended Support Version) <id:>',
        'boot time: Fri, 27 Nov 2026 11:24:10 GMT',
        'last configured: Fri, 27 Nov 2026 11:25:00 GMT',
        'number of zones: 102 (97 automatic)',
        'server is up and running',
      ].join('\n'),
    );
    assert.equal(status.bootTime, 'Fri, 27 Nov 2026 11:24:10 GMT');
    assert.equal(status.lastConfigured, 'Fri, 27 Nov 2026 11:25:00 GMT');
    assert.equal(status.zoneCount, 102);
    assert.equal(status.automaticZoneCount, 97);
    assert.ok(status.running);
  });

  it('reports an unknown zone count as -1 rather than zero', () => {
    assert.equal(parseStatus('version: x').zoneCount, -1);
  });

  it('reads zonestatus fields and maps the old type names', () => {
    const zone = parseZoneStatus(
      'name: ex.test\ntype: master\nserial: 42\ndynamic: yes\nreconfigurable via modzone: yes\n',
    );
    assert.equal(zone.name, 'ex.test');
    assert.equal(zone.type, 'primary');
    assert.equal(zone.serial, 42);
    assert.ok(zone.dynamic && zone.reconfigurable);
    assert.equal(parseZoneStatus('type: slave\nserial: -').type, 'secondary');
    assert.equal(parseZoneStatus('type: slave\nserial: -').serial, undefined);
  });
});
