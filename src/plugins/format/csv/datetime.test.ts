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
