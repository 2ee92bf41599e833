import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.ts';

const nested = (n: number) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`);

describe('jsonDepthExceeds', () => {
  it('counts objects and lists, the value itself as level 1', () => {
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonDepthExceeds({ a: { b: [1, { c: 2 }] } }, 4)).toBe(false);
    expect(jsonDepthExceeds({ a: { b: [1, { c: [] }] } }, 4)).toBe(true);
    expect(jsonDepthExceeds('text', 0)).toBe(false);
  });

  it('walks a value far deeper than the stack allows without overflowing', () => {
    expect(jsonDepthExceeds(nested(100_000))).toBe(true);
  });
});
