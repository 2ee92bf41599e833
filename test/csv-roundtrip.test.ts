/**
 * Every CSV option combination is written by format/csv and read back by independent readers
 * (DuckDB read_csv, Python's csv module, papaparse where RFC 4180 applies) and by our own
 * source/csv; each must return the values written, nulls and empties included where the options
 * keep them distinct.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Dialect,
  readWithDuckDB,
  readWithPapa,
  readWithPython,
  writeTemp,
} from '../fixtures/csv/readers.ts';
import { collectBytes, collectRows, fromIterable, fromRows } from '../src/core/streams.ts';
import type { FormatContext, Row, RunContext, Schema } from '../src/core/types.ts';
import { type CsvOptionsInput, csv } from '../src/plugins/format/csv/index.ts';
import { csvSource } from '../src/plugins/source/csv/index.ts';

const STRESS: (string | null)[] = [
  'plain',
  'comma,inside',
  'tab\tinside',
  'semi;colon',
  'pipe|bar',
  'colon:x',
  'say "hi"',
  '"starts with quote',
  'ends with quote"',
  '""',
  'back\\slash',
  'trailing backslash\\',
  '\\"escaped quote',
  "it's",
  "'single quoted'",
  'line\nbreak',
  'crlf\r\nbreak',
  'lone\rcr',
  'héllo wörld ✓ 日本語 😀',
  '',
  null,
  '  padded  ',
  ' lead',
  'trail ',
  '\t tab-pad \t',
  '   ',
];

const INTEGERS = [1, -42, 9007199254740993n, null];
const DOUBLES = [1.5, -0.25, 1e21, null, 0];
const BOOLEANS = [true, false, null];
const DATES = [new Date(Date.UTC(2024, 1, 29)), '2000-01-01', null];
const TIMESTAMPS = [new Date(Date.UTC(2024, 0, 5, 3, 4, 5, 67)), 0, '2024-12-31T23:59:59.999Z', null];
const LISTS = [['a', 'b,"c"'], [], null, [1, 2]];
const pick = <T>(values: readonly T[], i: number): T => values[i % values.length]!;

/** Expected text for the typed values, per date/timestamp pattern (hand-written, not computed). */
const FORMATS: Record<string, { dates: string[]; timestamps: string[] }> = {
  default: {
    dates: ['2024-02-29', '2000-01-01'],
    timestamps: ['2024-01-05T03:04:05.067Z', '1970-01-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z'],
  },
  'dd/MM/yyyy|yyyy-MM-dd HH:mm:ss': {
    dates: ['29/02/2024', '01/01/2000'],
    timestamps: ['2024-01-05 03:04:05', '1970-01-01 00:00:00', '2024-12-31 23:59:59'],
  },
  'yyyyMMdd|EEE, dd MMM yyyy hh:mm a': {
    dates: ['20240229', '20000101'],
    timestamps: ['Fri, 05 Jan 2024 03:04 AM', 'Thu, 01 Jan 1970 12:00 AM', 'Tue, 31 Dec 2024 11:59 PM'],
  },
};

const SCHEMA: Schema = [
  { name: 'text', type: 'string' },
  { name: 'n', type: 'integer' },
  { name: 'x', type: 'double' },
  { name: 'b', type: 'boolean' },
  { name: 'd', type: 'date' },
  { name: 't', type: 'timestamp' },
  { name: 'l', type: { list: 'string' } },
];

const CASES: { name: string; options: CsvOptionsInput }[] = [
  { name: 'Spark defaults (backslash escape)', options: {} },
  { name: 'tab delimiter as "\\t"', options: { delimiter: '\\t' } },
  { name: 'semicolon, RFC 4180 quote doubling', options: { delimiter: ';', escape: '"' } },
  { name: 'pipe, quoteAll', options: { sep: '|', quoteAll: true } },
  { name: 'colon, single-quote escape', options: { delimiter: ':', escape: "'" } },
  { name: 'escapeQuotes off', options: { escapeQuotes: false } },
  { name: 'escapeQuotes off, RFC 4180', options: { escapeQuotes: false, escape: '"' } },
  { name: 'quote disabled, nullValue NULL', options: { quote: '', nullValue: 'NULL' } },
  { name: 'quote disabled, tab, nullValue \\N', options: { quote: '', delimiter: '\t', nullValue: '\\N' } },
  { name: 'header off', options: { header: false } },
  { name: 'nullValue NULL, quoteAll, RFC 4180', options: { nullValue: 'NULL', quoteAll: true, escape: '"' } },
  { name: 'emptyValue EMPTY, nullValue NULL', options: { nullValue: 'NULL', emptyValue: 'EMPTY' } },
  { name: 'UTF-16 (LE with BOM)', options: { encoding: 'UTF-16' } },
  { name: 'UTF-16LE, RFC 4180', options: { encoding: 'UTF-16LE', escape: '"' } },
  { name: 'UTF-16BE, semicolon', options: { charset: 'utf-16be', delimiter: ';' } },
  { name: 'CRLF', options: { lineSep: '\r\n' } },
  { name: 'CRLF, RFC 4180, quoteAll', options: { lineSep: '\r\n', escape: '"', quoteAll: true } },
  {
    name: 'no whitespace trimming',
    options: { ignoreLeadingWhiteSpace: false, ignoreTrailingWhiteSpace: false },
  },
  { name: 'leading trim only, RFC 4180', options: { ignoreTrailingWhiteSpace: false, escape: '"' } },
  {
    name: 'date formats dd/MM/yyyy',
    options: { dateFormat: 'dd/MM/yyyy', timestampFormat: 'yyyy-MM-dd HH:mm:ss' },
  },
  {
    name: 'date formats with names and AM/PM, pipe',
    options: { dateFormat: 'yyyyMMdd', timestampFormat: 'EEE, dd MMM yyyy hh:mm a', delimiter: '|' },
  },
];

const PYTHON_CODECS: Record<string, string> = {
  'UTF-8': 'utf-8',
  'UTF-16': 'utf-16',
  'UTF-16LE': 'utf-16-le',
  'UTF-16BE': 'utf-16-be',
};

const ctx = {
  schema: SCHEMA,
  fileIndex: 1,
  runId: 'r',
  scheduledTime: new Date(0),
} as unknown as FormatContext;
const dir = mkdtempSync(`${tmpdir()}/csv-roundtrip-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function trimmer(o: CsvOptionsInput) {
  const blank = '[\\u0001-\\u0020]*';
  return (s: string) => {
    let out = s;
    if (o.ignoreLeadingWhiteSpace !== false) out = out.replace(new RegExp(`^${blank}`), '');
    if (o.ignoreTrailingWhiteSpace !== false) out = out.replace(new RegExp(`${blank}$`), '');
    return out;
  };
}

/** Rows to write for a case: with quoting disabled, values holding the delimiter or a line break are left out. */
function inputRows(delimiter: string, quoted: boolean): Row[] {
  const texts = STRESS.filter((s) => quoted || s === null || (!/[\r\n]/.test(s) && !s.includes(delimiter)));
  return texts.map((text, i) => ({
    text,
    n: pick(INTEGERS, i),
    x: pick(DOUBLES, i),
    b: pick(BOOLEANS, i),
    d: pick(DATES, i),
    t: pick(TIMESTAMPS, i),
    l: quoted || !JSON.stringify(pick(LISTS, i)).includes(delimiter) ? pick(LISTS, i) : ['a'],
  }));
}

/** The strings each row should read back as, written by hand from the inputs. */
function expectedRows(rows: Row[], o: CsvOptionsInput): (string | null)[][] {
  const trim = trimmer(o);
  const formats = FORMATS[o.dateFormat ? `${o.dateFormat}|${o.timestampFormat}` : 'default']!;
  const text = (v: unknown, f: (v: unknown) => string) => (v === null ? null : f(v));
  return rows.map((r, i) => [
    text(r.text, (s) => trim(s as string)),
    text(r.n, String),
    text(r.x, String),
    text(r.b, String),
    text(r.d, () => formats.dates[i % DATES.length]!),
    text(r.t, () => formats.timestamps[i % TIMESTAMPS.length]!),
    text(r.l, (v) => JSON.stringify(v)),
  ]);
}

function dialectOf(o: CsvOptionsInput): Dialect {
  const d = o.delimiter ?? o.sep ?? ',';
  return {
    delimiter: d === '\\t' ? '\t' : d,
    quote: o.quote ?? '"',
    escape: o.escape ?? '\\',
    header: o.header ?? true,
    nullValue: o.nullValue ?? '',
    lineSep: o.lineSep ?? '\n',
    columns: SCHEMA.map((c) => c.name),
  };
}

/** Maps what a reader returned back to values: nullValue → null, a custom emptyValue → ''. */
function decodeValues(rows: (string | null)[][], o: CsvOptionsInput): (string | null)[][] {
  return rows.map((r) =>
    r.map((v) => (v !== null && o.nullValue && v === o.nullValue ? null : v === o.emptyValue ? '' : v)),
  );
}

/** Readers that cannot tell a null from an empty field see both as '' when nullValue is ''. */
const blurNulls = (rows: (string | null)[][], o: CsvOptionsInput) =>
  o.nullValue ? rows : rows.map((r) => r.map((v) => v ?? ''));

async function readOurs(
  bytes: Uint8Array,
  o: CsvOptionsInput,
  dialect: Dialect,
): Promise<(string | null)[][]> {
  const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) =>
    bytes.subarray(i * 7, i * 7 + 7),
  );
  const encoding = (o.encoding ?? o.charset ?? 'UTF-8').toUpperCase() as 'UTF-8';
  const source = csvSource({
    delimiter: dialect.delimiter,
    quote: dialect.quote,
    escape: dialect.escape,
    header: dialect.header,
    nullValue: dialect.nullValue,
    encoding,
  });
  const { schema, rows } = await source.open({} as RunContext, fromIterable(chunks));
  const names = (schema ?? []).map((c) => c.name);
  if (dialect.header) expect(names).toEqual(dialect.columns);
  return (await collectRows(rows)).map((r) => names.map((n) => r[n] as string | null));
}

interface Written {
  readonly options: CsvOptionsInput;
  readonly dialect: Dialect;
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly path: string;
  readonly utf8Path: string;
  readonly encoding: string;
  readonly expected: (string | null)[][];
}

/** Writes one case with format/csv; the text is decoded too, for readers that only take UTF-8. */
async function writeCase(id: number, options: CsvOptionsInput): Promise<Written> {
  const stage = csv(options);
  const dialect = dialectOf(options);
  const rows = inputRows(dialect.delimiter, dialect.quote !== '');
  const bytes = await collectBytes(fromRows(rows).pipeThrough(stage.open(ctx)));
  const encoding = stage.contentType.split('charset=')[1]!.toUpperCase();
  const text = new TextDecoder(encoding === 'UTF-16' ? 'utf-16le' : encoding).decode(bytes);
  const path = writeTemp(dir, `case-${id}.csv`, bytes);
  const utf8Path = writeTemp(dir, `case-${id}.utf8.csv`, new TextEncoder().encode(text));
  return { options, dialect, bytes, text, path, utf8Path, encoding, expected: expectedRows(rows, options) };
}

const written: Written[] = [];
let python: (string[][] | { error: string })[] = [];
beforeAll(async () => {
  for (const [id, c] of CASES.entries()) written.push(await writeCase(id, c.options));
  python = readWithPython(written.map((w) => ({ ...w, encoding: PYTHON_CODECS[w.encoding]! })));
});

describe('CSV round trip through independent readers', () => {
  for (const [id, { name }] of CASES.entries()) {
    it(name, async () => {
      const { options, dialect, bytes, text, utf8Path, expected } = written[id]!;
      const skipHeader = <T>(all: T[][]) => (dialect.header ? all.slice(1) : all);

      const duck = decodeValues(await readWithDuckDB(utf8Path, dialect), options);
      expect(duck).toEqual(expected);

      const py = python[id]!;
      if (!Array.isArray(py)) throw new Error(`python csv: ${py.error}`);
      if (dialect.header) expect(py[0]).toEqual(dialect.columns);
      expect(decodeValues(skipHeader(py), options)).toEqual(blurNulls(expected, options));

      if (dialect.quote && dialect.escape === dialect.quote) {
        const papa = readWithPapa(text, dialect);
        if (dialect.header) expect(papa[0]).toEqual(dialect.columns);
        expect(decodeValues(skipHeader(papa), options)).toEqual(blurNulls(expected, options));
      }

      expect(decodeValues(await readOurs(bytes, options, dialect), options)).toEqual(expected);
    });
  }

  it('keeps null and empty distinct under the defaults (DuckDB sees NULL vs "")', async () => {
    const bytes = await collectBytes(
      fromRows([{ text: null }, { text: '' }]).pipeThrough(
        csv().open({ ...ctx, schema: [{ name: 'text', type: 'string' }] }),
      ),
    );
    expect(new TextDecoder().decode(bytes)).toBe('text\n\n""\n');
    const path = writeTemp(dir, 'null-empty.csv', bytes);
    const rows = await readWithDuckDB(path, { ...dialectOf({}), columns: ['text'] });
    expect(rows).toEqual([[null], ['']]);
  });

  it('writes a BOM only for UTF-16 and the right byte order for each encoding', async () => {
    const first = async (encoding: string) => {
      const stage = csv({ encoding });
      const bytes = await collectBytes(fromRows([]).pipeThrough(stage.open(ctx)));
      return Array.from(bytes.subarray(0, 4));
    };
    expect(await first('UTF-16')).toEqual([0xff, 0xfe, 0x74, 0x00]);
    expect(await first('UTF-16LE')).toEqual([0x74, 0x00, 0x65, 0x00]);
    expect(await first('UTF-16BE')).toEqual([0x00, 0x74, 0x00, 0x65]);
    expect(await first('UTF-8')).toEqual([0x74, 0x65, 0x78, 0x74]);
  });
});
