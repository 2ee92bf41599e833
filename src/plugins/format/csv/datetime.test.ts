import { describe, expect, it } from 'vitest';
import { compilePattern, patternProblem } from './datetime.ts';

const at = new Date(Date.UTC(2024, 1, 29, 15, 4, 5, 67));

describe('compilePattern', () => {
  it.each([
    ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", '2024-02-29T15:04:05.067Z'],
    ['yyyy-MM-dd', '2024-02-29'],
    ['dd/MM/yy HH:mm', '29/02/24 15:04'],
    ['EEE, d MMM yyyy hh:mm:ss a', 'Thu, 29 Feb 2024 03:04:05 PM'],
    ['EEEE MMMM', 'Thursday February'],
    ['D', '60'],
    ['yyyyMMddHHmmssSSS', '20240229150405067'],
    ['S SS SSSSSS', '0 06 067000'],
    ['x xx xxx Z z', '+00 +0000 +00:00 +0000 UTC'],
    ["'at' HH 'o''clock' ''", "at 15 o'clock '"],
    ['k K', '15 3'],
  ])('%s', (pattern, expected) => {
    expect(compilePattern(pattern)(at)).toBe(expected);
  });

  it('matches toISOString for the default timestamp pattern, before and after 1970', () => {
    const f = compilePattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    for (const t of [
      0,
      -1,
      -86_400_000,
      951_782_400_000,
      253_402_300_799_999,
      -62_135_596_800_000,
      1e12 + 7,
    ]) {
      expect(f(new Date(t))).toBe(new Date(t).toISOString());
    }
  });

  it('reports unknown letters and unterminated literals', () => {
    expect(patternProblem('yyyy-qq')).toBe("unknown pattern letter 'q' at position 6");
    expect(patternProblem("yyyy 'oops")).toMatch(/unterminated quoted literal/);
    expect(patternProblem('HH:mm')).toBeNull();
  });
});

describe('the ISO fast path of the default patterns', () => {
  it('prints what the general formatter prints, years 0–9999 and around both ends', () => {
    // The same output spelled differently, so the general formatter runs.
    const general: Record<string, string> = {
      "yyyy-MM-dd'T'HH:mm:ss.SSSXXX": "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
      'yyyy-MM-dd': "yyyy'-'MM-dd",
    };
    const cases = [-62_167_219_200_000, 0, -1, 253_402_300_799_999, 253_402_300_800_000];
    for (let i = 0; i < 20_000; i++) cases.push(Math.floor(-6.2e13 + Math.random() * 3.2e14));
    for (const pattern of ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", 'yyyy-MM-dd']) {
      const fast = compilePattern(pattern);
      const slow = compilePattern(general[pattern]!);
      const wrong = cases.filter((t) => fast(new Date(t)) !== slow(new Date(t)));
      expect(wrong.map((t) => [t, fast(new Date(t)), slow(new Date(t))]).slice(0, 3)).toEqual([]);
    }
  });
});
