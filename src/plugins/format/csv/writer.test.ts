import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { timestampParts } from '../../../core/data/model.ts';
import type { Row, Schema } from '../../../core/types.ts';
import { timestampText } from '../../../../test/harness/timestamp-text.ts';
import { Utf8Chunks } from '../utf8.ts';
import { resolveConfig, rowEncoder, stringEncoder } from './encoder.ts';
import { type CsvOptionsInput, csvOptions } from './options.ts';
import { rowWriter } from './writer.ts';

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

const char = fc.constantFrom(',', ';', '\t', '|', '.', '-', ':', 'T', '1', 'é', '"', "'", '\\', ' ', 'Z');
const options: fc.Arbitrary<CsvOptionsInput> = fc.record(
  {
    delimiter: char,
    quote: fc.oneof(char, fc.constant('')),
    escape: char,
    escapeQuotes: fc.boolean(),
    quoteAll: fc.boolean(),
    nullValue: fc.constantFrom('', 'NULL', '\\N', 'é', '"', '0', 'true', 'NaN', '2024-02-29'),
    emptyValue: fc.constantFrom('', 'EMPTY', 'NULL', '""', "''"),
    dateFormat: fc.constantFrom('yyyy-MM-dd', 'dd/MM/yyyy'),
    timestampFormat: fc.constantFrom(
      "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
      "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
      'yyyy-MM-dd HH:mm:ss',
      'yyyy-MM-dd',
    ),
    lineSep: fc.constantFrom('\n', '\r\n', '|', '\u2028', 'é'),
    ignoreLeadingWhiteSpace: fc.boolean(),
    ignoreTrailingWhiteSpace: fc.boolean(),
    charToEscapeQuoteEscaping: fc.oneof(char, fc.constant('')),
  },
  { requiredKeys: [] },
);

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom('a', ' ', ',', '"', '\\', '\n', 'é', '1', '-', ':', "'", '|', 'T', '\u2028'),
    maxLength: 12,
  }),
  fc.constantFrom('plain', 'user42@example.com', '  padded  ', '"quoted"', ''),
  // The texts of every nullValue and emptyValue above, bare and padded.
  fc.constantFrom('NULL', '\\N', 'é', '"', '0', 'true', 'NaN', '2024-02-29', 'EMPTY', '""', "''", ' NULL '),
);
const instant = fc.oneof(
  fc.date({ min: new Date(-70_000_000_000_000), max: new Date(300_000_000_000_000) }),
  fc.integer({ min: -1e13, max: 1e13 }),
  fc.constantFrom(
    '2024-02-29',
    '2024-02-29T12:00:00Z',
    '1969-12-31T23:59:59.999999Z',
    '2024-02-29T12:00:00.000001Z',
    'not a date',
  ),
);
const anyValue = fc.oneof(
  text,
  fc.double(),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.boolean(),
  instant,
  fc.constantFrom(null, undefined),
);
const row: fc.Arbitrary<Row> = fc.record(
  {
    s: fc.oneof({ weight: 4, arbitrary: text }, anyValue),
    i: fc.oneof({ weight: 3, arbitrary: fc.maxSafeInteger() }, anyValue),
    x: fc.oneof({ weight: 3, arbitrary: fc.double() }, anyValue),
    b: fc.oneof({ weight: 3, arbitrary: fc.boolean() }, anyValue),
    d: fc.oneof({ weight: 3, arbitrary: instant }, fc.constant(null)),
    t: fc.oneof({ weight: 3, arbitrary: instant }, fc.constant(null)),
    l: fc.oneof(fc.array(fc.oneof(fc.integer(), fc.bigInt())), fc.constant(null)),
    o: fc.oneof(fc.record({ k: text }), fc.constant(null)),
  },
  { requiredKeys: [] },
);

/** The text rowEncoder makes of a row, or the message it throws. */
function viaStrings(encode: (row: Row) => string, r: Row): string {
  try {
    return encode(r);
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

/** The bytes rowWriter writes for a row, decoded, or the message it throws (and then no bytes). */
function viaBytes(write: (row: Row, out: Utf8Chunks) => void, r: Row): string {
  const out = new Utf8Chunks(8);
  out.text('<');
  try {
    write(r, out);
    return new TextDecoder().decode(out.take()).slice(1);
  } catch (error) {
    expect(new TextDecoder().decode(out.take())).toBe('<');
    return `error: ${(error as Error).message}`;
  }
}

describe('rowWriter', () => {
  it('writes the bytes rowEncoder + TextEncoder give, for random options and values (text in number columns too)', () => {
    let checked = 0;
    fc.assert(
      fc.property(options, fc.array(row, { minLength: 1, maxLength: 20 }), (o, rows) => {
        const parsed = v.safeParse(csvOptions, o);
        fc.pre(parsed.success);
        const config = resolveConfig(parsed.output!);
        const { encode, header } = rowEncoder(schema, config);
        const writer = rowWriter(schema, config);
        expect(writer.header).toBe(header);
        for (const r of rows) {
          // TextEncoder turns lone surrogates into U+FFFD; so does the writer. ignoreBOM: a row whose
          // first cell starts with U+FEFF keeps it (a default TextDecoder would drop it as a BOM).
          const expected = new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(viaStrings(encode, r)));
          expect(viaBytes(writer.write, r)).toBe(expected);
          checked++;
        }
      }),
      { seed: 20261205, numRuns: 3_000 },
    );
    expect(checked).toBeGreaterThan(10_000);
  });

  it('writes timestamp and date text as the general path does: timestampParts, a Date, the pattern (fixed seed)', () => {
    const patterns = fc.constantFrom(
      "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
      "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
      'yyyy-MM-dd HH:mm:ss',
      'yyyy-MM-dd',
    );
    const columns: Schema = [
      { name: 't', type: 'timestamp' },
      { name: 'd', type: 'date' },
    ];
    fc.assert(
      fc.property(patterns, patterns.filter((p) => !p.includes('H')), timestampText, timestampText, (ts, ds, t, d) => {
        const config = resolveConfig(v.parse(csvOptions, { timestampFormat: ts, dateFormat: ds }));
        const field = stringEncoder(config);
        const general = (text: string, format: (d: Date, micros?: number) => string): string => {
          const parts = timestampParts(text);
          if (!parts) throw new TypeError(`expected a date or timestamp, got string ${JSON.stringify(text)}`);
          return field(format(new Date(parts.ms), parts.micros));
        };
        let expected: string;
        try {
          expected = `${general(t, config.formatTimestamp)},${general(d, (x) => config.formatDate(x))}\n`;
        } catch {
          expected = 'error';
        }
        const got = viaBytes(rowWriter(columns, config).write, { t, d });
        expect(got.startsWith('error: ') ? 'error' : got).toBe(expected);
      }),
      { seed: 20261205, numRuns: 5_000 },
    );
  });

  it('names the column of a value it cannot format and takes back the row', () => {
    const out = new Utf8Chunks();
    const { write } = rowWriter(schema, resolveConfig(v.parse(csvOptions, {})));
    write({ s: 'first' }, out);
    expect(() => write({ s: 'ok', i: 1, x: 0.5, t: 'not a time' }, out)).toThrow(
      /column "t": expected a date or timestamp, got string "not a time"/,
    );
    expect(new TextDecoder().decode(out.take())).toBe('first,,,,,,,\n');
  });
});
