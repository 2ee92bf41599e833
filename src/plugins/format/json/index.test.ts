import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timestampText } from '../../../../test/harness/timestamp-text.ts';
import { collectBytes, fromRows } from '../../../core/streams.ts';
import type { FormatContext, Row, Schema } from '../../../core/types.ts';
import { Utf8Chunks } from '../utf8.ts';
import { jsonText } from '../values.ts';
import { json, lineWriter, toJsonValue } from './index.ts';

/** The text lineWriter writes for one row. */
function lineEncoder(columns: Schema, includeNulls: boolean): (row: Row) => string {
  const write = lineWriter(columns, includeNulls);
  return (row) => {
    const out = new Utf8Chunks(8);
    write(row, out);
    return new TextDecoder().decode(out.take());
  };
}

const schema: Schema = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'name', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'vip', type: 'boolean' },
  { name: 'seen', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'tags', type: { list: 'string' } },
  {
    name: 'address',
    type: {
      struct: [
        { name: 'city', type: 'string' },
        { name: 'zip', type: 'integer' },
      ],
    },
  },
];

/** What jsonText makes of the same values, the reference the field-by-field encoder must equal. */
function reference(row: Row, includeNulls: boolean): string {
  const out: Record<string, unknown> = {};
  for (const column of schema) {
    const value = toJsonValue(row[column.name], column.type);
    if (value !== null || includeNulls) out[column.name] = value;
  }
  return `${jsonText(out)}\n`;
}

const anyValue = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.boolean(),
  fc.date({ noInvalidDate: false }),
  fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z') }),
  fc.string(),
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\u007f', 'é', ' ', '\ud800') }),
  fc.constantFrom(
    null,
    undefined,
    'true',
    ' 12 ',
    'NaN',
    '',
    '-Infinity',
    '9007199254740993',
    '2024-01-02T03:04:05.123456Z',
  ),
  fc.array(fc.oneof(fc.string(), fc.constant(null))),
  fc.record({ city: fc.oneof(fc.string(), fc.constant(null)), zip: fc.oneof(fc.integer(), fc.string()) }),
);

describe('format/json line writer', () => {
  it('writes exactly what jsonText + TextEncoder write for the same values (10,000 fuzzed rows, both null modes)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...schema.map((c) => c.name)), anyValue),
        fc.boolean(),
        (row, includeNulls) => {
          const line = lineEncoder(schema, includeNulls)(row as Row);
          expect(line).toBe(reference(row as Row, includeNulls));
          JSON.parse(line);
        },
      ),
      { seed: 20261205, numRuns: 10_000 },
    );
  });

  it('writes timestamp text as toJsonValue + jsonText do, whichever path reads it (fixed seed)', () => {
    fc.assert(
      fc.property(timestampText, timestampText, fc.boolean(), (seen, day, includeNulls) => {
        const row = { id: 1, seen, day };
        expect(lineEncoder(schema, includeNulls)(row)).toBe(reference(row, includeNulls));
      }),
      { seed: 20261205, numRuns: 10_000 },
    );
  });

  it('writes number and boolean text (what a CSV source gives) as toJsonValue + jsonText do (fixed seed)', () => {
    const numberText = fc.oneof(
      fc.stringMatching(/^-?\d{1,18}$/),
      fc.string({ unit: fc.constantFrom('0', '1', '9', '-', '+', '.', 'e', 'E', ' ', 'x', 'I', 'n', '\t'), maxLength: 20 }),
      fc.double().map(String),
      fc.maxSafeInteger().map(String),
      fc.constantFrom('', ' ', '-', '-0', '007', '0x1F', '1e400', 'Infinity', '-Infinity', 'NaN', 'true', 'false', 'TRUE', ' true'),
    );
    fc.assert(
      fc.property(numberText, numberText, numberText, fc.boolean(), (id, score, vip, includeNulls) => {
        const row = { id, score, vip };
        expect(lineEncoder(schema, includeNulls)(row)).toBe(reference(row, includeNulls));
      }),
      { seed: 20261205, numRuns: 20_000 },
    );
  });

  it('keeps schema order for numeric-looking keys (an object would move them first)', () => {
    const line = lineEncoder(
      [
        { name: 'b', type: 'string' },
        { name: '1', type: 'integer' },
      ],
      true,
    )({ b: 'x', 1: 2 });
    expect(line).toBe('{"b":"x","1":2}\n');
  });

  it('leaves out missing values when includeNulls is false, first key included', async () => {
    const ctx = { schema: schema.slice(0, 3) } as unknown as FormatContext;
    const bytes = await collectBytes(
      fromRows([
        { id: 1, name: null, score: 0.37 * 3 },
        { id: 2, name: 'é"\n', score: Number.NaN },
      ]).pipeThrough(json({ includeNulls: false }).open(ctx)),
    );
    expect(new TextDecoder().decode(bytes)).toBe(
      `{"id":1,"score":${0.37 * 3}}\n{"id":2,"name":"é\\"\\n","score":"NaN"}\n`,
    );
    expect(lineEncoder(schema.slice(0, 2), false)({ id: null, name: 'n' })).toBe('{"name":"n"}\n');
  });

  it('writes every integer exactly as digits, doubles so they read back equal, micros and U+FFFD', () => {
    const columns: Schema = [
      { name: 'i', type: 'integer' },
      { name: 'x', type: 'double' },
      { name: 't', type: 'timestamp' },
      { name: 's', type: 'string' },
      { name: 'l', type: { list: 'integer' } },
      { name: 'o', type: { struct: [{ name: 'x', type: 'double' }] } },
    ];
    const line = lineEncoder(columns, false);
    expect(line({ i: 9007199254740993n, l: [-(2n ** 63n), 1, null], o: { x: -0 } })).toBe(
      '{"i":9007199254740993,"l":[-9223372036854775808,1,null],"o":{"x":-0.0}}\n',
    );
    expect(line({ i: '-9007199254740993', l: ['9223372036854775807'] })).toBe(
      '{"i":-9007199254740993,"l":[9223372036854775807]}\n',
    );
    expect(line({ i: -0, x: -0 })).toBe('{"i":0,"x":-0.0}\n');
    const doubles = [5e-324, 1e21, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    expect(doubles.map((x) => line({ x }))).toEqual(
      ['5e-324', '1e+21', '"NaN"', '"Infinity"', '"-Infinity"'].map((t) => `{"x":${t}}\n`),
    );
    expect(line({ t: '2024-01-02T05:04:05.123456+02:00' })).toBe('{"t":"2024-01-02T03:04:05.123456Z"}\n');
    expect(line({ t: new Date(1) })).toBe('{"t":"1970-01-01T00:00:00.001Z"}\n');
    expect(line({ s: 'a\ud800b\udc00 😀' })).toBe('{"s":"a\ufffdb\ufffd 😀"}\n');
  });
});
