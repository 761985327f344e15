import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../errors.ts';
import {
  type NamedConfInput,
  POD_LISTEN,
  renderNamedConf,
  validateAddressMatch,
} from './named-conf.ts';

const base: NamedConfInput = {
  role: 'primary',
  owner: 'dns/edge',
  tsigKey: { name: 'edge-tsig', file: '/etc/bind/keys/tsig/keyfile' },
  rndcKey: { name: 'edge-rndc', file: '/etc/bind/keys/rndc/keyfile' },
  directory: '/var/lib/bind',
  listen: POD_LISTEN,
  notify: [
    { address: '10.96.0.11', port: 53 },
    { address: 'fd00::12', port: 53 },
  ],
  options: { recursion: false, allowQuery: ['any'] },
};

function field(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error.field;
  }
  assert.fail('no ValidationError');
}

describe('renderNamedConf', () => {
  it('gives a primary what the controller relies on: new zones, the control channel, signed transfers and NOTIFY', () => {
    const { text } = renderNamedConf(base);
    assert.match(text, /^include "\/etc\/bind\/keys\/tsig\/keyfile";$/m);
    assert.match(text, /^ {2}allow-new-zones yes;$/m);
    assert.match(text, /^ {2}new-zones-directory "\/var\/lib\/bind";$/m);
    assert.match(
      text,
      /^controls \{ inet \* port 953 allow \{ any; \} keys \{ "edge-rndc"; \}; \};$/m,
    );
    assert.match(text, /^ {2}allow-transfer \{ key "edge-tsig"; \};$/m);
    assert.match(text, /^ {2}allow-query \{ key "edge-tsig"; any; \};$/m);
    assert.match(text, /^ {2}notify explicit;$/m);
    assert.match(
      text,
      /^ {2}also-notify \{ 10\.96\.0\.11 port 53 key "edge-tsig"; fd00::12 port 53 key "edge-tsig"; \};$/m,
    );
    assert.match(text, /^ {2}recursion no;$/m);
    assert.doesNotMatch(text, /rate-limit/);
  });

  it('makes a secondary notify no one and accept NOTIFY signed with the key', () => {
    const { text } = renderNamedConf({ ...base, role: 'secondary', notify: [] });
    assert.match(text, /^ {2}notify no;$/m);
    assert.match(text, /^ {2}allow-notify \{ key "edge-tsig"; \};$/m);
    assert.doesNotMatch(text, /also-notify/);
  });

  it('sends no NOTIFY from a primary without secondaries', () => {
    const { text } = renderNamedConf({ ...base, notify: [] });
    assert.match(text, /^ {2}notify no;$/m);
    assert.doesNotMatch(text, /also-notify|notify explicit/);
  });

  it('renders every option: recursion, allow-query in order, rate limiting', () => {
    const { text } = renderNamedConf({
      ...base,
      options: {
        recursion: true,
        allowQuery: ['!192.0.2.66', '192.0.2.0/24', 'localhost'],
        rateLimit: {
          responsesPerSecond: 10,
          nxdomainsPerSecond: 5,
          errorsPerSecond: 0,
          window: 5,
          slip: 0,
          logOnly: true,
          exemptClients: ['10.0.0.0/8'],
        },
      },
    });
    assert.match(text, /^ {2}recursion yes;$/m);
    assert.match(
      text,
      /allow-query \{ key "edge-tsig"; !192\.0\.2\.66; 192\.0\.2\.0\/24; localhost; \};/,
    );
    assert.match(
      text,
      / {2}rate-limit \{\n {4}responses-per-second 10;\n {4}nxdomains-per-second 5;\n {4}errors-per-second 0;\n {4}window 5;\n {4}slip 0;\n {4}log-only yes;\n {4}exempt-clients \{ 10\.0\.0\.0\/8; \};\n {2}\};/,
    );
  });

  it('names the rendering in server-id: the same input gives the same id, any change another', () => {
    const first = renderNamedConf(base);
    assert.equal(renderNamedConf(structuredClone(base)).configId, first.configId);
    assert.match(first.text, new RegExp(`^ {2}server-id "${first.configId}";$`, 'm'));
    const changed = [
      renderNamedConf({ ...base, options: { ...base.options, allowQuery: ['10.0.0.0/8'] } }),
      renderNamedConf({ ...base, notify: base.notify?.slice(1) }),
      renderNamedConf({ ...base, role: 'secondary' }),
    ];
    for (const other of changed) assert.notEqual(other.configId, first.configId);
  });

  it('refuses every value that could end a statement or open a block, naming the field', () => {
    const inject = 'any; }; include "/etc/passwd';
    assert.equal(
      field(() => renderNamedConf({ ...base, options: { ...base.options, allowQuery: [inject] } })),
      'allowQuery[0]',
    );
    assert.equal(
      field(() => renderNamedConf({ ...base, tsigKey: { ...base.tsigKey, name: 'k"; };' } })),
      'key name',
    );
    assert.equal(
      field(() => renderNamedConf({ ...base, directory: '/var/lib/bind"; };' })),
      'directory',
    );
    assert.equal(
      field(() => renderNamedConf({ ...base, notify: [{ address: 'ns1.example.', port: 53 }] })),
      'notify[0].address',
    );
    assert.equal(
      field(() =>
        renderNamedConf({
          ...base,
          options: {
            ...base.options,
            rateLimit: { responsesPerSecond: 1001, window: 15, slip: 2, logOnly: false },
          },
        }),
      ),
      'rateLimit.responsesPerSecond',
    );
    assert.equal(
      field(() => renderNamedConf({ ...base, options: { ...base.options, allowQuery: [] } })),
      'allowQuery',
    );
  });
});

describe('validateAddressMatch', () => {
  it('accepts the built-in lists, addresses and prefixes, each optionally negated', () => {
    for (const ok of [
      'any',
      '!none',
      'localhost',
      'localnets',
      '10.0.0.0/8',
      '!192.0.2.1',
      '::1',
      '2001:db8::/32',
      '0.0.0.0/0',
    ]) {
      assert.equal(validateAddressMatch(ok, 'f'), ok);
    }
  });

  it('refuses names, bad prefixes and anything with punctuation', () => {
    for (const bad of [
      '',
      '!',
      'key k',
      'ns1.example.com',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/8/8',
      '!!any',
      'any;',
      '10.0.0.1 ',
      'any/8',
    ]) {
      assert.throws(() => validateAddressMatch(bad, 'f'), ValidationError, bad);
    }
  });
});
