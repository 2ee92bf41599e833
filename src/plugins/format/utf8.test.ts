import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalScale, formatDouble, Utf8Chunks } from './utf8.ts';

const decoder = new TextDecoder();
const written = (write: (out: Utf8Chunks) => void, chunkBytes = 16): string => {
  const out = new Utf8Chunks(chunkBytes);
  write(out);
  return decoder.decode(out.take());
};

/** Edge values, families of decimals, and doubles from random bits and random magnitudes. */
function doubles(): number[] {
  const bits = new Float64Array(1);
  const bytes = new Uint8Array(bits.buffer);
  const cases: number[] = [
    0,
    -0,
    1e-6,
    9.99e-7,
    1e-7,
    1e15,
    999999999999999.9,
    1e21,
    -1.5,
    0.1 + 0.2,
    5e-324,
    Number.MAX_VALUE,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 53,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    123456789012345 + 0.125, // a tie at 17 digits
    0.0000015,
  ];
  for (let i = 0; i < 50_000; i++)
    cases.push(i * 0.37, i / 3, -i * 1.1, i * 1e-5, ((i * 7919) % 1e9) / 1000, i / 100, -i / 1000);
  for (let i = 0; i < 200_000; i++) {
    for (let b = 0; b < 8; b++) bytes[b] = Math.floor(Math.random() * 256);
    cases.push(
      bits[0]!,
      Math.random() * 10 ** Math.floor(Math.random() * 30 - 10),
      Math.round(Math.random() * 1e6) / 10 ** Math.floor(Math.random() * 12),
    );
  }
  return cases;
}

describe('formatDouble and Utf8Chunks.double', () => {
  const cases = doubles();

  /** String(x), except -0, which both write as -0.0 so its sign survives readers that type by text. */
  const reference = (x: number) => (Object.is(x, -0) ? '-0.0' : String(x));

  it('print exactly what String() prints (-0 as -0.0), for families of decimals and 600,000 random doubles', () => {
    expect(cases.filter((x) => formatDouble(x) !== reference(x)).slice(0, 5)).toEqual([]);
    const out = new Utf8Chunks(64 * 1024);
    for (const x of cases) {
      out.double(x);
      out.byte(10);
    }
    const lines = decoder.decode(out.take()).split('\n');
    expect(lines.length).toBe(cases.length + 1);
    expect(cases.filter((x, i) => lines[i] !== reference(x)).slice(0, 5)).toEqual([]);
    expect(cases.some((x) => Object.is(x, -0))).toBe(true);
  });

  it('finds the shortest decimal with at most 15 significant digits, and only those', () => {
    expect(decimalScale(0.37)).toBe(2);
    expect(decimalScale(1.5)).toBe(1);
    expect(decimalScale(0.000001)).toBe(6);
    expect(decimalScale(123456789.123456)).toBe(6);
    expect(decimalScale(3)).toBe(-1);
    expect(decimalScale(0.1 + 0.2)).toBe(-1); // 0.30000000000000004: 17 digits
    expect(decimalScale(1 / 3)).toBe(-1); // 16 digits
  });
});

describe('Utf8Chunks', () => {
  it('writes safe integers as String() does', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(written((out) => out.int(n))).toBe(String(n));
      }),
      { numRuns: 5_000 },
    );
    for (const n of [0, -0, 9, 10, 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1)])
      expect(written((out) => out.int(n))).toBe(String(n));
  });

  it('writes text as TextEncoder does, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme-ascii' }), (a, b) => {
        const text = b + a;
        const out = new Utf8Chunks(8);
        out.text(text);
        expect(out.take()).toEqual(new TextEncoder().encode(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('writes ISO 8601 instants and dates as toISOString does, from year 0 to 9999', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0000-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (d) => {
          expect(written((out) => out.iso(d, 24))).toBe(d.toISOString());
          expect(written((out) => out.iso(d, 10))).toBe(d.toISOString().slice(0, 10));
        },
      ),
      { numRuns: 10_000 },
    );
    // Consecutive instants reuse the cached day: across midnight, and before 1970.
    const out = new Utf8Chunks();
    const times = [-1, 0, 86_399_999, 86_400_000, -86_400_001, Date.UTC(2024, 1, 29, 23, 59, 59, 999)];
    for (const t of times) {
      expect(out.iso(new Date(t), 24)).toBe(true);
      out.byte(32);
    }
    expect(decoder.decode(out.take())).toBe(times.map((t) => `${new Date(t).toISOString()} `).join(''));
  });

  it('writes nothing for instants outside years 0000–9999 or invalid dates', () => {
    const out = new Utf8Chunks();
    expect(out.iso(new Date(Date.UTC(10000, 0, 1)), 24)).toBe(false);
    expect(out.iso(new Date(-62_167_219_200_001), 24)).toBe(false);
    expect(out.iso(new Date(Number.NaN), 10)).toBe(false);
    expect(out.pos).toBe(0);
  });

  it('grows past the chunk size for long values and hands over each chunk once', () => {
    const out = new Utf8Chunks(4);
    expect(out.full).toBe(false);
    out.text('é'.repeat(100));
    expect(out.full).toBe(true);
    const first = out.take();
    expect(decoder.decode(first)).toBe('é'.repeat(100));
    out.text('next');
    expect(decoder.decode(first)).toBe('é'.repeat(100)); // not overwritten by later writes
    expect(decoder.decode(out.take())).toBe('next');
    expect(out.pos).toBe(0);
  });
});
