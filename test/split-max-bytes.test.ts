/**
 * `output.split.maxBytes` measured on real files: every built-in format (CSV in UTF-8 and UTF-16,
 * JSON, Parquet flat and nested with several codecs) writes files that never pass the limit — only
 * a single row larger than the limit makes a file of that one row exceed it. CSV and JSON files are
 * full (their next row would not have fitted), Parquet files at least half full. No row is lost,
 * doubled or reordered across files (read back with DuckDB and Python's csv module). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { readWithPython } from '../fixtures/csv/readers.ts';
import { runExport } from '../src/core/pipeline.ts';
import type { PluginManifest } from '../src/core/registry.ts';
import { Registry } from '../src/core/registry.ts';
import { collectBytes, fromRows } from '../src/core/streams.ts';
import type { Row, Schema } from '../src/core/types.ts';
import { type CsvOptionsInput, csv } from '../src/plugins/format/csv/index.ts';
import { builtinPlugins } from '../src/plugins/index.ts';
import { fixedRuntime, formatContext, memorySink } from './support/memory-sink.ts';

const MAX_BYTES = 64 * 1024;
const SCHEMA: Schema = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'name', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'at', type: 'timestamp' },
  { name: 'vip', type: 'boolean' },
];

/** Rows of very different sizes: short ones, 1–3 KB ones, 30 KB ones, and one larger than the limit. */
function* rows(count: number): Generator<Row> {
  for (let id = 0; id < count; id++) {
    const name =
      id === 2_500
        ? 'h'.repeat(MAX_BYTES + 1000)
        : id % 97 === 0
          ? `${'é,"'.repeat(10_000)}${id}`
          : id % 13 === 0
            ? 'x'.repeat(1000 + (id % 2000))
            : `name ${id}`;
    yield {
      id,
      name: id % 7 === 0 ? null : name,
      score: id / 3,
      at: new Date(1_700_000_000_000 + id),
      vip: id % 2 === 0,
    };
  }
}
const COUNT = 6_000;
const HUGE_ROW = 2_500;

const dir = mkdtempSync(`${tmpdir()}/split-max-bytes-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The same rows with list and struct columns (hyparquet-writer's general path for Parquet). */
const NESTED: Schema = [
  ...SCHEMA,
  { name: 'tags', type: { list: 'string' } },
  {
    name: 'address',
    type: {
      struct: [
        { name: 'city', type: 'string' },
        { name: 'codes', type: { list: 'integer' } },
      ],
    },
  },
];
function* nestedRows(count: number): Generator<Row> {
  for (const row of rows(count)) {
    const id = row.id as number;
    yield {
      ...row,
      tags: id % 5 === 0 ? null : Array.from({ length: id % 9 }, (_, k) => `tag ${k} ${'t'.repeat(id % 50)}`),
      address:
        id % 11 === 0 ? null : { city: `city ${id % 300}`, codes: id % 3 === 0 ? [] : [id, -id, 2n ** 62n] },
    };
  }
}

async function exportFiles(plugins: PluginManifest['plugins'], batchSize: number, nested = false) {
  const pipeline = new Registry(builtinPlugins).build({ plugins });
  const mem = memorySink();
  const result = await runExport(
    pipeline,
    {
      destination: { id: 'd', name: 'dest' },
      audience: { id: 'a', name: 'A' },
      schema: nested ? NESTED : SCHEMA,
      rows: fromRows(nested ? nestedRows(COUNT) : rows(COUNT), batchSize),
      output: { split: { maxBytes: MAX_BYTES }, fileName: { dateTime: 'none' } },
    },
    fixedRuntime(),
    mem.sink,
  );
  return result.files.map((file) => ({ ...file, body: mem.objects.get(file.key)!.body }));
}

/** The limit holds for every file; only the file holding the one oversized row may pass it. */
function expectWithinLimit(files: { rows: number; formatted: number; ids: number[] }[]) {
  expect(files.length).toBeGreaterThan(5);
  for (const file of files) {
    if (file.formatted > MAX_BYTES) expect(file.ids).toHaveLength(1);
    else expect(file.formatted).toBeLessThanOrEqual(MAX_BYTES);
  }
  expect(files.flatMap((f) => f.ids)).toEqual([...Array(COUNT).keys()]);
}

const duck = DuckDBInstance.create(':memory:').then((db) => db.connect());
async function duckIds(query: string): Promise<number[]> {
  const result = await (await duck).runAndReadAll(query);
  return result.getRows().map((r) => Number(r[0]));
}

describe('maxBytes cuts a file before the row that would pass it', () => {
  for (const [name, plugins, batch] of [
    ['CSV (UTF-8), batches of 1,000', [{ use: 'format/csv' }], 1_000],
    [
      'CSV (UTF-8) + gzip: the limit is on formatted bytes',
      [{ use: 'format/csv' }, { use: 'compression/gzip' }],
      256,
    ],
    [
      'CSV (UTF-16 with BOM), RFC 4180, one batch',
      [{ use: 'format/csv', options: { encoding: 'UTF-16', escape: '"' } }],
      COUNT,
    ],
  ] as const) {
    it(name, async () => {
      const files = (await exportFiles(plugins as unknown as PluginManifest['plugins'], batch)).map(
        (file, n) => {
          const bytes = file.key.endsWith('.gz') ? gunzipSync(file.body) : file.body;
          const utf16 = name.includes('UTF-16');
          const text = new TextDecoder(utf16 ? 'utf-16le' : 'utf-8').decode(bytes);
          const path = `${dir}/${name.replace(/\W+/g, '-')}-${n}.csv`;
          writeFileSync(path, text);
          return { rows: file.rows, formatted: bytes.length, path };
        },
      );
      const python = readWithPython(
        files.map((f) => ({
          path: f.path,
          encoding: 'utf-8',
          dialect: {
            delimiter: ',',
            quote: '"',
            escape: name.includes('RFC') ? '"' : '\\',
            header: true,
            nullValue: '',
            lineSep: '\n',
            columns: SCHEMA.map((c) => c.name),
          },
        })),
      );
      const measured = files.map((f, n) => {
        const records = python[n]!;
        if (!Array.isArray(records)) throw new Error(records.error);
        const ids = records.slice(1).map((r) => Number(r[0]));
        expect(ids).toHaveLength(f.rows);
        return { ...f, ids };
      });
      expectWithinLimit(measured);
      // Full: the next file's first row, written alone with the same options, would not have fitted.
      const options = (plugins[0] as unknown as { options?: CsvOptionsInput }).options ?? {};
      const all = [...rows(COUNT)];
      for (const [n, file] of measured.entries()) {
        const next = measured[n + 1];
        if (!next || file.formatted > MAX_BYTES) continue;
        const row = await collectBytes(
          fromRows([all[next.ids[0]!]!]).pipeThrough(
            csv({ ...options, header: false }).open(formatContext(SCHEMA)),
          ),
        );
        const bom = name.includes('UTF-16') ? 2 : 0;
        expect(file.formatted + row.length - bom).toBeGreaterThan(MAX_BYTES);
      }
    });
  }

  it('JSON, batches of 300', async () => {
    const files = (await exportFiles([{ use: 'format/json' }], 300)).map((file) => {
      const lines = new TextDecoder().decode(file.body).split('\n').slice(0, -1);
      return {
        rows: file.rows,
        formatted: file.body.length,
        ids: lines.map((l) => JSON.parse(l).id as number),
        lines,
      };
    });
    expectWithinLimit(files);
    files.forEach((file, n) => {
      const next = files[n + 1];
      if (next && file.formatted <= MAX_BYTES)
        expect(file.formatted + new TextEncoder().encode(next.lines[0]!).length + 1).toBeGreaterThan(
          MAX_BYTES,
        );
    });
  });

  for (const [codec, nested] of [
    ['snappy', false],
    ['gzip', false],
    ['uncompressed', false],
    ['snappy', true],
    ['uncompressed', true],
  ] as const) {
    const shape = nested ? 'lists and structs' : 'flat schema';
    it(`Parquet (${shape}, ${codec}, row groups of 500): within the limit, and at least half full`, async () => {
      const files = await exportFiles(
        [{ use: 'format/parquet', options: { codec, rowGroupSize: 500 } }],
        1_000,
        nested,
      );
      const measured: { rows: number; formatted: number; ids: number[] }[] = [];
      for (const [n, file] of files.entries()) {
        const path = `${dir}/${codec}-${nested}-${n}.parquet`;
        writeFileSync(path, file.body);
        const ids = await duckIds(`SELECT id FROM read_parquet('${path}')`);
        measured.push({ rows: file.rows, formatted: file.body.length, ids });
      }
      expectWithinLimit(measured);
      // The bound Parquet counts for the buffered group is loose (compression, dictionaries), but
      // a group whose bound reaches a quarter of the limit is written to learn its real size: a
      // file cut before a small row (not one of the ~50 KB ones) is at least half full.
      measured.forEach((file, n) => {
        const next = measured[n + 1]?.ids[0];
        if (next !== undefined && next % 97 !== 0 && next !== HUGE_ROW)
          expect(file.formatted).toBeGreaterThan(MAX_BYTES / 2);
      });
    });
  }
});
