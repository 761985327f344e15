import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../errors.ts';
import { NdjsonSplitter } from './watch.ts';

/** Splits `bytes` at the given cut points (any positions, including inside characters). */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  return chunks;
}

function feed(chunks: Buffer[]): unknown[] {
  const splitter = new NdjsonSplitter();
  const out: unknown[] = [];
  for (const c of chunks) out.push(...splitter.push(c));
  out.push(...splitter.end());
  return out;
}

// Objects with multi-byte text (accents, CJK, emoji as surrogate pairs) in names and data.
const event = fc.record({
  type: fc.constantFrom('ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK'),
  object: fc.record({
    metadata: fc.record({
      name: fc.string({ unit: 'grapheme' }),
      resourceVersion: fc.nat().map(String),
    }),
    data: fc.dictionary(fc.string(), fc.string({ unit: 'grapheme' })),
  }),
});

describe('NdjsonSplitter', () => {
  it('gives the same events however the stream is chunked, multi-byte splits included', () => {
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.boolean(),
        (events, cuts, finalNewline) => {
          const text = events.map((e) => JSON.stringify(e)).join('\n') + (finalNewline ? '\n' : '');
          const bytes = Buffer.from(text, 'utf8');
          // Compared as plain JSON values (the arbitraries build null-prototype objects).
          assert.deepEqual(
            feed(chunk(bytes, cuts)),
            JSON.parse(`[${events.map((e) => JSON.stringify(e)).join(',')}]`),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes a character split across three chunks', () => {
    const bytes = Buffer.from('{"name":"€"}\n', 'utf8');
    const at = bytes.indexOf(0xe2);
    assert.deepEqual(feed(chunk(bytes, [at + 1, at + 2])), [{ name: '€' }]);
  });

  it('skips blank lines and carriage returns', () => {
    assert.deepEqual(feed([Buffer.from('\n{"a":1}\r\n\n{"b":2}\n')]), [{ a: 1 }, { b: 2 }]);
  });

  it('raises DecodeError for a line that is not JSON, or not UTF-8', () => {
    assert.throws(() => feed([Buffer.from('{"a":\n')]), DecodeError);
    assert.throws(() => feed([Buffer.from([0x7b, 0xff, 0x7d, 0x0a])]), DecodeError);
  });

  it('raises DecodeError for a line longer than its bound instead of buffering it', () => {
    const splitter = new NdjsonSplitter(16);
    splitter.push(Buffer.from('{"abc":'));
    assert.throws(() => splitter.push(Buffer.from('"0123456789"')), DecodeError);
  });
});
