/**
 * The flat-schema Parquet writer (src/plugins/format/parquet/flat.ts) against two independent readers:
 * DuckDB (values, per-row-group statistics, encodings) and hyparquet (values, footer statistics).
 * Data: null patterns that exercise both RLE and bit-packed runs, a low-cardinality string column
 * (dictionary), a unique one (plain), text beyond ASCII including surrogate pairs, integers beyond
 * 2^53, NaN and ±0 doubles, several row groups.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectBytes, fromRows } from '../src/core/streams.ts';
import type { Row, Schema } from '../src/core/types.ts';
import { compareUtf8 } from '../src/plugins/format/parquet/encoding.ts';
import { type ParquetOptionsInput, parquet } from '../src/plugins/format/parquet/index.ts';
import { formatContext } from './support/memory-sink.ts';

const dir = mkdtempSync(join(tmpdir(), 'edge-export-parquet-flat-'));
let db: DuckDBConnection;
beforeAll(async () => {
  db = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => {
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = formatContext;

const schema: Schema = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'big', type: 'integer' },
  { name: 'tier', type: 'string' },
  { name: 'email', type: 'string' },
  { name: 'text', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'vip', type: 'boolean' },
  { name: 'seen', type: 'timestamp' },
  { name: 'day', type: 'date' },
];
const TEXTS = ['plain', 'héllo', '日本語', '🦆 duck', '\uE000 private', '', 'Zebra', 'zèbre'];

/** Row i: nulls in runs (rows 100–199 of each 1,000), alone (every 7th) and alternating (3,000–3,063). */
function row(i: number): Row {
  const nullHere =
    (i % 1000 >= 100 && i % 1000 < 200) || i % 7 === 3 || (i >= 3000 && i < 3064 && i % 2 === 0);
  return {
    id: i,
    big: nullHere ? null : i % 11 === 0 ? 2n ** 60n + BigInt(i) : -i * 1_000_003,
    tier: nullHere ? null : ['gold', 'silver', 'bronze'][i % 3],
    email: `user${i}@example.com`,
    text: nullHere ? undefined : `${TEXTS[i % TEXTS.length]}${i % 50}`,
    score: i === 5 ? Number.NaN : i === 6 ? -0 : nullHere ? null : (i - 2000) * 0.25,
    vip: nullHere ? null : i % 5 === 0,
    seen: nullHere ? null : new Date(Date.UTC(2026, 0, 1) + i * 60_000),
    day: nullHere ? null : new Date(Date.UTC(2020, 0, 1) + (i % 400) * 86_400_000),
  };
}
const ROWS = Array.from({ length: 25_000 }, (_, i) => row(i));

/** Writes `rows` as a Parquet file (of `columns`, the test schema by default) and keeps it on disk. */
async function write(
  rows: Row[],
  options: ParquetOptionsInput = {},
  columns: Schema = schema,
): Promise<{ path: string; bytes: Uint8Array }> {
  const bytes = await collectBytes(fromRows(rows).pipeThrough(parquet(options).open(ctx(columns))));
  const path = join(dir, `f${Math.random().toString(36).slice(2)}.parquet`);
  writeFileSync(path, bytes);
  return { path, bytes };
}

async function sql(query: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(query)).getRowObjectsJson() as Record<string, unknown>[];
}

/** Expected min/max of a column over some rows, strings in UTF-8 byte order. */
function bounds(rows: Row[], name: string): [unknown, unknown] {
  const values = rows.map((r) => r[name]).filter((v) => v !== null && v !== undefined && !Number.isNaN(v));
  const cmp = (a: unknown, b: unknown) =>
    typeof a === 'string'
      ? compareUtf8(a, b as string)
      : (a as number) < (b as number)
        ? -1
        : (a as number) > (b as number)
          ? 1
          : 0;
  const sorted = [...values].sort(cmp);
  return [sorted[0], sorted.at(-1)];
}

describe('flat Parquet writer', () => {
  for (const codec of ['snappy', 'uncompressed', 'gzip'] as const) {
    it(`round-trips every value through DuckDB and hyparquet (${codec})`, async () => {
      const { path, bytes } = await write(ROWS, { codec, rowGroupSize: 10_000 });
      const read = await parquetReadObjects({
        file: bytes.buffer as ArrayBuffer,
        compressors: { GZIP: (input: Uint8Array) => gunzipSync(input) },
      });
      expect(read).toHaveLength(ROWS.length);
      for (const i of [0, 1, 3, 5, 6, 150, 3000, 3001, 9999, 10_000, 24_999]) {
        const want = ROWS[i]!;
        const got = read[i]!;
        expect(got.id).toBe(BigInt(i));
        expect(got.big).toBe(want.big === null ? null : BigInt(want.big as number | bigint));
        expect(got.tier).toBe(want.tier);
        expect(got.email).toBe(want.email);
        expect(got.text).toBe(want.text ?? null);
        if (Number.isNaN(want.score)) expect(got.score).toBeNaN();
        else expect(Object.is(got.score, want.score)).toBe(true);
        expect(got.vip).toBe(want.vip);
        expect(got.seen?.getTime?.() ?? null).toBe((want.seen as Date | null)?.getTime() ?? null);
      }
      // DuckDB: every value, compared in SQL against the same rows regenerated as JSON.
      const counts = await sql(
        `SELECT count(*)::INTEGER AS n, count(big)::INTEGER AS big, count(tier)::INTEGER AS tier, count(text)::INTEGER AS text,
         count(vip)::INTEGER AS vip, count(seen)::INTEGER AS seen, count(day)::INTEGER AS day, sum(id)::BIGINT AS ids,
         sum(CASE WHEN vip THEN 1 ELSE 0 END)::INTEGER AS vips, string_agg(text, '|' ORDER BY id) AS texts
         FROM read_parquet('${path}')`,
      );
      const present = (name: string) => ROWS.filter((r) => r[name] !== null && r[name] !== undefined).length;
      expect(counts[0]).toEqual({
        n: 25_000,
        big: present('big'),
        tier: present('tier'),
        text: present('text'),
        vip: present('vip'),
        seen: present('seen'),
        day: present('day'),
        ids: String((24_999 * 25_000) / 2),
        vips: ROWS.filter((r) => r.vip === true).length,
        texts: ROWS.filter((r) => r.text != null)
          .map((r) => r.text)
          .join('|'),
      });
    });
  }

  it('writes statistics per row group that DuckDB and hyparquet read as the data’s min, max and null count', async () => {
    const { path, bytes } = await write(ROWS, { rowGroupSize: 10_000 });
    const meta = parquetMetadata(bytes.buffer as ArrayBuffer);
    expect(meta.row_groups).toHaveLength(3);
    meta.row_groups.forEach((group, g) => {
      const rows = ROWS.slice(g * 10_000, (g + 1) * 10_000);
      for (const [c, column] of schema.entries()) {
        const stats = group.columns[c]!.meta_data!.statistics!;
        const nulls = rows.filter((r) => r[column.name] === null || r[column.name] === undefined).length;
        expect(stats.null_count, column.name).toBe(BigInt(nulls));
        if (column.type !== 'string') continue;
        // Bounds are cut to 16 characters; a cut max is rounded up so it still bounds the data.
        const [lo, hi] = bounds(rows, column.name) as [string, string];
        expect(stats.min_value, column.name).toBe(lo.slice(0, 16));
        const max = stats.max_value as string;
        expect(
          hi.length <= 16 ? max === hi : compareUtf8(max, hi) > 0 && max.slice(0, 15) === hi.slice(0, 15),
          column.name,
        ).toBe(true);
      }
    });
    const duck = await sql(
      `SELECT row_group_id::INTEGER AS g, path_in_schema AS c, stats_min_value AS lo, stats_max_value AS hi, encodings
       FROM parquet_metadata('${path}') WHERE path_in_schema IN ('id', 'score', 'tier', 'email') ORDER BY 1, 2`,
    );
    const group0 = Object.fromEntries(duck.filter((r) => r.g === 0).map((r) => [r.c, r]));
    expect([group0.id!.lo, group0.id!.hi]).toEqual(['0', '9999']);
    const [lo, hi] = bounds(ROWS.slice(0, 10_000), 'score') as [number, number];
    expect([Number(group0.score!.lo), Number(group0.score!.hi)]).toEqual([lo, hi]);
    expect([group0.tier!.lo, group0.tier!.hi]).toEqual(['bronze', 'silver']);
    // Few distinct tiers: a dictionary. Unique e-mails: plain values.
    expect(String(group0.tier!.encodings)).toMatch(/RLE_DICTIONARY/);
    expect(String(group0.email!.encodings)).not.toMatch(/DICTIONARY/);
  });

  it('orders string bounds by UTF-8 bytes: a surrogate pair sorts after U+E000–FFFF', async () => {
    const rows = ['\uffff', '\u{1F986}', 'a', '\ue000'].map((text, id) => ({ id, text }));
    const { bytes } = await write(rows, {}, [
      { name: 'id', type: 'integer' },
      { name: 'text', type: 'string' },
    ]);
    const stats = parquetMetadata(bytes.buffer as ArrayBuffer).row_groups[0]!.columns[1]!.meta_data!
      .statistics!;
    expect([stats.min_value, stats.max_value]).toEqual(['a', '\u{1F986}']);
  });

  it('writes far-future and far-past timestamps exactly (microseconds beyond 2^53)', async () => {
    const instants = [
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(-200, 0, 1),
      Date.UTC(2255, 5, 1),
      8.64e15,
    ];
    const rows = instants.map((t, id) => ({ id, seen: new Date(t) }));
    const { path, bytes } = await write(rows, {}, [
      { name: 'id', type: 'integer' },
      { name: 'seen', type: 'timestamp' },
    ]);
    const read = await parquetReadObjects({ file: bytes.buffer as ArrayBuffer, utf8: true });
    expect(read.map((r) => (r.seen as Date).getTime())).toEqual(instants);
    const micros = await sql(`SELECT epoch_us(seen)::VARCHAR AS us FROM read_parquet('${path}') ORDER BY id`);
    expect(micros.map((r) => r.us)).toEqual(instants.map((t) => String(BigInt(t) * 1000n)));
  });

  it('writes lone surrogates as U+FFFD, value by value, even where two neighbours would pair up', async () => {
    // Each value ends or starts with half of a pair: joined, they would make 4-byte pairs; apart,
    // each half is a 3-byte U+FFFD. 40,000 distinct values: plain encoding, one big page.
    const texts = Array.from({ length: 40_000 }, (_, i) => (i % 2 ? `\udd86${i}` : `${i}\ud83e`));
    const rows = texts.map((text, id) => ({ id, text }));
    const { bytes } = await write(rows, { rowGroupSize: 40_000 }, [
      { name: 'id', type: 'integer' },
      { name: 'text', type: 'string' },
    ]);
    const read = await parquetReadObjects({ file: bytes.buffer as ArrayBuffer });
    expect(read.map((r) => r.text)).toEqual(texts.map((t) => t.replace(/[\ud800-\udfff]/g, '\ufffd')));
  });

  it('names the column and the row of a value its type refuses, and of a null in a required column', async () => {
    const bad = [...ROWS.slice(0, 12_000)];
    bad[11_000] = { ...bad[11_000]!, big: 'twelve' };
    await expect(write(bad)).rejects.toMatchObject({
      code: 'FORMAT_FAILED',
      details: { column: 'big', row: 11_001 },
    });
    const missing = [...ROWS.slice(0, 10)];
    missing[4] = { ...missing[4]!, id: null };
    await expect(write(missing)).rejects.toMatchObject({ details: { column: 'id', row: 5 } });
  });
});
