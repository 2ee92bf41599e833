import { describe, expect, it } from 'vitest';
import { closest, didYouMean, distance } from './suggest.ts';

describe('did you mean', () => {
  it('counts edits, transpositions as one, ignoring case', () => {
    expect(distance('contry', 'country')).toBe(1);
    expect(distance('ouptut', 'output')).toBe(1);
    expect(distance('Daily', 'daily')).toBe(0);
    expect(distance('kitten', 'sitting')).toBe(3);
    expect(distance('abc', 'abcdefgh', 2)).toBe(3);
  });

  it('suggests the closest known name only when it is a likely typo', () => {
    expect(closest('format/csvv', ['format/json', 'format/csv', 'format/parquet'])).toBe('format/csv');
    expect(closest('contry', ['city', 'country', 'count'])).toBe('country');
    expect(closest('zzz', ['country', 'city'])).toBeUndefined();
    expect(closest('country', ['country'])).toBeUndefined();
    expect(didYouMean('dayly', ['daily', 'weekly'])).toBe(' (did you mean "daily"?)');
    expect(didYouMean('x', ['daily'])).toBe('');
  });
});
