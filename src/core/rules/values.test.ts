import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareValues, equalValues, exists, toTime } from './values.ts';

const anyDate = fc.date({
  min: new Date('0000-01-01T00:00:00Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
  noInvalidDate: true,
});

describe('toTime', () => {
  it('agrees with the engine Date on every ISO form it accepts', () => {
    fc.assert(
      fc.property(anyDate, fc.integer({ min: -14 * 60, max: 14 * 60 }), (d, offset) => {
        const iso = d.toISOString();
        const midnight = new Date(d);
        midnight.setUTCHours(0, 0, 0, 0);
        expect(toTime(iso)).toBe(d.getTime());
        expect(toTime(iso.slice(0, 19))).toBe(Math.floor(d.getTime() / 1000) * 1000);
        expect(toTime(iso.slice(0, 16))).toBe(Math.floor(d.getTime() / 60_000) * 60_000);
        expect(toTime(iso.slice(0, 10))).toBe(midnight.getTime());
        const a = Math.abs(offset);
        const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
        expect(toTime(`${iso.slice(0, 23)}${zone}`)).toBe(d.getTime() - offset * 60_000);
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2024-01-01T10:00:00.5Z', Date.UTC(2024, 0, 1, 10, 0, 0, 500)],
    ['2024-01-01T10:00:00.123456789Z', Date.UTC(2024, 0, 1, 10, 0, 0, 123)],
    ['2024-01-01T10:00:00', Date.UTC(2024, 0, 1, 10)],
    [1_700_000_000_000, 1_700_000_000_000],
    [new Date(5), 5],
  ])('reads %j', (input, ms) => {
    expect(toTime(input)).toBe(ms);
  });

  it.each([
    '2023-02-29',
    '1900-02-29',
    '2024-04-31',
    '2024-13-01',
    '2024-00-10',
    '2024-01-01T24:00:00Z',
    '2024-01-01T10:60Z',
    '2024-01-01T10:00:60Z',
    '2024-01-01T10:00:00+24:00',
    '2024-01-01 10:00:00',
    '2024-1-1',
    'yesterday',
    '',
  ])('refuses %j', (input) => {
    expect(toTime(input)).toBeNaN();
  });

  it('refuses non-time values', () => {
    for (const v of [null, undefined, true, {}, [], new Date('x')]) expect(toTime(v)).toBeNaN();
  });
});

describe('scalar comparison', () => {
  it.each([
    [1, 1, true],
    [1, '1', false],
    ['a', 'a', true],
    [true, true, true],
    [null, null, false],
    [undefined, undefined, false],
    [{}, {}, false],
    [new Date(0), new Date(0), true],
    [new Date(0), '1970-01-01T00:00:00Z', true],
    [new Date(0), 0, false],
    [new Date(0), 'x', false],
  ])('equalValues(%j, %j) = %s', (a, b, expected) => {
    expect(equalValues(a, b)).toBe(expected);
    expect(equalValues(b, a)).toBe(expected);
  });

  it('orders only comparable pairs', () => {
    expect(compareValues(1, 2)).toBeLessThan(0);
    expect(compareValues('b', 'a')).toBeGreaterThan(0);
    expect(compareValues(new Date(10), '1970-01-01T00:00:00Z')).toBe(10);
    expect(compareValues(1, '2')).toBeNaN();
    expect(compareValues(true, false)).toBeNaN();
  });

  it('exists only for present, non-null values and lists with one', () => {
    expect([0, '', false, [null, 0]].every(exists)).toBe(true);
    expect([null, undefined, [], [null, undefined]].some(exists)).toBe(false);
  });
});
