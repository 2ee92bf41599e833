import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import type { Schema } from '../../../core/types.ts';
import { resolveConfig, rowEncoder, stringEncoder } from './encoder.ts';
import { type CsvOptionsInput, csvOptions } from './options.ts';

const config = (o: CsvOptionsInput = {}) => resolveConfig(v.parse(csvOptions, o));
const field = (s: string, o: CsvOptionsInput = {}) => stringEncoder(config(o))(s);

describe('stringEncoder (Spark/univocity rules)', () => {
  it('leaves plain values alone and quotes delimiters and line breaks', () => {
    expect(field('plain')).toBe('plain');
    expect(field('a,b')).toBe('"a,b"');
    expect(field('a\nb')).toBe('"a\nb"');
    expect(field('a\rb')).toBe('"a\rb"');
    expect(field('a;b', { delimiter: ';' })).toBe('"a;b"');
    expect(field('a,b', { delimiter: ';' })).toBe('a,b');
  });

  it('escapes quotes and backslashes with the backslash by default', () => {
    expect(field('say "hi"')).toBe('"say \\"hi\\""');
    expect(field('back\\slash')).toBe('"back\\\\slash"');
    expect(field('\\"')).toBe('"\\\\\\""');
  });

  it('doubles quotes when escape equals quote (RFC 4180), backslashes untouched', () => {
    expect(field('say "hi"', { escape: '"' })).toBe('"say ""hi"""');
    expect(field('back\\slash', { escape: '"' })).toBe('back\\slash');
  });

  it('uses another escape character and escapes it with charToEscapeQuoteEscaping', () => {
    expect(field(`it's "x"`, { escape: "'" })).toBe(`"it''s '"x'""`);
    expect(field('a\\b"c', { charToEscapeQuoteEscaping: '#' })).toBe('"a#\\b\\"c"');
    expect(field('a\\b"c', { charToEscapeQuoteEscaping: '' })).toBe('"a\\b\\"c"');
  });

  it('with escapeQuotes off, a quote alone does not trigger quoting', () => {
    expect(field('say "hi"', { escapeQuotes: false })).toBe('say "hi"');
    expect(field('"starts', { escapeQuotes: false })).toBe('"\\"starts"');
    expect(field('a "b", c', { escapeQuotes: false })).toBe('"a \\"b\\", c"');
  });

  it('quoteAll quotes every non-empty value', () => {
    expect(field('x', { quoteAll: true })).toBe('"x"');
    expect(field('', { quoteAll: true })).toBe('""');
  });

  it('writes values raw when quoting is disabled', () => {
    expect(field('a;"b"\\', { quote: '', nullValue: 'NULL' })).toBe('a;"b"\\');
    expect(field('', { quote: '', nullValue: 'NULL' })).toBe('');
  });

  it('quotes a value whose text is that of nullValue or emptyValue, so it is not read back as null or empty', () => {
    expect(field('NULL', { nullValue: 'NULL' })).toBe('"NULL"');
    expect(field(' NULL ', { nullValue: 'NULL' })).toBe('"NULL"');
    expect(field('\\N', { nullValue: '\\N' })).toBe('"\\\\N"');
    expect(field('\\N', { nullValue: '\\N', escape: '"' })).toBe('"\\N"');
    expect(field('EMPTY', { emptyValue: 'EMPTY' })).toBe('"EMPTY"');
    expect(field('NULLS', { nullValue: 'NULL' })).toBe('NULLS');
    // The defaults: null is nothing, the empty string is "", so '' and '""' stay apart.
    expect(field('')).toBe('""');
    expect(field('""')).toBe('"\\"\\""');
  });

  it('refuses, with quoting disabled, a value a reader would take for null, empty or two values', () => {
    const off = { quote: '', nullValue: 'NULL', emptyValue: 'EMPTY' };
    expect(() => field('NULL', off)).toThrow(/"NULL" equals nullValue, so a reader would read it as null/);
    expect(() => field(' NULL', off)).toThrow(/equals nullValue/);
    expect(() => field('EMPTY', off)).toThrow(
      /"EMPTY" equals emptyValue, so a reader would read it as an empty/,
    );
    expect(() => field('a,b', off)).toThrow(/holds the delimiter or a line break.*quote: ""/);
    expect(() => field('a\nb', off)).toThrow(/holds the delimiter or a line break/);
    expect(field('a"b\\', off)).toBe('a"b\\');
    expect(stringEncoder(config(off), true)('a,b')).toBe('a,b');
  });

  it('trims U+0001–U+0020 on the sides asked for, and a blank value becomes emptyValue', () => {
    expect(field(' \t x \n')).toBe('x');
    expect(field('  x  ', { ignoreLeadingWhiteSpace: false })).toBe('  x');
    expect(field('  x  ', { ignoreTrailingWhiteSpace: false })).toBe('x  ');
    expect(field('\u00a0x\u00a0')).toBe('\u00a0x\u00a0');
    expect(field('   ')).toBe('""');
    expect(field('   ', { emptyValue: 'EMPTY' })).toBe('EMPTY');
  });

  it('quotes lineSep characters even when they are not line breaks', () => {
    expect(field('a|b', { lineSep: '|' })).toBe('"a|b"');
  });
});

describe('rowEncoder', () => {
  const schema: Schema = [
    { name: 's', type: 'string' },
    { name: 'i', type: 'integer' },
    { name: 'x', type: 'double' },
    { name: 'b', type: 'boolean' },
    { name: 'd', type: 'date' },
    { name: 't', type: 'timestamp' },
    { name: 'l', type: { list: 'integer' } },
    { name: 'o', type: { struct: [{ name: 'k', type: 'string' }] } },
  ];

  it('formats every column type and writes null as nullValue, raw, even with quoteAll', () => {
    const { header, encode } = rowEncoder(schema, config({ quoteAll: true, nullValue: 'NULL' }));
    expect(header).toBe('"s","i","x","b","d","t","l","o"\n');
    const row = {
      s: 'v',
      i: 12345678901234567890n,
      x: 0.5,
      b: false,
      d: '2024-02-29',
      t: 1_700_000_000_123,
      l: [1, 2n],
      o: { k: 'a"b' },
    };
    expect(encode(row)).toBe(
      '"v","12345678901234567890","0.5","false","2024-02-29","2023-11-14T22:13:20.123Z","[1,2]","{\\"k\\":\\"a\\\\\\"b\\"}"\n',
    );
    expect(encode({})).toBe('NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL\n');
  });

  it('writes doubles, bigints and microseconds so that readers get back the same value', () => {
    const typed: Schema = [
      { name: 'x', type: 'double' },
      { name: 'i', type: 'integer' },
      { name: 't', type: 'timestamp' },
      { name: 'l', type: { list: 'integer' } },
    ];
    const text = (o: CsvOptionsInput, row: Record<string, unknown>) =>
      rowEncoder(typed, config(o)).encode(row);
    const micro = '2024-01-02T03:04:05.123456Z';
    expect(text({}, { x: -0, i: -(2n ** 63n), t: micro, l: [2n ** 63n - 1n, -0] })).toBe(
      '-0.0,-9223372036854775808,2024-01-02T03:04:05.123Z,"[9223372036854775807,-0.0]"\n',
    );
    expect(text({ timestampFormat: "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX" }, { t: micro })).toBe(
      ',,2024-01-02T03:04:05.123456Z,\n',
    );
    expect(text({ timestampFormat: 'HH:mm:ss.SSSSSSSS' }, { t: '1969-12-31T23:59:59.999999Z' })).toBe(
      ',,23:59:59.99999900,\n',
    );
    const doubles = [5e-324, 1e21, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    expect(doubles.map((x) => text({}, { x }))).toEqual(
      ['5e-324', '1e+21', 'NaN', 'Infinity', '-Infinity'].map((t) => `${t},,,\n`),
    );
  });

  it('keeps null and empty distinct under the defaults', () => {
    const { encode } = rowEncoder(
      [
        { name: 's', type: 'string' },
        { name: 'n', type: 'string' },
      ],
      config(),
    );
    expect(encode({ s: '', n: null })).toBe('"",\n');
  });

  it('quotes numbers when the delimiter could appear in them', () => {
    const { encode } = rowEncoder(
      [
        { name: 'x', type: 'double' },
        { name: 'b', type: 'boolean' },
      ],
      config({ delimiter: '.' }),
    );
    expect(encode({ x: 1.5, b: true })).toBe('"1.5".true\n');
  });

  it('quotes numbers, booleans and timestamps whose text is that of nullValue', () => {
    const typed: Schema = [
      { name: 'i', type: 'integer' },
      { name: 'x', type: 'double' },
      { name: 'b', type: 'boolean' },
      { name: 't', type: 'timestamp' },
    ];
    const row = { i: 0, x: 0, b: true, t: new Date(0) };
    expect(rowEncoder(typed, config({ nullValue: '0' })).encode(row)).toBe(
      '"0","0",true,1970-01-01T00:00:00.000Z\n',
    );
    expect(rowEncoder(typed, config({ nullValue: 'true' })).encode(row)).toBe(
      '0,0,"true",1970-01-01T00:00:00.000Z\n',
    );
    const iso = '1970-01-01T00:00:00.000Z';
    expect(rowEncoder(typed, config({ nullValue: iso })).encode(row)).toBe(`0,0,true,"${iso}"\n`);
    expect(() => rowEncoder(typed, config({ nullValue: '0', quote: '' })).encode(row)).toThrow(
      /column "i": the value "0" equals nullValue/,
    );
  });

  it('names the column of a value it cannot format', () => {
    const { encode } = rowEncoder(schema, config());
    expect(() => encode({ s: 'ok', t: 'not a time' })).toThrow(
      /column "t": expected a date or timestamp, got string "not a time"/,
    );
  });
});
