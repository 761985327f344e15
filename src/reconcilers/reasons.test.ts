import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  KeyRefusedError,
  PermanentError,
  TransientError,
  TsigBadKeyError,
  TsigBadSigError,
} from '../errors.ts';
import { KubePermanentError, KubeTransientError } from '../kube/rest.ts';
import { isKeyRejection, isRepairable, reasonFor } from './reasons.ts';

describe('reasonFor', () => {
  it('names TSIG failures by what to fix', () => {
    assert.equal(reasonFor(new TsigBadSigError('bad sig', 'server')).reason, 'TsigBadSig');
    assert.equal(reasonFor(new TsigBadKeyError('bad key', 'server')).reason, 'TsigBadKey');
  });

  it('calls every transient failure InstanceUnreachable, unknown errors included', () => {
    assert.equal(
      reasonFor(new TransientError('TIMEOUT', 'timed out')).reason,
      'InstanceUnreachable',
    );
    assert.equal(reasonFor(new Error('boom')).reason, 'InstanceUnreachable');
  });

  it("names the API server's own failures, not the instance's", () => {
    const down = new KubeTransientError(
      'KUBE_UNREACHABLE',
      'PATCH /apis/...: no response (ECONNREFUSED)',
    );
    const busy = new KubeTransientError('HTTP_429', 'PATCH /apis/...: HTTP 429', { status: 429 });
    const timeout = new KubeTransientError('TIMEOUT', 'GET /api/...: timed out after 30000 ms');
    for (const error of [down, busy, timeout]) {
      assert.equal(reasonFor(error).reason, 'ApiServerUnavailable');
    }
    const forbidden = new KubePermanentError('HTTP_403', 'HTTP 403 Forbidden', { status: 403 });
    assert.equal(reasonFor(forbidden).reason, 'ApiServerRefused');
    // A DNS timeout is still the instance's.
    assert.equal(
      reasonFor(new TransientError('TIMEOUT', 'timed out')).reason,
      'InstanceUnreachable',
    );
  });

  it('maps missing Secrets and refusals to their own reasons', () => {
    assert.equal(reasonFor(new PermanentError('SecretNotFound', 'x')).reason, 'SecretNotFound');
    assert.equal(reasonFor(new PermanentError('REFUSED', 'x')).reason, 'Refused');
  });

  it('reads a bare NOTAUTH as a zone named does not serve, retried, not as a key problem', () => {
    const notServed = new PermanentError('NOTAUTH', 'not authoritative');
    assert.equal(reasonFor(notServed).reason, 'ZoneNotServed');
    assert.ok(isRepairable(notServed));
    assert.ok(!isKeyRejection(notServed));
    assert.ok(!isRepairable(new TsigBadKeyError('bad key', 'server')));
    assert.ok(!isRepairable(new PermanentError('REFUSED', 'x')));
  });

  it('names a key the server would not let do the request KeyRefused, and re-reads the key', () => {
    const refused = new KeyRefusedError('update', 'may not update');
    assert.equal(reasonFor(refused).reason, 'KeyRefused');
    assert.equal(reasonFor(refused).message, 'may not update');
    assert.ok(isKeyRejection(refused));
    assert.ok(!isRepairable(refused));
  });

  it('names a secondary behind its primaries TransferPending, not InstanceUnreachable', () => {
    assert.equal(reasonFor(new TransientError('TransferPending', 'x')).reason, 'TransferPending');
  });

  it('asks for keys to be re-read only when a key was rejected', () => {
    assert.ok(isKeyRejection(new TsigBadSigError('x', 'server')));
    assert.ok(isKeyRejection(new PermanentError('RNDC_AUTH', 'x')));
    assert.ok(!isKeyRejection(new TransientError('TIMEOUT', 'x')));
  });
});
