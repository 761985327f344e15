import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  absoluteName,
  compareRRsets,
  isInZone,
  labelsOf,
  normalizeName,
  type RRset,
  rdataText,
  relativeName,
  sameRRset,
  splitTxt,
} from './rrset.ts';

describe('names', () => {
  it('resolves resource names with zone-file rules', () => {
    assert.equal(absoluteName('@', 'Example.com.'), 'example.com');
    assert.equal(absoluteName('WWW', 'example.com'), 'www.example.com');
    assert.equal(absoluteName('*.apps', 'example.com'), '*.apps.example.com');
    assert.equal(absoluteName('mail.other.org.', 'example.com'), 'mail.other.org');
    assert.equal(normalizeName('.'), '');
  });

  it('tells names inside a zone from names outside', () => {
    assert.ok(isInZone('a.b.example.com', 'example.com'));
    assert.ok(isInZone('example.com', 'example.com.'));
    assert.ok(!isInZone('badexample.com', 'example.com'));
    assert.equal(relativeName('a.example.com', 'example.com'), 'a');
    assert.equal(relativeName('example.com', 'example.com'), '@');
    assert.equal(relativeName('x.org', 'example.com'), 'x.org.');
  });
});

describe('TXT splitting', () => {
  it('keeps short values whole and cuts long ones into 255-byte strings', () => {
    assert.deepEqual(splitTxt('hello'), ['hello']);
    const parts = splitTxt('a'.repeat(600));
    assert.deepEqual(
      parts.map((p) => p.length),
      [255, 255, 90],
    );
  });

  it('never cuts inside a multi-byte character', () => {
    const parts = splitTxt('é'.repeat(200));
    for (const p of parts) {
      assert.ok(Buffer.byteLength(p) <= 255);
      assert.ok(!p.includes('\ufffd'));
    }
    assert.equal(parts.join(''), 'é'.repeat(200));
  });
});

describe('presentation and comparison', () => {
  it('prints rdata as a zone file would', () => {
    assert.equal(
      rdataText('MX', { preference: 10, exchange: 'mail.example.com' }),
      '10 mail.example.com.',
    );
    assert.equal(rdataText('TXT', { strings: ['a "b"', 'c\\d'] }), '"a \\"b\\"" "c\\\\d"');
    assert.equal(
      rdataText('CAA', { flags: 0, tag: 'issue', value: 'ca.example' }),
      '0 issue "ca.example"',
    );
  });

  it('treats RRsets as sets of records, and TTL as part of equality', () => {
    const a: RRset = {
      name: 'w.example.com',
      type: 'A',
      ttl: 60,
      rdata: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }],
    };
    const b: RRset = {
      name: 'W.example.com.',
      type: 'A',
      ttl: 60,
      rdata: [{ address: '192.0.2.2' }, { address: '192.0.2.1' }],
    };
    assert.ok(sameRRset(a, b));
    assert.ok(!sameRRset(a, { ...b, ttl: 61 }));
    assert.ok(!sameRRset(a, { ...b, rdata: [{ address: '192.0.2.1' }] }));
  });

  it('orders RRsets by name from the root down, then by type', () => {
    const names = ['b.example.com', 'example.com', 'a.b.example.com', 'a.example.com'];
    const sorted = names
      .map((name) => ({ name, type: 'A' as const }))
      .sort(compareRRsets)
      .map((r) => r.name);
    assert.deepEqual(sorted, ['example.com', 'a.example.com', 'b.example.com', 'a.b.example.com']);
  });

  it('reads names with escaped dots (RFC 1035 §5.1) label by label', () => {
    // The SOA mailbox dns.admin@example.com, as named gives it back in an AXFR.
    assert.equal(normalizeName('DNS\\.Admin.Example.COM.'), 'dns\\.admin.example.com');
    assert.equal(normalizeName('odd\\.'), 'odd\\.', 'an escaped final dot is part of the label');
    assert.deepEqual(labelsOf('dns\\.admin.example.com'), ['dns\\.admin', 'example', 'com']);
    assert.equal(isInZone('x\\.y.example.com', 'example.com'), true);
    assert.equal(
      isInZone('a\\.example.com', 'example.com'),
      false,
      'the label a.example under com',
    );
    assert.equal(relativeName('x\\.y.example.com', 'example.com'), 'x\\.y');
  });
});
