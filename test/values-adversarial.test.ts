/**
 * Adversarial values through the real pipeline: profiles → mapping (with column types) → runExport
 * with the built-in formats → an in-memory sink, then read back by readers that share no code with
 * ours: DuckDB (read_csv, read_json, read_parquet), Python's csv and json modules, and jq. Every
 * value must come back equal — as docs/VALUES.md and docs/CSV.md define equal for the format — or
 * its row must be refused with a reason the run's `skipped` counts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleMembership } from '../src/core/data/audience.ts';
import { planAudienceExport } from '../src/core/data/export-plan.ts';
import { compileMapping, type MappingSpec } from '../src/core/data/mapping.ts';
import type { Profile } from '../src/core/data/model.ts';
import { ExportError } from '../src/core/errors.ts';
import { runExport } from '../src/core/pipeline.ts';
import type { PluginManifest } from '../src/core/registry.ts';
import { Registry } from '../src/core/registry.ts';
import { fromIterable } from '../src/core/streams.ts';
import type { CsvOptionsInput } from '../src/plugins/format/csv/index.ts';
import { builtinPlugins } from '../src/plugins/index.ts';
import { fixedRuntime, memorySink } from './support/memory-sink.ts';

// ---------------------------------------------------------------------------------------------
// The values. Each good profile takes the k-th value of every list (cycling), so every value is
// written at least once; each bad profile holds one value its column cannot hold, nothing else.

const STRINGS: (string | null)[] = [
  'plain',
  'comma,inside',
  'semi;colon',
  'pipe|bar',
  'tab\tinside',
  'say "hi"',
  '"starts with a quote',
  'ends with a quote"',
  '""',
  "it's",
  'back\\slash',
  'trailing backslash\\',
  '\\"escaped quote',
  'line\nbreak',
  'crlf\r\nbreak',
  'lone\rcr',
  'line\u2028separator\u2029paragraph',
  'nul\u0000byte',
  '😀 emoji, 日本語, é',
  'x'.repeat(10_000),
  `${'"'.repeat(3000)},${'\\'.repeat(3000)}\n😀`,
  '',
  null,
  '  padded  ',
  ' ',
  '\t tab-padded \t',
  // Texts of every nullValue / emptyValue below, and near misses.
  'NULL',
  '\\N',
  'null',
  'NA',
  'EMPTY',
  ' NULL ',
  'NULLS',
];
const INTEGERS: unknown[] = [
  0,
  1,
  -1,
  -0,
  9007199254740991,
  -9007199254740991,
  '9007199254740992',
  '9007199254740993',
  '-9007199254740993',
  9007199254740993n,
  '9223372036854775807',
  '-9223372036854775808',
  ' 42 ',
  null,
];
const DOUBLES: unknown[] = [
  -0,
  0,
  5e-324,
  -5e-324,
  1e21,
  1.7976931348623157e308,
  0.1,
  1 / 3,
  123456789.123456,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  '2.5',
  'NaN',
  '-0',
  '-Infinity',
  null,
];
const TIMESTAMPS: unknown[] = [
  '2024-01-02T03:04:05.123456Z',
  '1969-12-31T23:59:59.999999Z',
  '2024-02-29T14:00:00.000001+02:00',
  '2024-01-02T03:04:05Z',
  '2024-01-02T03:04:05.120Z',
  '0001-01-01T00:00:00.000001Z',
  '9999-12-31T23:59:59.999999Z',
  new Date(Date.UTC(2024, 0, 5, 3, 4, 5, 67)),
  null,
];
const LISTS: unknown[] = [
  [],
  [null],
  ['9007199254740993', 1, -2],
  [9223372036854775807n, '-9223372036854775808', null],
  null,
];
const STRUCTS: unknown[] = [
  { k: 'a"b,c\nd', n: '9007199254740993', x: -0 },
  { k: null, n: null, x: Number.NaN },
  { k: '', n: -1, x: 1e21, extra: 'dropped' },
  null,
];
const STRING_LISTS: unknown[] = [['a,b', '"q"', '', null, 'NULL', 'é\u2028😀'], [], null];

/** Values each column cannot hold exactly, with the reason the run must count. */
const BAD: { attribute: string; value: unknown }[] = [
  { attribute: 's', value: 'lone \ud800 high surrogate' },
  { attribute: 's', value: 'lone \udc00 low surrogate' },
  { attribute: 's', value: 'cut emoji \ud83d' },
  { attribute: 'i', value: '9223372036854775808' },
  { attribute: 'i', value: '-9223372036854775809' },
  { attribute: 'i', value: 2 ** 53 },
  { attribute: 'i', value: 1e21 },
  { attribute: 't', value: '2024-01-02T03:04:05.1234567Z' },
  { attribute: 'l', value: [1, '9223372036854775808'] },
  { attribute: 'o', value: { k: 'ok', n: '-9223372036854775809' } },
  { attribute: 'o', value: { k: '\ud800' } },
  { attribute: 'ls', value: ['fine', 'x\udfff'] },
];

const GOOD_COUNT = Math.max(STRINGS.length, INTEGERS.length, DOUBLES.length, TIMESTAMPS.length) + 1;
const pick = <T>(values: readonly T[], k: number): T => values[k % values.length]!;

function goodAttributes(k: number): Record<string, unknown> {
  return {
    s: pick(STRINGS, k),
    i: pick(INTEGERS, k),
    x: pick(DOUBLES, k),
    t: pick(TIMESTAMPS, k),
    l: pick(LISTS, k),
    o: pick(STRUCTS, k),
    ls: pick(STRING_LISTS, k),
  };
}

const profile = (id: string, attributes: Record<string, unknown>): Profile => ({
  id,
  identities: {},
  attributes,
  updatedAt: '2026-01-01T00:00:00Z',
});

/** Good profiles, the last one with every attribute missing, then one profile per bad value. */
const PROFILES: Profile[] = [
  ...Array.from({ length: GOOD_COUNT - 1 }, (_, k) => profile(`g${k}`, goodAttributes(k))),
  profile(`g${GOOD_COUNT - 1}`, {}),
  ...BAD.map(({ attribute, value }, n) => profile(`b${n}`, { [attribute]: value })),
];
const GOOD = PROFILES.slice(0, GOOD_COUNT);

const MAPPING: MappingSpec = {
  fields: [
    { source: 'id' },
    { source: 'attributes.s', type: 'string' },
    { source: 'attributes.i', type: 'integer' },
    { source: 'attributes.x', type: 'double' },
    { source: 'attributes.t', type: 'timestamp' },
    { source: 'attributes.l', type: { list: 'integer' } },
    {
      source: 'attributes.o',
      type: {
        struct: [
          { name: 'k', type: 'string' },
          { name: 'n', type: 'integer' },
          { name: 'x', type: 'double' },
        ],
      },
    },
    { source: 'attributes.ls', type: { list: 'string' } },
  ],
};
const COLUMNS = ['id', 's', 'i', 'x', 't', 'l', 'o', 'ls'];

const EXPECTED_SKIPS: Record<string, number> = {};
for (const { attribute } of BAD) {
  const reason = `invalid:attributes.${attribute}`;
  EXPECTED_SKIPS[reason] = (EXPECTED_SKIPS[reason] ?? 0) + 1;
}

// ---------------------------------------------------------------------------------------------
// What each value must read back as, derived from the input by the documented rules, not by our
// code: integers as exact decimal digits, doubles as the same IEEE value, timestamps as epoch
// microseconds computed from the calendar text.

interface Expected {
  id: string;
  s: string | null;
  i: string | null;
  x: number | null;
  /** Epoch microseconds, as decimal digits. */
  t: string | null;
  l: (string | null)[] | null;
  o: { k: string | null; n: string | null; x: number | null } | null;
  ls: (string | null)[] | null;
}

const integerText = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : typeof v === 'number'
      ? BigInt(v).toString()
      : BigInt(String(v).trim()).toString();

const doubleValue = (v: unknown): number | null =>
  v === null || v === undefined ? null : typeof v === 'number' ? v : Number(String(v));

const ISO = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|([+-])(\d\d):(\d\d))$/;

/** Epoch microseconds of an ISO 8601 text or a Date, computed from the calendar fields. */
function micros(v: unknown): bigint | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return BigInt(v.getTime()) * 1000n;
  const m = ISO.exec(String(v));
  if (!m) throw new Error(`test input is not ISO 8601: ${String(v)}`);
  const day = new Date(0);
  day.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const seconds =
    BigInt(day.getTime() / 1000) + BigInt(Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]));
  const offset = m[9] ? (m[9] === '-' ? -1n : 1n) * BigInt(Number(m[10]) * 3600 + Number(m[11]) * 60) : 0n;
  const fraction = BigInt((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  return (seconds - offset) * 1_000_000n + fraction;
}

function expectedRow(p: Profile): Expected {
  const a = p.attributes as Record<string, unknown>;
  const o = a.o as Record<string, unknown> | null | undefined;
  const list = (v: unknown, item: (x: unknown) => string | null) => (Array.isArray(v) ? v.map(item) : null);
  return {
    id: p.id,
    s: (a.s as string | null | undefined) ?? null,
    i: integerText(a.i),
    x: doubleValue(a.x),
    t: micros(a.t)?.toString() ?? null,
    l: list(a.l, integerText),
    o: o ? { k: (o.k as string | null) ?? null, n: integerText(o.n), x: doubleValue(o.x) } : null,
    ls: list(a.ls, (x) => (x as string | null) ?? null),
  };
}
const EXPECTED = GOOD.map(expectedRow);

/** Equality where NaN equals NaN and -0 differs from 0 (Object.is), element by element. */
function same(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number' || typeof actual === 'number') return Object.is(actual, expected);
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => same(actual[i], e))
    );
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return false;
    const keys = Object.keys(expected);
    return keys.every((k) =>
      same((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]),
    );
  }
  return actual === expected;
}

/** Every row equal, or a readable list of the first differences. */
function assertRows(
  reader: string,
  actual: Record<string, unknown>[],
  expected: Record<string, unknown>[],
): void {
  expect(actual.length, `${reader}: row count`).toBe(expected.length);
  const differences: string[] = [];
  expected.forEach((row, n) => {
    for (const [column, value] of Object.entries(row)) {
      if (!same(actual[n]![column], value)) {
        const show = (x: unknown) =>
          JSON.stringify(x, (_k, y) =>
            (typeof y === 'number' && !Number.isFinite(y)) || Object.is(y, -0) ? `#${y}` : y,
          )?.slice(0, 80);
        differences.push(
          `${reader} row ${row.id ?? n} column ${column}: got ${show(actual[n]![column])}, expected ${show(value)}`,
        );
      }
    }
  });
  expect(differences.slice(0, 10)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Export through the real pipeline.

const destination = { id: 'd1', name: 'dest' };
const audience = { id: 'a1', name: 'Audience' };

async function exportWith(format: PluginManifest['plugins'][number], profiles = PROFILES) {
  const plan = planAudienceExport({
    membership: ruleMembership(() => true),
    profiles: () => fromIterable(profiles),
    mapping: compileMapping(MAPPING),
    now: new Date('2026-02-01T00:00:00Z'),
    mode: 'full',
    save: async () => {},
  });
  const pipeline = new Registry(builtinPlugins).build({ plugins: [format] });
  const mem = memorySink();
  const result = await runExport(
    pipeline,
    {
      destination,
      audience,
      rows: plan.rows,
      schema: plan.schema,
      output: { fileName: { dateTime: 'none' } },
    },
    fixedRuntime(),
    mem.sink,
  );
  expect(result.files).toHaveLength(1);
  return { bytes: mem.objects.get(result.files[0]!.key)!.body, stats: plan.stats, rows: result.rows };
}

const dir = mkdtempSync(`${tmpdir()}/values-adversarial-`);
let duck: DuckDBConnection;
beforeAll(async () => {
  duck = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sql = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function duckRows(query: string): Promise<Record<string, unknown>[]> {
  const result = await duck.runAndReadAll(query);
  const names = result.columnNames();
  return result.getRows().map((row) => Object.fromEntries(names.map((name, i) => [name, row[i]])));
}

/** Turns `{"$int": digits}` / `{"$float": repr}` from the Python reader back into digits / numbers. */
function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('$int' in v) return v.$int;
    if ('$float' in v) return Number(v.$float);
    if ('$json' in v) return untag(v.$json);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, untag(x)]));
  }
  return value;
}

function python(specs: object[]): unknown[] {
  const script = new URL('./support/read_values.py', import.meta.url).pathname;
  const out = execFileSync('python3', [script], {
    input: JSON.stringify(specs),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  return (JSON.parse(out) as unknown[]).map((result) => {
    if (result && typeof result === 'object' && 'error' in result)
      throw new Error(`python: ${String(result.error)}`);
    return result;
  });
}

/** A file's parsed JSON text per list/struct column, with DuckDB's own JSON casts. */
const NESTED_FROM_TEXT = `
  to_json(list_transform(l::JSON::BIGINT[], e -> e::VARCHAR)) AS l,
  o::JSON::STRUCT(k VARCHAR, n BIGINT, x DOUBLE) AS ov,
  to_json(ls::JSON::VARCHAR[]) AS ls`;

/** DuckDB rows into Expected's shape. */
function fromDuck(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => {
    const o = r.ov as { entries: Record<string, unknown> } | null;
    return {
      id: r.id,
      s: r.s,
      i: r.i,
      x: r.x,
      t: r.t,
      l: r.l === null ? null : JSON.parse(r.l as string),
      o: o ? { k: o.entries.k, n: o.entries.n === null ? null : String(o.entries.n), x: o.entries.x } : null,
      ls: r.ls === null ? null : JSON.parse(r.ls as string),
    };
  });
}

// ---------------------------------------------------------------------------------------------

interface CsvCase {
  name: string;
  options: CsvOptionsInput;
}

const CSV_CASES: CsvCase[] = [
  { name: "Spark's defaults (backslash escape, trimming, null '' vs empty \"\")", options: {} },
  {
    name: 'RFC 4180, nullValue NULL, no trimming, microsecond timestamps',
    options: {
      escape: '"',
      nullValue: 'NULL',
      ignoreLeadingWhiteSpace: false,
      ignoreTrailingWhiteSpace: false,
      timestampFormat: "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    },
  },
  {
    name: 'tab, nullValue \\N, CRLF, RFC 4180',
    options: { delimiter: '\t', nullValue: '\\N', escape: '"', lineSep: '\r\n' },
  },
  {
    name: 'semicolon, quoteAll, nullValue null',
    options: { delimiter: ';', quoteAll: true, nullValue: 'null', escape: '"' },
  },
  {
    name: 'pipe, single-quote escape, nullValue NA',
    options: { delimiter: '|', escape: "'", nullValue: 'NA' },
  },
  {
    name: 'emptyValue EMPTY, nullValue NULL',
    options: { nullValue: 'NULL', emptyValue: 'EMPTY', escape: '"' },
  },
];

/** What the options make of a string: Spark trims U+0001–U+0020 on the sides asked for. */
function trimmed(o: CsvOptionsInput): (s: string | null) => string | null {
  return (s) => {
    if (s === null) return null;
    let out = s;
    if (o.ignoreLeadingWhiteSpace !== false) out = out.replace(/^[\u0001-\u0020]+/, '');
    if (o.ignoreTrailingWhiteSpace !== false) out = out.replace(/[\u0001-\u0020]+$/, '');
    return out;
  };
}

/** The timestamp a CSV file holds: the default pattern prints milliseconds (cut towards the past). */
function csvMicros(o: CsvOptionsInput): (t: string | null) => string | null {
  const six = (o.timestampFormat ?? '').includes('SSSSSS');
  return (t) => {
    if (t === null || six) return t;
    const us = BigInt(t);
    const ms = us / 1000n - (us < 0n && us % 1000n !== 0n ? 1n : 0n);
    return (ms * 1000n).toString();
  };
}

function csvExpected(o: CsvOptionsInput): Expected[] {
  const trim = trimmed(o);
  const time = csvMicros(o);
  return EXPECTED.map((e) => ({ ...e, s: trim(e.s), t: time(e.t) }));
}

interface Dialect {
  delimiter: string;
  quote: string;
  escape: string;
  nullValue: string;
  emptyValue: string | undefined;
  lineSep: string;
}

const dialectOf = (o: CsvOptionsInput): Dialect => ({
  delimiter: o.delimiter ?? ',',
  quote: o.quote ?? '"',
  escape: o.escape ?? '\\',
  nullValue: o.nullValue ?? '',
  emptyValue: o.emptyValue,
  lineSep: o.lineSep ?? '\n',
});

/**
 * DuckDB read_csv with every option given, nothing sniffed. Null markers are recognised only
 * unquoted (allow_quoted_nulls=false), so a quoted "NULL" is the string NULL. `nullstr` is the
 * marker to read as SQL NULL (nullValue, or emptyValue to find the empty strings).
 */
async function duckCsv(
  path: string,
  d: Dialect,
  nullstr: string,
  typed = true,
): Promise<Record<string, unknown>[]> {
  const types = {
    id: 'VARCHAR',
    s: 'VARCHAR',
    i: 'BIGINT',
    x: 'DOUBLE',
    t: 'VARCHAR',
    l: 'VARCHAR',
    o: 'VARCHAR',
    ls: 'VARCHAR',
  };
  const columns = Object.entries(types)
    .map(([name, type]) => `${sql(name)}: ${sql(typed ? type : 'VARCHAR')}`)
    .join(', ');
  const options = [
    'auto_detect=false',
    'header=true',
    `columns={${columns}}`,
    `delim=${sql(d.delimiter)}`,
    `quote=${sql(d.quote)}`,
    `escape=${sql(d.quote ? d.escape : '')}`,
    `nullstr=${sql(nullstr)}`,
    'allow_quoted_nulls=false',
    `new_line=${sql(d.lineSep.replaceAll('\r', '\\r').replaceAll('\n', '\\n'))}`,
    'max_line_size=1000000',
  ];
  const from = `read_csv(${sql(path)}, ${options.join(', ')})`;
  if (!typed) return duckRows(`SELECT id, s FROM ${from}`);
  return duckRows(
    `SELECT id, s, i::VARCHAR AS i, x, epoch_us(t::TIMESTAMPTZ)::VARCHAR AS t, ${NESTED_FROM_TEXT} FROM ${from}`,
  );
}

/** A record Python's csv read, with its JSON columns decoded and doubles parsed. */
function fromPythonCsv(d: Dialect): (record: unknown[]) => Record<string, unknown> {
  return (record) => {
    const [id, s, i, x, t, l, o, ls] = record.map(untag);
    const struct = o as Record<string, unknown> | string;
    return {
      id,
      s,
      i,
      x: x === d.nullValue ? x : Number(x),
      t,
      l,
      o: typeof struct === 'object' ? { ...struct, x: nonFinite(struct.x) } : struct,
      ls,
    };
  };
}

/** The text Python reads for each expected value: null as nullValue, '' as '' or emptyValue. */
function asPythonCsvText(o: CsvOptionsInput, d: Dialect): (e: Expected) => Record<string, unknown> {
  const six = (o.timestampFormat ?? '').includes('SSSSSS');
  const marker = (v: unknown) => v ?? d.nullValue;
  return (e) => ({
    id: e.id,
    s: e.s === null ? d.nullValue : e.s === '' ? (d.emptyValue ?? '') : e.s,
    i: marker(e.i),
    x: marker(e.x),
    t: e.t === null ? d.nullValue : isoText(BigInt(e.t), six),
    l: marker(e.l),
    o: marker(e.o),
    ls: marker(e.ls),
  });
}

/** An instant as the CSV patterns used here print it: ISO 8601 UTC, three or six fraction digits. */
function isoText(us: bigint, six: boolean): string {
  const ms = us / 1000n - (us < 0n && us % 1000n !== 0n ? 1n : 0n);
  const iso = new Date(Number(ms)).toISOString();
  return six ? `${iso.slice(0, -1)}${String(us - ms * 1000n).padStart(3, '0')}Z` : iso;
}

describe('adversarial values through every format, read back by independent readers', () => {
  it('refuses exactly the rows whose values their columns cannot hold, and counts them', async () => {
    const { stats, rows } = await exportWith({ use: 'format/json' });
    expect(stats.skipped).toEqual(EXPECTED_SKIPS);
    expect(stats.exported).toBe(GOOD_COUNT);
    expect(rows).toBe(GOOD_COUNT);
  });

  for (const { name, options } of CSV_CASES) {
    it(`CSV, ${name}: DuckDB read_csv and Python's csv read every value back`, async () => {
      const { bytes, stats } = await exportWith({ use: 'format/csv', options });
      expect(stats.skipped).toEqual(EXPECTED_SKIPS);
      const path = `${dir}/${CSV_CASES.findIndex((c) => c.name === name)}.csv`;
      writeFileSync(path, bytes);
      const d = dialectOf(options);
      const expected = csvExpected(options);

      // DuckDB, typed: BIGINT, DOUBLE, TIMESTAMPTZ from the text, JSON casts for lists and structs.
      const read = fromDuck(await duckCsv(path, d, d.nullValue));
      if (d.emptyValue !== undefined) {
        // DuckDB has no emptyValue: a second read takes the empty marker for NULL, unquoted only.
        const empties = await duckCsv(path, d, d.emptyValue, false);
        read.forEach((row, n) => {
          if (empties[n]!.s === null && row.s !== null) row.s = '';
        });
      }
      assertRows('duckdb', read, expected as unknown as Record<string, unknown>[]);

      // Python's csv: text only, so null reads as nullValue's text and the empty string as ''
      // (or emptyValue's text); lists and structs are JSON text, parsed with Python's json.
      const [records] = python([
        {
          kind: 'csv',
          path,
          delimiter: d.delimiter,
          quotechar: d.quote || null,
          escapechar: d.quote && d.escape !== d.quote ? d.escape : null,
          doublequote: d.escape === d.quote,
          json_columns: [5, 6, 7],
        },
      ]) as [unknown[][]];
      expect(records[0]).toEqual(COLUMNS);
      assertRows(
        'python csv',
        records.slice(1).map(fromPythonCsv(d)),
        expected.map(asPythonCsvText(options, d)),
      );
    });
  }

  it('CSV with quoting disabled: a value a reader would misread fails the export, naming row and column; clean data reads back', async () => {
    const options: CsvOptionsInput = { quote: '', delimiter: '\t', nullValue: '\\N' };
    const error = await exportWith({ use: 'format/csv', options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect(error).toMatchObject({ code: 'FORMAT_FAILED' });
    expect((error as Error).message).toMatch(/row \d+: column "s": the value .* quoting is disabled/);

    const unreadable = (s: unknown) =>
      typeof s === 'string' && (/[\t\r\n]/.test(s.trim()) || s.trim() === '\\N');
    const clean = PROFILES.filter((p) => !unreadable(p.attributes.s));
    const { bytes, stats } = await exportWith({ use: 'format/csv', options }, clean);
    expect(stats.skipped).toEqual(EXPECTED_SKIPS);
    const path = `${dir}/quote-off.csv`;
    writeFileSync(path, bytes);
    const ids = new Set(clean.map((p) => p.id));
    const expected = csvExpected(options).filter((e) => ids.has(e.id));
    assertRows(
      'duckdb',
      fromDuck(await duckCsv(path, dialectOf(options), '\\N')),
      expected as unknown as Record<string, unknown>[],
    );
  });

  it('JSON: jq, Python json and DuckDB read_json read every value back', async () => {
    const { bytes, stats } = await exportWith({ use: 'format/json' });
    expect(stats.skipped).toEqual(EXPECTED_SKIPS);
    const path = `${dir}/values.json`;
    writeFileSync(path, bytes);

    // Python's json: integers exact whatever their size, floats as doubles.
    const [objects] = python([{ kind: 'json', path }]) as [Record<string, unknown>[]];
    const fromJsonText = (rows: Record<string, unknown>[]) =>
      rows.map((r) => {
        const o = r.o as Record<string, unknown> | null;
        return {
          ...r,
          x: jsonDouble(r.x),
          t: r.t === null ? null : micros(r.t)!.toString(),
          o: o && { ...o, x: jsonDouble(o.x) },
        };
      });
    assertRows(
      'python json',
      fromJsonText(objects.map((o) => untag(o) as Record<string, unknown>)),
      EXPECTED as unknown as Record<string, unknown>[],
    );

    // jq (1.6 keeps numbers as doubles): every line parses; strings, doubles, lists and structs
    // come back as written; integers as the nearest double, the most a double-based reader can get.
    const jq = execFileSync('/usr/bin/jq', ['-c', '.', path], { encoding: 'utf8', maxBuffer: 1 << 26 })
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const nearest = (digits: string | null) => (digits === null ? null : Number(BigInt(digits)));
    assertRows(
      'jq',
      fromJsonText(jq),
      EXPECTED.map((e) => ({
        ...e,
        i: nearest(e.i),
        l: e.l?.map(nearest) ?? null,
        o: e.o && { ...e.o, n: nearest(e.o.n) },
      })),
    );

    // DuckDB read_json into typed columns: BIGINT exact, "NaN"/"Infinity" strings into DOUBLE.
    const types = `{id: 'VARCHAR', s: 'VARCHAR', i: 'BIGINT', x: 'DOUBLE', t: 'TIMESTAMPTZ', l: 'BIGINT[]', o: 'STRUCT(k VARCHAR, n BIGINT, x DOUBLE)', ls: 'VARCHAR[]'}`;
    const duckJson = await duckRows(`SELECT id, s, i::VARCHAR AS i, x, epoch_us(t)::VARCHAR AS t,
      to_json(list_transform(l, e -> e::VARCHAR)) AS l, o AS ov, to_json(ls) AS ls
      FROM read_json(${sql(path)}, columns=${types}, format='newline_delimited', maximum_object_size=100000000)`);
    assertRows('duckdb read_json', fromDuck(duckJson), EXPECTED as unknown as Record<string, unknown>[]);
  });

  for (const [name, format] of [
    ['Parquet (nested schema)', { use: 'format/parquet' }],
    ['Parquet, gzip pages', { use: 'format/parquet', options: { codec: 'gzip' } }],
  ] as const) {
    it(`${name}: DuckDB read_parquet reads every value back`, async () => {
      const { bytes, stats } = await exportWith(format);
      expect(stats.skipped).toEqual(EXPECTED_SKIPS);
      const path = `${dir}/${name.replace(/\W+/g, '-')}.parquet`;
      writeFileSync(path, bytes);
      const rows = await duckRows(`SELECT id, s, i::VARCHAR AS i, x, epoch_us(t)::VARCHAR AS t,
        to_json(list_transform(l, e -> e::VARCHAR)) AS l, o AS ov, to_json(ls) AS ls FROM read_parquet(${sql(path)})`);
      assertRows('duckdb read_parquet', fromDuck(rows), EXPECTED as unknown as Record<string, unknown>[]);
    });
  }

  it('Parquet, flat schema (the fast column writer): DuckDB reads every value back', async () => {
    const flat: MappingSpec = { fields: MAPPING.fields.slice(0, 5) };
    const plan = planAudienceExport({
      membership: ruleMembership(() => true),
      profiles: () => fromIterable(PROFILES),
      mapping: compileMapping(flat),
      now: new Date('2026-02-01T00:00:00Z'),
      mode: 'full',
      save: async () => {},
    });
    const mem = memorySink();
    const pipeline = new Registry(builtinPlugins).build({ plugins: [{ use: 'format/parquet' }] });
    const result = await runExport(
      pipeline,
      { destination, audience, rows: plan.rows, schema: plan.schema },
      fixedRuntime(),
      mem.sink,
    );
    const path = `${dir}/flat.parquet`;
    writeFileSync(path, mem.objects.get(result.files[0]!.key)!.body);
    const rows = await duckRows(
      `SELECT id, s, i::VARCHAR AS i, x, epoch_us(t)::VARCHAR AS t FROM read_parquet(${sql(path)})`,
    );
    // Only the bad values of these five columns refuse a row here; the others are not mapped.
    const mapped = /^(s|i|x|t)$/;
    const refused = new Set(BAD.map((b, n) => (mapped.test(b.attribute) ? `b${n}` : '')));
    expect(plan.stats.skipped).toEqual(
      Object.fromEntries(
        Object.entries(EXPECTED_SKIPS).filter(([reason]) => mapped.test(reason.split('.')[1]!)),
      ),
    );
    assertRows(
      'duckdb read_parquet (flat)',
      rows,
      PROFILES.filter((p) => !refused.has(p.id))
        .map(expectedRow)
        .map(({ id, s, i, x, t }) => ({ id, s, i, x, t })),
    );
  });
});

/**
 * A double as a JSON reader gave it: a number, or NaN/±Infinity spelled as strings; Python reads an
 * integral literal (`0`, `1e21` is a float) as an int, which stands for the same double.
 */
function jsonDouble(v: unknown): unknown {
  return typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : nonFinite(v);
}

/** JSON's spelling of NaN and ±Infinity (strings) back to the doubles they stand for. */
function nonFinite(v: unknown): unknown {
  return v === 'NaN'
    ? Number.NaN
    : v === 'Infinity'
      ? Number.POSITIVE_INFINITY
      : v === '-Infinity'
        ? Number.NEGATIVE_INFINITY
        : v;
}
