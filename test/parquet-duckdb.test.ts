/**
 * Parquet round trips checked by an independent reader: every column type × every codec is written
 * by format/parquet and read back by DuckDB (types via DESCRIBE, values compared exactly, codec via
 * parquet_metadata); DuckDB-written files are read back by source/parquet.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { openAsBlob } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectBytes, collectRows, fromRows } from '../src/core/streams.ts';
import type { ColumnType, Row, Schema } from '../src/core/types.ts';
import { type ParquetOptionsInput, parquet } from '../src/plugins/format/parquet/index.ts';
import { parquetSource } from '../src/plugins/source/parquet/index.ts';
import { formatContext } from './support/memory-sink.ts';

const dir = mkdtempSync(join(tmpdir(), 'edge-export-parquet-'));
let db: DuckDBConnection;
const zstdWasmFile = join(dirname(createRequire(import.meta.url).resolve('@bokuweb/zstd-wasm')), 'zstd.wasm');

beforeAll(async () => {
  db = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => {
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = formatContext;

let fileCount = 0;
async function writeParquet(schema: Schema, rows: Row[], options: ParquetOptionsInput = {}): Promise<string> {
  const bytes = await collectBytes(fromRows(rows).pipeThrough(parquet(options, { zstdWasm: async () => readFileSync(zstdWasmFile) }).open(ctx(schema))));
  const path = join(dir, `f${++fileCount}.parquet`);
  writeFileSync(path, bytes);
  return path;
}

async function rowsOf(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

const us = (iso: string) => String(BigInt(Date.parse(iso)) * 1000n);
const struct: ColumnType = {
  struct: [
    { name: 'a', type: 'string' },
    { name: 'b', type: 'integer' },
  ],
};

/** type, DuckDB's name for it, how to project it to exact JSON, and [written, expected] pairs. */
const cases: { name: string; type: ColumnType; duck: string; sql?: string; values: [unknown, unknown][] }[] =
  [
    {
      name: 'string',
      type: 'string',
      duck: 'VARCHAR',
      values: [
        ['plain', 'plain'],
        ['', ''],
        ['héllo wörld 🦆 日本語 ﷽', 'héllo wörld 🦆 日本語 ﷽'],
        ['line\nbreak, "quoted"; tab\t', 'line\nbreak, "quoted"; tab\t'],
        [null, null],
      ],
    },
    {
      name: 'integer',
      type: 'integer',
      duck: 'BIGINT',
      values: [
        [0, '0'],
        [-1, '-1'],
        [Number.MAX_SAFE_INTEGER, '9007199254740991'],
        [-(2n ** 63n), '-9223372036854775808'],
        [2n ** 63n - 1n, '9223372036854775807'],
        ['-42', '-42'],
        [null, null],
      ],
    },
    {
      name: 'double',
      type: 'double',
      duck: 'DOUBLE',
      values: [
        [0, 0],
        [-1.5, -1.5],
        [0.1 + 0.2, 0.30000000000000004],
        [Number.MAX_VALUE, Number.MAX_VALUE],
        [Number.MIN_VALUE, Number.MIN_VALUE],
        [-(2 ** 53) - 2, -(2 ** 53) - 2],
        [null, null],
      ],
    },
    {
      name: 'boolean',
      type: 'boolean',
      duck: 'BOOLEAN',
      values: [
        [true, true],
        [false, false],
        [null, null],
      ],
    },
    {
      name: 'timestamp',
      type: 'timestamp',
      duck: 'TIMESTAMP WITH TIME ZONE',
      sql: 'epoch_us(v)',
      values: [
        [new Date('2024-02-29T12:34:56.789Z'), us('2024-02-29T12:34:56.789Z')],
        [new Date('1969-07-20T20:17:40.123Z'), us('1969-07-20T20:17:40.123Z')],
        ['2001-02-03T04:05:06.123456Z', '981173106123456'],
        [0, '0'],
        [null, null],
      ],
    },
    {
      name: 'date',
      type: 'date',
      duck: 'DATE',
      sql: 'CAST(v AS VARCHAR)',
      values: [
        [new Date(Date.UTC(2024, 1, 29)), '2024-02-29'],
        ['1969-12-31', '1969-12-31'],
        ['1900-01-01', '1900-01-01'],
        [new Date(Date.UTC(1066, 9, 14)), '1066-10-14'],
        [null, null],
      ],
    },
    {
      name: 'list<string>',
      type: { list: 'string' },
      duck: 'VARCHAR[]',
      values: [
        [
          ['a', '', null, 'ü🦆'],
          ['a', '', null, 'ü🦆'],
        ],
        [[], []],
        [null, null],
      ],
    },
    {
      name: 'list<integer>',
      type: { list: 'integer' },
      duck: 'BIGINT[]',
      values: [
        [
          [1, -2, null, 2n ** 62n],
          ['1', '-2', null, '4611686018427387904'],
        ],
        [[], []],
        [null, null],
      ],
    },
    {
      name: 'struct{a:string,b:integer}',
      type: struct,
      duck: 'STRUCT(a VARCHAR, b BIGINT)',
      values: [
        [
          { a: 'x', b: 1 },
          { a: 'x', b: '1' },
        ],
        [
          { a: null, b: null },
          { a: null, b: null },
        ],
        [{ a: 'only a' }, { a: 'only a', b: null }],
        [null, null],
      ],
    },
    {
      name: 'list<struct>',
      type: { list: struct },
      duck: 'STRUCT(a VARCHAR, b BIGINT)[]',
      values: [
        [
          [{ a: 'p', b: -1 }, null, { a: null, b: null }],
          [{ a: 'p', b: '-1' }, null, { a: null, b: null }],
        ],
        [[], []],
        [null, null],
      ],
    },
    {
      name: 'struct{tags:list<string>,inner:struct}',
      type: {
        struct: [
          { name: 'tags', type: { list: 'string' } },
          { name: 'inner', type: struct },
        ],
      },
      duck: 'STRUCT(tags VARCHAR[], "inner" STRUCT(a VARCHAR, b BIGINT))',
      values: [
        [
          { tags: ['x', 'y'], inner: { a: 'z', b: 7 } },
          { tags: ['x', 'y'], inner: { a: 'z', b: '7' } },
        ],
        [
          { tags: null, inner: null },
          { tags: null, inner: null },
        ],
        [null, null],
      ],
    },
    {
      name: 'list<list<integer>>',
      type: { list: { list: 'integer' } },
      duck: 'BIGINT[][]',
      values: [
        [
          [[1, 2], [], null, [3]],
          [['1', '2'], [], null, ['3']],
        ],
        [null, null],
      ],
    },
  ];

const codecs = ['snappy', 'gzip', 'zstd', 'uncompressed'] as const;

describe.each(codecs)('format/parquet codec %s read by DuckDB', (codec) => {
  it.each(cases)('$name', async ({ type, duck, sql, values }) => {
    const schema: Schema = [
      { name: 'id', type: 'integer', nullable: false },
      { name: 'v', type },
    ];
    const path = await writeParquet(
      schema,
      values.map(([v], id) => ({ id, v })),
      { codec },
    );

    const described = await rowsOf(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(described.map((r) => [r.column_name, r.column_type])).toEqual([
      ['id', 'BIGINT'],
      ['v', duck],
    ]);
    const got = await rowsOf(`SELECT ${sql ?? 'v'} AS v FROM read_parquet('${path}') ORDER BY id`);
    expect(got.map((r) => r.v)).toEqual(values.map(([, expected]) => expected));
    const compression = await rowsOf(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
    expect(compression).toEqual([{ compression: codec.toUpperCase() }]);
  });
});

describe('format/parquet files', () => {
  it('writes millisecond timestamps when asked', async () => {
    const path = await writeParquet(
      [{ name: 'v', type: 'timestamp' }],
      [{ v: new Date('1950-05-06T07:08:09.010Z') }],
      {
        timestampUnit: 'millis',
      },
    );
    const meta = await rowsOf(`SELECT logical_type FROM parquet_schema('${path}') WHERE name = 'v'`);
    expect(String(meta[0]?.logical_type)).toMatch(/MILLIS/);
    expect(await rowsOf(`SELECT epoch_ms(v) AS v FROM read_parquet('${path}')`)).toEqual([
      { v: String(Date.parse('1950-05-06T07:08:09.010Z')) },
    ]);
  });

  it('splits 25,000 rows into 3 row groups of at most 10,000', async () => {
    const schema: Schema = [
      { name: 'id', type: 'integer', nullable: false },
      { name: 'name', type: 'string' },
    ];
    const rows = Array.from({ length: 25_000 }, (_, id) => ({ id, name: `n${id % 97}` }));
    const path = await writeParquet(schema, rows, { rowGroupSize: 10_000 });
    const groups = await rowsOf(
      `SELECT row_group_id::INTEGER AS g, max(row_group_num_rows)::INTEGER AS n FROM parquet_metadata('${path}') GROUP BY 1 ORDER BY 1`,
    );
    expect(groups).toEqual([
      { g: 0, n: 10_000 },
      { g: 1, n: 10_000 },
      { g: 2, n: 5_000 },
    ]);
    expect(
      await rowsOf(`SELECT count(*)::INTEGER AS c, sum(id)::BIGINT AS s FROM read_parquet('${path}')`),
    ).toEqual([{ c: 25_000, s: String((24_999 * 25_000) / 2) }]);
  });

  it('writes a readable empty file when there are no rows', async () => {
    const path = await writeParquet([{ name: 'id', type: 'integer' }], []);
    expect(await rowsOf(`SELECT count(*)::INTEGER AS c FROM read_parquet('${path}')`)).toEqual([{ c: 0 }]);
  });
});

/** Exact JSON-like form of a value of `type`, as DuckDB's JSON converter prints the SQL below. */
function canonical(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'integer') return String(value);
  if (type === 'timestamp') return String(BigInt((value as Date).getTime()) * 1000n);
  if (type === 'date') return (value as Date).toISOString().slice(0, 10);
  if (typeof type === 'string') return value;
  if ('list' in type) return (value as unknown[]).map((item) => canonical(type.list, item));
  const object = value as Record<string, unknown>;
  return Object.fromEntries(type.struct.map((f) => [f.name, canonical(f.type, object[f.name])]));
}

describe('source/parquet reads DuckDB-written files', () => {
  const select = `SELECT i::BIGINT AS id, 'name ' || i AS name, i % 7 = 0 AS flag, i / 8 AS ratio,
      i::INTEGER AS small, DATE '1960-01-01' + i::INTEGER AS day,
      TIMESTAMPTZ '1969-12-31 23:00:00+00' + to_seconds(i) AS seen,
      CASE WHEN i % 10 = 0 THEN NULL ELSE [i, i + 1] END AS pair,
      {'a': 'k' || i, 'b': -i} AS obj,
      CASE WHEN i % 3 = 0 THEN NULL ELSE 'ü' || i END AS maybe
    FROM range(5000) t(i)`;
  const expectedSchema: Schema = [
    { name: 'id', type: 'integer', nullable: true },
    { name: 'name', type: 'string', nullable: true },
    { name: 'flag', type: 'boolean', nullable: true },
    { name: 'ratio', type: 'double', nullable: true },
    { name: 'small', type: 'integer', nullable: true },
    { name: 'day', type: 'date', nullable: true },
    { name: 'seen', type: 'timestamp', nullable: true },
    { name: 'pair', type: { list: 'integer' }, nullable: true },
    {
      name: 'obj',
      type: {
        struct: [
          { name: 'a', type: 'string', nullable: true },
          { name: 'b', type: 'integer', nullable: true },
        ],
      },
      nullable: true,
    },
    { name: 'maybe', type: 'string', nullable: true },
  ];

  it.each(['snappy', 'gzip', 'zstd', 'uncompressed'])('codec %s, several row groups', async (codec) => {
    const path = join(dir, `duck-${codec}.parquet`);
    await db.run(`COPY (${select}) TO '${path}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 2048)`);
    const groups = await rowsOf(
      `SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata('${path}')`,
    );
    expect(groups[0]!.n).toBeGreaterThan(1);

    const { schema, rows } = await parquetSource().open(ctx([]), await openAsBlob(path));
    expect(schema).toEqual(expectedSchema);
    const got = (await collectRows(rows)).map((row) =>
      Object.fromEntries(expectedSchema.map((c) => [c.name, canonical(c.type, row[c.name])])),
    );
    const want = await rowsOf(
      `SELECT id, name, flag, ratio, small, CAST(day AS VARCHAR) AS day, CAST(epoch_us(seen) AS VARCHAR) AS seen, pair, obj, maybe FROM read_parquet('${path}')`,
    );
    expect(got.length).toBe(5000);
    expect(got).toEqual(want.map((r) => ({ ...r, small: String(r.small) })));
  });
});

describe('format/parquet zstd inside workerd', () => {
  it('writes zstd with the wasm imported as a module, and DuckDB reads it', async () => {
    const bundle = await build({
      entryPoints: [join(import.meta.dirname, '../fixtures/parquet/workerd-zstd-worker.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      external: ['./zstd.wasm'],
      write: false,
    });
    const mf = new Miniflare({
      modules: [
        { type: 'ESModule', path: 'worker.mjs', contents: bundle.outputFiles[0]!.text },
        { type: 'CompiledWasm', path: 'zstd.wasm', contents: readFileSync(zstdWasmFile) },
      ],
      compatibilityDate: '2025-01-01',
      cf: false,
    });
    try {
      const response = await mf.dispatchFetch('http://localhost/');
      expect(response.status).toBe(200);
      const path = join(dir, 'workerd-zstd.parquet');
      writeFileSync(path, new Uint8Array(await response.arrayBuffer()));
      expect(await rowsOf(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`)).toEqual([
        { compression: 'ZSTD' },
      ]);
      expect(
        await rowsOf(
          `SELECT count(*)::INTEGER AS n, sum(id)::INTEGER AS s, min(s) AS first FROM read_parquet('${path}')`,
        ),
      ).toEqual([{ n: 3000, s: (2999 * 3000) / 2, first: 'row 0 🦆' }]);
    } finally {
      await mf.dispose();
    }
  });
});
