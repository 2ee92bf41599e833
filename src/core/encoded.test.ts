import { describe, expect, it } from 'vitest';
import { type EncodedRows, encodedBatch, encodedOf, encodedRowsThatFit, sliceBatch } from './encoded.ts';

const text = new TextEncoder();
const rows = ['a\n', 'bb\n', 'ccc\n', 'dddd\n'];
const encoded = (error?: EncodedRows['error']): EncodedRows => {
  let at = 0;
  return { key: 'k', bytes: text.encode(rows.join('')), ends: Uint32Array.from(rows, (r) => (at += r.length)), ...(error && { error }) };
};
const decoded = (batch: readonly unknown[]) => new TextDecoder().decode(encodedOf(batch as never)!.bytes);

describe('encoded row batches', () => {
  it('count their rows (the refused one too) and carry their bytes', () => {
    const batch = encodedBatch(encoded());
    expect(batch.length).toBe(4);
    expect(decoded(batch)).toBe('a\nbb\nccc\ndddd\n');
    expect(encodedBatch(encoded({ index: 4, message: 'no' })).length).toBe(5);
    expect(encodedOf([{ a: 1 }])).toBeUndefined();
  });

  it('slice by row, as a split takes them', () => {
    const batch = encodedBatch(encoded({ index: 4, message: 'no' }));
    expect(decoded(sliceBatch(batch, 1, 3))).toBe('bb\nccc\n');
    expect([...encodedOf(sliceBatch(batch, 1, 3))!.ends]).toEqual([3, 7]);
    expect(sliceBatch(batch, 1, 3).length).toBe(2);
    const tail = sliceBatch(batch, 3, 5);
    expect(decoded(tail)).toBe('dddd\n');
    expect(encodedOf(tail)!.error).toEqual({ index: 1, message: 'no' });
    expect(encodedOf(sliceBatch(batch, 4, 5))!.error).toEqual({ index: 0, message: 'no' });
    expect(sliceBatch(batch, 0, 0).length).toBe(0);
    expect(sliceBatch([{ a: 1 }, { a: 2 }], 1, 2)).toEqual([{ a: 2 }]);
  });

  it('fit a byte limit row by row; the first row of a file always', () => {
    expect(encodedRowsThatFit(encoded(), 'k', 'f', Number.POSITIVE_INFINITY, false)).toBe(4);
    expect(encodedRowsThatFit(encoded(), 'k', 'f', 9, false)).toBe(3);
    expect(encodedRowsThatFit(encoded(), 'k', 'f', 8, false)).toBe(2);
    expect(encodedRowsThatFit(encoded(), 'k', 'f', 1, false)).toBe(0);
    expect(encodedRowsThatFit(encoded(), 'k', 'f', 1, true)).toBe(1);
    expect(() => encodedRowsThatFit(encoded(), 'other', 'format/csv', 9, false)).toThrow(/format\/csv: rows encoded for another/);
  });
});
