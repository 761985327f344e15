import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validExamples } from '../../test/fixtures/resources.ts';
import { rdataText } from '../dns/rrset.ts';
import { RESOURCE_KINDS } from './kinds.ts';
import {
  canonicalIpv6,
  declaredRRset,
  RECORD_KIND_TYPES,
  RECORD_KINDS_LIST,
  type RecordSpecByKind,
  recordRdata,
  recordRRset,
} from './records.ts';

const ZONE = 'example.com';
const common = { zone: 'example-com', name: 'www' };

describe('record owner names', () => {
  const owner = (name: string, zone = ZONE) =>
    recordRRset('ARecord', { ...common, name, ipv4Addresses: ['192.0.2.1'] }, zone, 300).name;

  it('puts a relative name under the zone', () => {
    assert.equal(owner('www'), 'www.example.com');
    assert.equal(owner('a.b'), 'a.b.example.com');
  });

  it('reads @ as the zone apex', () => {
    assert.equal(owner('@'), 'example.com');
  });

  it('keeps a name ending in a dot as it is, lower-cased and without the dot', () => {
    assert.equal(owner('WWW.Example.COM.'), 'www.example.com');
    assert.equal(owner('host.example.net.'), 'host.example.net');
  });

  it('keeps a wildcard label', () => {
    assert.equal(owner('*.apps'), '*.apps.example.com');
    assert.equal(owner('*'), '*.example.com');
  });

  it('lower-cases relative names and the zone', () => {
    assert.equal(owner('Mail', 'Example.COM'), 'mail.example.com');
  });
});

describe('record TTL', () => {
  it('uses the record TTL when set, including 0, else the zone default', () => {
    const spec = { ...common, ipv4Addresses: ['192.0.2.1'] };
    assert.equal(recordRRset('ARecord', spec, ZONE, 3600).ttl, 3600);
    assert.equal(recordRRset('ARecord', { ...spec, ttl: 60 }, ZONE, 3600).ttl, 60);
    assert.equal(recordRRset('ARecord', { ...spec, ttl: 0 }, ZONE, 3600).ttl, 0);
  });
});

describe('record data', () => {
  it('maps A addresses one to one and drops duplicates', () => {
    const rdata = recordRdata(
      'ARecord',
      { ...common, ipv4Addresses: ['192.0.2.1', '192.0.2.2', '192.0.2.1'] },
      ZONE,
    );
    assert.deepEqual(rdata, [{ address: '192.0.2.1' }, { address: '192.0.2.2' }]);
  });

  it('writes AAAA addresses in the RFC 5952 form, so equal addresses compare equal', () => {
    const rdata = recordRdata(
      'AAAARecord',
      { ...common, ipv6Addresses: ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', '1:0:0:2:0:0:0:3'] },
      ZONE,
    );
    assert.deepEqual(rdata, [{ address: '2001:db8::1' }, { address: '1:0:0:2::3' }]);
  });

  it('writes an IPv4-mapped IPv6 address as hex groups, as the wire decoder does', () => {
    assert.equal(canonicalIpv6('::FFFF:192.0.2.1'), '::ffff:c000:201');
    assert.equal(canonicalIpv6('0:0:0:0:0:0:0:0'), '::');
  });

  it('resolves a CNAME target relative to the zone unless absolute', () => {
    const target = (t: string) =>
      recordRdata('CNAMERecord', { ...common, target: t }, ZONE)[0]?.target;
    assert.equal(target('web'), 'web.example.com');
    assert.equal(target('web.example.net.'), 'web.example.net');
    assert.equal(target('@'), 'example.com');
  });

  it('splits a TXT value over 255 bytes into character-strings of one record', () => {
    const long = 'a'.repeat(600);
    const rdata = recordRdata('TXTRecord', { ...common, values: ['short', long, ''] }, ZONE);
    assert.equal(rdata.length, 3);
    assert.deepEqual(rdata[0], { strings: ['short'] });
    assert.deepEqual(
      rdata[1]?.strings.map((s) => s.length),
      [255, 255, 90],
    );
    assert.equal(rdata[1]?.strings.join(''), long);
    assert.deepEqual(rdata[2], { strings: [''] });
  });

  it('splits multi-byte TXT text only between characters', () => {
    const rdata = recordRdata('TXTRecord', { ...common, values: ['é'.repeat(200)] }, ZONE);
    const strings = rdata[0]!.strings;
    assert.ok(strings.every((s) => Buffer.byteLength(s) <= 255));
    assert.equal(strings.join(''), 'é'.repeat(200));
  });

  it('maps MX preference and host, resolving the host and allowing a null MX', () => {
    const rdata = recordRdata(
      'MXRecord',
      {
        ...common,
        mailServers: [
          { preference: 10, host: 'mx1' },
          { preference: 20, host: 'mx.example.net.' },
        ],
      },
      ZONE,
    );
    assert.deepEqual(rdata, [
      { preference: 10, exchange: 'mx1.example.com' },
      { preference: 20, exchange: 'mx.example.net' },
    ]);
    const nullMx = recordRdata(
      'MXRecord',
      { ...common, mailServers: [{ preference: 0, host: '.' }] },
      ZONE,
    );
    assert.equal(rdataText('MX', nullMx[0]!), '0 .');
  });

  it('maps SRV priority, weight, port and target', () => {
    const rdata = recordRdata(
      'SRVRecord',
      {
        ...common,
        name: '_sip._tcp',
        services: [{ priority: 1, weight: 5, port: 5060, target: 'sip' }],
      },
      ZONE,
    );
    assert.deepEqual(rdata, [{ priority: 1, weight: 5, port: 5060, target: 'sip.example.com' }]);
    assert.equal(rdataText('SRV', rdata[0]!), '1 5 5060 sip.example.com.');
  });

  it('maps CAA flags, tag and value, with flags 0 when left out', () => {
    const spec = {
      ...common,
      authorizations: [
        { flags: 128, tag: 'issue', value: 'ca.example.net' },
        { tag: 'iodef', value: 'mailto:a@b.c' },
      ],
    } as RecordSpecByKind['CAARecord'];
    const rdata = recordRdata('CAARecord', spec, ZONE);
    assert.deepEqual(rdata, [
      { flags: 128, tag: 'issue', value: 'ca.example.net' },
      { flags: 0, tag: 'iodef', value: 'mailto:a@b.c' },
    ]);
    assert.equal(rdataText('CAA', rdata[0]!), '128 issue "ca.example.net"');
  });

  it('maps NS and PTR host lists, resolving each name', () => {
    assert.deepEqual(
      recordRdata('NSRecord', { ...common, nameServers: ['ns1', 'ns.example.net.'] }, ZONE),
      [{ host: 'ns1.example.com' }, { host: 'ns.example.net' }],
    );
    assert.deepEqual(
      recordRdata('PTRRecord', { ...common, targets: ['host.example.net.'] }, ZONE),
      [{ target: 'host.example.net' }],
    );
  });

  it('gives every record kind of the registry its record type and a non-empty RRset', () => {
    for (const kind of RECORD_KINDS_LIST) {
      const info = RESOURCE_KINDS[kind];
      assert.equal(info.recordType, RECORD_KIND_TYPES[kind]);
      const spec = validExamples[kind].spec as unknown as RecordSpecByKind[typeof kind];
      const rrset = recordRRset(kind, spec, ZONE, 3600);
      assert.equal(rrset.type, info.recordType);
      assert.ok(rrset.rdata.length > 0, kind);
      assert.ok(Object.hasOwn(spec, info.dataField), `${kind}.${info.dataField}`);
    }
  });

  it('gives the RRset of a record whose kind is only known at run time', () => {
    const records = [validExamples.ARecord, validExamples.MXRecord] as unknown as {
      kind: 'ARecord' | 'MXRecord';
      spec: RecordSpecByKind['ARecord' | 'MXRecord'];
    }[];
    const rrsets = records.map((record) => declaredRRset(record, ZONE, 3600));
    assert.deepEqual(
      rrsets.map((r) => [r.name, r.type, r.ttl, r.rdata.length]),
      [
        ['www.example.com', 'A', 300, 2],
        ['example.com', 'MX', 3600, 2],
      ],
    );
  });
});
