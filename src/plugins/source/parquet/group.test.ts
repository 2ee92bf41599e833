import fc from 'fast-check';
import type { Encoding } from 'hyparquet';
import { parquetReadObjects } from 'hyparquet/src/index.js';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer/src/index.js';
import { describe, expect, it } from 'vitest';
import { collect, collectBytes, fromRows } from '../../../core/streams.ts';
import type { Column, Row, Schema } from '../../../core/types.ts';
import { parquet } from '../../format/parquet/index.ts';
import { formatContext } from '../../../../test/support/memory-sink.ts';
import { compressors, MAX_BATCH_ROWS, parquetSource } from './index.ts';
import { normalizerFor } from './schema.ts';

/** Columns of every kind the source reads, each with values of its type (null where nullable). */
const kinds: { column: Column; value: fc.Arbitrary<unknown> }[] = [
  {
    column: { name: 'i', type: 'integer', nullable: false },
    value: fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  },
  {
    column: { name: 's', type: 'string' },
    value: fc.option(fc.oneof(fc.constantFrom('a', 'b', 'é'), fc.string({ unit: 'grapheme' }))),
  },
  { column: { name: 'd', type: 'double' }, value: fc.option(fc.double({ noNaN: true })) },
  { column: { name: 'b', type: 'boolean' }, value: fc.option(fc.boolean()) },
  {
    column: { name: 't', type: 'timestamp' },
    value: fc.option(fc.integer({ min: -1e12, max: 4e12 }).map((ms) => new Date(ms))),
  },
  {
    column: { name: 'day', type: 'date' },
    value: fc.option(fc.integer({ min: -20_000, max: 40_000 }).map((d) => new Date(d * 86_400_000))),
  },
  {
    column: { name: 'tags', type: { list: 'string' } },
    value: fc.option(fc.array(fc.constantFrom('x', 'y', 'zz'), { maxLength: 3 })),
  },
  {
    column: {
      name: 'o',
      type: {
        struct: [
          { name: 'k', type: 'integer' },
          { name: 'v', type: 'string' },
        ],
      },
    },
    value: fc.option(fc.record({ k: fc.option(fc.integer()), v: fc.option(fc.string()) })),
  },
];

const cases = fc.record({
  picked: fc.subarray(kinds, { minLength: 1 }),
  count: fc.integer({ min: 0, max: 2 * MAX_BATCH_ROWS + 50 }),
  rowGroupSize: fc.integer({ min: 1, max: 3 * MAX_BATCH_ROWS }),
  seed: fc.integer(),
  reorder: fc.boolean(),
});

describe('source/parquet row groups read in slices', () => {
  it('gives the rows hyparquet’s object rows give (values, types, key order), in batches of at most MAX_BATCH_ROWS', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ picked, count, rowGroupSize, seed, reorder }) => {
        const schema: Schema = picked.map((k) => k.column);
        // Few distinct rows repeated: random values without generating thousands of them.
        const samples = fc.sample(fc.tuple(...picked.map((k) => k.value)), { numRuns: 37, seed });
        const rows: Row[] = Array.from({ length: count }, (_, n) =>
          Object.fromEntries(schema.map((c, i) => [c.name, samples[n % samples.length]![i]])),
        );
        const bytes = await collectBytes(
          fromRows(rows).pipeThrough(parquet({ rowGroupSize }).open(formatContext(schema))),
        );
        const names = reorder ? schema.map((c) => c.name).reverse() : undefined;
        await expectSameRows(new Blob([bytes.slice()]), names);
      }),
      { numRuns: 40, seed: 20261205 },
    );
  });

  it('does so for files with several v2 pages per column chunk and every encoding hyparquet-writer writes', async () => {
    type Kind = [ColumnSource['type'], (Encoding | undefined)[], (n: number) => unknown];
    const column = fc.constantFrom<Kind>(
      ['INT64', [undefined, 'PLAIN', 'DELTA_BINARY_PACKED', 'BYTE_STREAM_SPLIT'], (n) => BigInt(n % 9) * 2n ** 40n - BigInt(n)],
      ['INT32', [undefined, 'PLAIN', 'DELTA_BINARY_PACKED', 'BYTE_STREAM_SPLIT'], (n) => (n % 5) - n],
      ['DOUBLE', [undefined, 'PLAIN', 'BYTE_STREAM_SPLIT'], (n) => (n % 7) / 3],
      ['STRING', [undefined, 'PLAIN', 'DELTA_LENGTH_BYTE_ARRAY', 'DELTA_BYTE_ARRAY'], (n) => `v${n % 11}é${n % 3 ? n : ''}`],
      ['BOOLEAN', [undefined, 'PLAIN', 'RLE'], (n) => n % 3 === 0],
      ['TIMESTAMP', [undefined, 'PLAIN', 'DELTA_BINARY_PACKED'], (n) => new Date(1_700_000_000_000 + (n % 13) * 1000)],
    );
    const files = fc.record({
      columns: fc.array(fc.tuple(column, fc.nat(), fc.boolean(), fc.integer({ min: 1, max: 9 })), {
        minLength: 1,
        maxLength: 4,
      }),
      count: fc.integer({ min: 0, max: 3 * MAX_BATCH_ROWS }),
      rowGroupSize: fc.integer({ min: 1, max: 3 * MAX_BATCH_ROWS }),
      pageSize: fc.integer({ min: 64, max: 20_000 }),
    });
    await fc.assert(
      fc.asyncProperty(files, async ({ columns, count, rowGroupSize, pageSize }) => {
        const columnData: ColumnSource[] = columns.map(([[type, encodings, value], pick, nullable, nullEvery], c) => ({
          name: `c${c}`,
          type,
          nullable,
          encoding: encodings[pick % encodings.length],
          data: Array.from({ length: count }, (_, n) => (nullable && n % nullEvery === 0 ? null : value(n))),
        }));
        await expectSameRows(new Blob([parquetWriteBuffer({ columnData, rowGroupSize, pageSize })]));
      }),
      { numRuns: 40, seed: 20261205 },
    );
  });
});

describe('source/parquet columns named twice', () => {
  it('reads a flat and a nested column named twice as hyparquet does', async () => {
    const schema: Schema = kinds.map((k) => k.column);
    const rows: Row[] = fc.sample(fc.tuple(...kinds.map((k) => k.value)), { numRuns: 30, seed: 20261205 }).map((values) =>
      Object.fromEntries(schema.map((c, i) => [c.name, values[i]])),
    );
    const bytes = await collectBytes(fromRows(rows).pipeThrough(parquet({ rowGroupSize: 7 }).open(formatContext(schema))));
    await expectSameRows(new Blob([bytes.slice()]), ['tags', 's', 'tags', 's']);
  });
});

/** source/parquet's rows of the file equal hyparquet's object rows, normalised, key order included. */
async function expectSameRows(blob: Blob, names?: string[]): Promise<void> {
  const { schema: read, rows: stream } = await parquetSource(names ? { columns: names } : {}).open(formatContext(), blob);
  const batches = await collect(stream);
  for (const batch of batches) expect(batch.length).toBeGreaterThan(0);
  for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(MAX_BATCH_ROWS);
  const got = batches.flat();

  const file = { byteLength: blob.size, slice: (s: number, e?: number) => blob.slice(s, e).arrayBuffer() };
  const expected = (await parquetReadObjects({ file, columns: names, compressors })) as Row[];
  const normalizers = read!.map((c) => [c.name, normalizerFor(c.type)] as const);
  for (const row of expected) for (const [name, normalize] of normalizers) row[name] = normalize(row[name]);
  expect(got).toEqual(expected);
  expect(got.map((r) => Object.keys(r))).toEqual(expected.map((r) => Object.keys(r)));
}
