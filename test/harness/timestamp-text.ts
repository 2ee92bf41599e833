/** Random timestamp text for the property tests of the timestamp fast paths (a fixed seed is theirs to give). */
import fc from 'fast-check';

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Timestamp text in and around the shapes `readTimestampText` reads: years from 0 to 10999,
 * months 0–13, days 0–32 (2026-02-30, 31 April, 29 February of leap and common years), hours up
 * to 24, both separators and a lower-case one, fractions of 0–12 digits (or a bare dot or comma),
 * no offset, Z, ±hh:mm up to 24:00, a compact offset, a stray space.
 */
export const timestampText = fc
  .record({
    year: fc.oneof(
      fc.integer({ min: 1000, max: 9999 }),
      fc.integer({ min: 0, max: 10_999 }),
      fc.constantFrom(1600, 1900, 2000, 2024, 2100),
    ),
    month: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 13 })),
    day: fc.oneof(fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 32 })),
    dateOnly: fc.boolean(),
    sep: fc.constantFrom(' ', 'T', 't', '  '),
    hour: fc.oneof(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 25 })),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
    fraction: fc.oneof(
      fc.constant(''),
      fc.stringMatching(/^\.\d{1,12}$/),
      fc.constantFrom('.', ',5', '.000', '.5', '.000001', '.123456789', '.1234567891'),
    ),
    offset: fc.oneof(
      fc.constant(''),
      fc.constant('Z'),
      fc
        .record({
          sign: fc.constantFrom('+', '-'),
          h: fc.integer({ min: 0, max: 24 }),
          m: fc.integer({ min: 0, max: 60 }),
        })
        .map(({ sign, h, m }) => `${sign}${pad(h, 2)}:${pad(m, 2)}`),
      fc.constantFrom('+0530', ' Z', 'z', '+05', 'UTC', ' '),
    ),
  })
  .map((p) => {
    const date = `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
    return p.dateOnly
      ? date
      : `${date}${p.sep}${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${p.fraction}${p.offset}`;
  });
