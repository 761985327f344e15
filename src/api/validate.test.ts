import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { badValues, goodValues, mutate, validExamples } from '../../test/fixtures/resources.ts';
import { KIND_NAMES, type KindName } from './kinds.ts';
import { anchored, IPV4, IPV6 } from './patterns.ts';
import { fieldPath, formatIssues, validateResource, validateSpec } from './validate.ts';

function fieldsOf(kind: KindName, object: unknown): string[] {
  const result = validateResource(kind, object);
  return result.ok ? [] : result.errors.map((issue) => issue.field);
}

describe('validateResource', () => {
  for (const kind of KIND_NAMES) {
    it(`accepts the valid ${kind} example`, () => {
      const result = validateResource(kind, validExamples[kind]);
      assert.deepEqual(result.ok ? [] : result.errors, []);
    });
  }

  for (const bad of badValues) {
    it(`rejects ${bad.what} in a ${bad.kind}, naming ${bad.field}`, () => {
      const fields = fieldsOf(bad.kind, mutate(bad));
      assert.ok(
        fields.includes(bad.field),
        `expected ${bad.field} among ${JSON.stringify(fields)}`,
      );
    });
  }

  for (const good of goodValues) {
    it(`accepts ${good.what} in a ${good.kind}`, () => {
      const result = validateResource(good.kind, mutate(good));
      assert.deepEqual(result.ok ? [] : result.errors, []);
    });
  }

  it('fills in the schema defaults and leaves the input untouched', () => {
    const input = mutate({
      kind: 'Bind9Instance',
      what: 'no ports',
      path: 'spec.role',
      value: 'primary',
      remove: ['spec.dns.port', 'spec.rndc.port'],
    });
    const result = validateResource('Bind9Instance', input);
    assert.ok(result.ok);
    assert.equal(result.value.spec.dns.port, 53);
    assert.equal(result.value.spec.rndc?.port, 953);
    assert.equal((input.spec as { dns: { port?: number } }).dns.port, undefined);
  });

  it('defaults prune to false and the SOA timers when a zone leaves them out', () => {
    const result = validateResource('DNSZone', {
      ...validExamples.DNSZone,
      spec: {
        zoneName: 'example.org',
        instanceSelector: {},
        soaRecord: { primaryNs: 'ns1.example.net.', adminEmail: 'hostmaster@example.org' },
      },
    });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.value.spec.prune, false);
    assert.equal(result.value.spec.ttl, 3600);
    assert.deepEqual(result.value.spec.soaRecord, {
      primaryNs: 'ns1.example.net.',
      adminEmail: 'hostmaster@example.org',
      serial: 1,
      refresh: 3600,
      retry: 900,
      expire: 1209600,
      negativeTtl: 300,
    });
  });

  it('keeps the status it was given without checking it', () => {
    const status = { conditions: [{ type: 'Ready', anything: 1 }] };
    const result = validateResource('ARecord', { ...validExamples.ARecord, status });
    assert.ok(result.ok);
    assert.deepEqual(result.value.status, status);
  });

  it('rejects a wrong apiVersion, a wrong kind and a missing spec', () => {
    const object = { ...validExamples.ARecord, apiVersion: 'v1', kind: 'BRecord', spec: undefined };
    assert.deepEqual(fieldsOf('ARecord', JSON.parse(JSON.stringify(object))).sort(), [
      'apiVersion',
      'kind',
      'spec',
    ]);
  });

  it('rejects a value that is not an object at all', () => {
    assert.deepEqual(fieldsOf('DNSZone', 'zone'), ['']);
    assert.deepEqual(fieldsOf('DNSZone', null), ['']);
  });

  it('names an unknown field, such as a misspelt one', () => {
    const object = mutate({ kind: 'ARecord', what: 'typo', path: 'spec.ipv4Address', value: [] });
    assert.ok(fieldsOf('ARecord', object).includes('spec.ipv4Address'));
  });
});

describe('validateSpec', () => {
  it('checks a spec alone and names fields under spec', () => {
    const result = validateSpec('MXRecord', {
      zone: 'z',
      name: '@',
      mailServers: [{ preference: -1, host: 'mx' }],
    });
    assert.ok(!result.ok);
    assert.deepEqual(
      result.errors.map((issue) => issue.field),
      ['spec.mailServers[0].preference'],
    );
    assert.match(formatIssues(result.errors), /^spec\.mailServers\[0\]\.preference: must be >= 0$/);
  });

  it('runs the semantic checks too', () => {
    const result = validateSpec('CNAMERecord', { zone: 'z', name: '@', target: 'www' });
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, [
      { field: 'spec.name', message: 'a CNAME cannot be at the zone apex' },
    ]);
  });

  it('with the zone known, rejects names that grow over 255 octets once the zone is appended', () => {
    // 232 characters: `www` still fits below it, a 30-character label does not.
    const zoneName = `${'z'.repeat(63)}.${'y'.repeat(63)}.${'x'.repeat(63)}.${'w'.repeat(40)}`;
    const spec = {
      zone: 'z',
      name: 'www',
      mailServers: [
        { preference: 10, host: 'mx.example.net.' },
        { preference: 20, host: 'a-label-of-thirty-characters-x' },
      ],
    };
    assert.ok(validateSpec('MXRecord', spec).ok, 'without the zone nothing is known');
    const result = validateSpec('MXRecord', spec, { zoneName });
    assert.ok(!result.ok);
    assert.deepEqual(
      result.errors.map((issue) => issue.field),
      ['spec.mailServers[1].host'],
    );
    const apex = validateSpec(
      'MXRecord',
      { ...spec, name: '@', mailServers: [spec.mailServers[0]] },
      { zoneName },
    );
    assert.ok(apex.ok);
  });

  it('rejects a TXT value whose bytes cannot fit in one record', () => {
    const result = validateSpec('TXTRecord', {
      zone: 'z',
      name: 'a',
      values: ['😀'.repeat(16384)],
    });
    assert.ok(!result.ok);
    assert.equal(result.errors[0]?.field, 'spec.values[0]');
  });
});

describe('fieldPath', () => {
  it('turns a JSON pointer into the dotted form Kubernetes uses', () => {
    assert.equal(fieldPath('/spec/services/2/port'), 'spec.services[2].port');
    assert.equal(fieldPath('/mailServers/0', 'spec'), 'spec.mailServers[0]');
    assert.equal(fieldPath('/metadata/labels/a~1b'), 'metadata.labels.a/b');
    assert.equal(fieldPath(''), '');
  });
});

describe('address patterns', () => {
  const v4 = new RegExp(anchored(IPV4));
  const v6 = new RegExp(anchored(IPV6));

  it('the IPv6 pattern accepts every address fast-check generates', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => v6.test(address)),
      { numRuns: 2000 },
    );
  });

  it('the IPv6 pattern agrees with node:net on strings of IPv6 characters', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''));
    const candidate = fc.oneof(
      fc.string({ unit: chars, maxLength: 45 }),
      fc.ipV6().map((a) => a.replace(/:/, '::')),
      fc.ipV6().chain((a) => fc.nat(a.length).map((i) => a.slice(0, i) + a.slice(i + 1))),
    );
    fc.assert(
      fc.property(candidate, (s) => v6.test(s) === isIPv6(s)),
      { numRuns: 5000 },
    );
  });

  it('the IPv4 pattern agrees with node:net, which also refuses leading zeros', () => {
    const chars = fc.constantFrom(...'0123456789.'.split(''));
    const candidate = fc.oneof(fc.string({ unit: chars, maxLength: 16 }), fc.ipV4());
    fc.assert(
      fc.property(candidate, (s) => v4.test(s) === isIPv4(s)),
      { numRuns: 5000 },
    );
  });
});

describe('messages', () => {
  it('name the alternatives when a oneOf fails', () => {
    const both = mutate({
      kind: 'Bind9Instance',
      what: 'both',
      path: 'spec.zoneFiles.configMap',
      value: { name: 'zones', mountPath: '/zones' },
    });
    const result = validateResource('Bind9Instance', both);
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, [
      { field: 'spec.zoneFiles', message: 'must set exactly one of directory, configMap' },
    ]);
  });

  it('quote the rejected value and say what was expected', () => {
    const result = validateSpec('ARecord', { zone: 'z', name: 'a', ipv4Addresses: ['1.2.3'] });
    assert.ok(!result.ok);
    assert.equal(
      formatIssues(result.errors),
      'spec.ipv4Addresses[0]: "1.2.3" is not valid here: An IPv4 address.',
    );
  });
});

/** Every path of a JSON value, as `mutate` understands them (`spec.a[0].b`). */
function pathsOf(value: unknown, prefix: string): string[] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [`${prefix}[${i}]`, v] as const)
    : Object.entries(value)
        // Label keys such as dns.example.org/role cannot be written as a dotted path.
        .filter(([k]) => /^\w+$/.test(k))
        .map(([k, v]) => [`${prefix}.${k}`, v] as const);
  return [prefix, ...entries.flatMap(([path, v]) => pathsOf(v, path))];
}

describe('validateResource on arbitrary input', () => {
  it('returns a result, never throws, whatever JSON sits at any field of any kind', () => {
    const cases = KIND_NAMES.flatMap((kind) =>
      pathsOf(validExamples[kind].spec, 'spec').map((path) => ({ kind, path })),
    );
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.jsonValue(), ({ kind, path }, value) => {
        const result = validateResource(kind, mutate({ kind, what: 'fuzz', path, value }));
        return result.ok || result.errors.length > 0;
      }),
      { numRuns: 3000 },
    );
  });

  it('returns a result for any JSON value as a whole object', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KIND_NAMES), fc.jsonValue(), (kind, value) => {
        const result = validateResource(kind, value);
        return !result.ok && result.errors.length > 0;
      }),
      { numRuns: 500 },
    );
  });
});
