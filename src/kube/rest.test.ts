import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dispositionOf } from '../errors.ts';
import { isConflict as clientIsConflict, httpStatus } from './client.ts';
import {
  encodeQuery,
  errorForStatus,
  isConflict,
  isGone,
  isNotFound,
  parseRetryAfter,
  resourcePath,
} from './rest.ts';

describe('errorForStatus', () => {
  it('sorts 5xx, 408, 409 and 429 as transient and other 4xx as permanent', () => {
    for (const s of [500, 503, 408, 409, 429])
      assert.equal(dispositionOf(errorForStatus('x', s, undefined)), 'transient', String(s));
    for (const s of [400, 401, 403, 404, 410, 415, 422])
      assert.equal(dispositionOf(errorForStatus('x', s, undefined)), 'permanent', String(s));
  });

  it('keeps the Status reason and message, and the status for isNotFound/isConflict/isGone', () => {
    const e = errorForStatus('GET /api/v1/namespaces/a/secrets/b', 404, {
      reason: 'NotFound',
      message: 'secrets "b" not found',
    });
    assert.equal(e.reason, 'NotFound');
    assert.equal(e.code, 'HTTP_404');
    assert.match(e.message, /HTTP 404 NotFound: secrets "b" not found/);
    assert.ok(isNotFound(e) && !isConflict(e) && !isGone(e));
    assert.ok(isGone(errorForStatus('x', 410, { reason: 'Expired' })));
  });

  it('exposes statusCode, so the existing client.ts helpers recognise our errors', () => {
    const e = errorForStatus('x', 409, { reason: 'Conflict' });
    assert.equal(httpStatus(e), 409);
    assert.ok(clientIsConflict(e));
  });

  it('reports Retry-After only as a number of seconds', () => {
    assert.equal(errorForStatus('x', 429, undefined, 7).retryAfterSeconds, 7);
    assert.equal(parseRetryAfter('12'), 12);
    assert.equal(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
      10,
    );
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
});

describe('paths and queries', () => {
  it('builds core and group paths with namespaces, names and subresources, escaped', () => {
    assert.equal(
      resourcePath({ version: 'v1', plural: 'secrets', namespace: 'a', name: 'b' }),
      '/api/v1/namespaces/a/secrets/b',
    );
    assert.equal(
      resourcePath({
        group: 'dns.bind9-controller.io',
        version: 'v1alpha1',
        plural: 'arecords',
        namespace: 'n',
        name: 'x',
        subresource: 'status',
      }),
      '/apis/dns.bind9-controller.io/v1alpha1/namespaces/n/arecords/x/status',
    );
    assert.equal(resourcePath({ group: 'g', version: 'v', plural: 'p' }), '/apis/g/v/p');
    assert.equal(
      resourcePath({ version: 'v1', plural: 'configmaps', namespace: 'a/b', name: 'c d' }),
      '/api/v1/namespaces/a%2Fb/configmaps/c%20d',
    );
  });

  it('drops undefined query values and escapes the rest', () => {
    assert.equal(
      encodeQuery({ limit: 500, continue: undefined, labelSelector: 'a=b,c in (d)' }),
      '?limit=500&labelSelector=a%3Db%2Cc+in+%28d%29',
    );
    assert.equal(encodeQuery({}), '');
  });
});
