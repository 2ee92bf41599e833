import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timestampText } from '../../../test/harness/timestamp-text.ts';
import {
  type TimestampScratch,
  localTimeIsUtc,
  readTimestampText,
  timestampParts,
  timestampReader,
} from './model.ts';

/** What `readTimestampText` gives, as `timestampParts` would spell it; undefined when it declines. */
function fast(text: string, localUtc: boolean): { ms: number; micros: number; nanos: number } | undefined {
  const t: TimestampScratch = { ms: 0, micros: 0, nanos: 0 };
  return readTimestampText(text, localUtc, t) ? { ...t } : undefined;
}

describe('readTimestampText (the fast path of timestampParts)', () => {
  it('gives what timestampParts gives for every text it reads (random texts, fixed seed)', () => {
    const localUtc = localTimeIsUtc();
    let read = 0;
    fc.assert(
      fc.property(timestampText, (text) => {
        const got = fast(text, localUtc);
        if (got !== undefined) {
          read++;
          expect(got).toEqual(timestampParts(text));
          // Again, now with its day cached.
          expect(fast(text, localUtc)).toEqual(got);
        }
        // The reader formatters use agrees with timestampParts whether or not the fast path took it.
        expect(timestampReader()(text)).toEqual(timestampParts(text));
      }),
      { seed: 20261205, numRuns: 20_000 },
    );
    // The property is about the fast path: most texts must take it.
    expect(read).toBeGreaterThan(5000);
  });

  it('reads the common shapes itself', () => {
    expect(fast('2026-01-01 00:00:00Z', false)).toEqual({ ms: Date.UTC(2026, 0, 1), micros: 0, nanos: 0 });
    expect(fast('2024-02-29T23:59:59.123456789+05:30', false)).toEqual({
      ms: Date.UTC(2024, 1, 29, 18, 29, 59, 123),
      micros: 456,
      nanos: 789,
    });
    expect(fast('2026-03-04', false)).toEqual({ ms: Date.UTC(2026, 2, 4), micros: 0, nanos: 0 });
    expect(fast('2026-01-01 00:00:00.5', true)).toEqual({
      ms: Date.UTC(2026, 0, 1, 0, 0, 0, 500),
      micros: 0,
      nanos: 0,
    });
  });

  it('declines what it cannot read exactly as Date.parse does', () => {
    // Without an offset, Date.parse reads local time: only a UTC zone lets the fast path read it.
    expect(fast('2026-01-01 00:00:00', false)).toBeUndefined();
    expect(fast('2026-02-30 00:00:00Z', false)).toBeUndefined(); // Date.parse rolls it over to 2 March
    expect(fast('2023-02-29', false)).toBeUndefined();
    expect(fast('0050-01-01 00:00:00Z', false)).toBeUndefined(); // 1950 to Date.parse
    expect(fast('2026-01-01 24:00:00Z', false)).toBeUndefined();
    expect(fast('2026-01-01 00:00:00.1234567891Z', false)).toBeUndefined();
    expect(fast('2026-01-01 00:00:00+0530', false)).toBeUndefined();
    expect(fast('10000-01-01', false)).toBeUndefined();
  });
});
