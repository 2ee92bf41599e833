import { describe, expect, it } from 'vitest';
import { ExportError } from '../../../core/errors.ts';
import { collect, collectBytes, collectRows, fromRows } from '../../../core/streams.ts';
import type { Row, Schema } from '../../../core/types.ts';
import { parquet } from '../../format/parquet/index.ts';
import { MAX_BATCH_ROWS, parquetSource, plugin } from './index.ts';
import { formatContext } from '../../../../test/support/memory-sink.ts';

const ctx = formatContext;

const schema: Schema = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'name', type: 'string', nullable: true },
  { name: 'score', type: 'double', nullable: true },
  { name: 'ok', type: 'boolean', nullable: true },
  { name: 'at', type: 'timestamp', nullable: true },
  { name: 'day', type: 'date', nullable: true },
  { name: 'tags', type: { list: 'string' }, nullable: true },
  {
    name: 'items',
    type: {
      list: {
        struct: [
          { name: 'sku', type: 'string', nullable: false },
          { name: 'qty', type: 'integer', nullable: true },
        ],
      },
    },
    nullable: true,
  },
];

const rows: Row[] = Array.from({ length: 25 }, (_, i) => ({
  id: i === 24 ? 2n ** 60n : i - 3,
  name: i % 4 === 0 ? null : `n${i} ü`,
  score: i / 4,
  ok: i % 2 === 0,
  at: new Date(Date.UTC(1969, 11, 31, 23, 59, i)),
  day: new Date(Date.UTC(1950, 0, 1 + i)),
  tags: i % 3 === 0 ? [] : ['a', `t${i}`],
  items: i % 5 === 0 ? null : [{ sku: `s${i}`, qty: i }],
}));

async function fileOf(data: Row[], rowGroupSize = 10): Promise<Blob> {
  const bytes = await collectBytes(fromRows(data).pipeThrough(parquet({ rowGroupSize }).open(ctx(schema))));
  return new Blob([bytes.slice()]);
}

describe('source/parquet', () => {
  it('reads back what format/parquet wrote, schema and values, across row groups', async () => {
    const { schema: read, rows: stream } = await parquetSource().open(ctx(), await fileOf(rows));
    expect(read).toEqual(schema);
    const got = await collectRows(stream);
    expect(got).toEqual(rows.map((r) => ({ ...r, id: r.id === 2n ** 60n ? 2n ** 60n : r.id })));
    expect(typeof got[0]!.id).toBe('number');
    expect(typeof got[24]!.id).toBe('bigint');
    expect(plugin.name).toBe('source/parquet');
  });

  it('hands a large row group on in batches of at most MAX_BATCH_ROWS', async () => {
    const data = Array.from({ length: 10_000 }, (_, n) => ({ n }));
    const one = ctx([{ name: 'n', type: 'integer' }]);
    const bytes = await collectBytes(fromRows(data).pipeThrough(parquet({ rowGroupSize: 10_000 }).open(one)));
    const { rows: stream } = await parquetSource().open(ctx(), new Blob([bytes.slice()]));
    const batches = await collect(stream);
    expect(batches.map((b) => b.length)).toEqual([
      MAX_BATCH_ROWS,
      MAX_BATCH_ROWS,
      10_000 - 2 * MAX_BATCH_ROWS,
    ]);
    expect(batches.flat()).toEqual(data);
  });

  it('reads only the chosen columns, in the chosen order', async () => {
    const { schema: read, rows: stream } = await parquetSource({ columns: ['day', 'id'] }).open(
      ctx(),
      await fileOf(rows),
    );
    expect(read!.map((c) => c.name)).toEqual(['day', 'id']);
    expect((await collectRows(stream))[1]).toEqual({ day: rows[1]!.day, id: -2 });
  });

  it('names an unknown column', async () => {
    const error = await parquetSource({ columns: ['nope'] })
      .open(ctx(), await fileOf(rows))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SOURCE_INVALID', details: { column: 'nope' } });
  });

  it('refuses a stream, since Parquet needs random access', async () => {
    const error = await parquetSource()
      .open(ctx(), new Blob(['x']).stream())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect(error).toMatchObject({ code: 'SOURCE_INVALID' });
    expect((error as Error).message).toMatch(/random access/);
  });

  it('says when a file is not Parquet', async () => {
    const error = await parquetSource()
      .open(ctx(), new Blob(['id,name\n1,a\n']))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SOURCE_INVALID', plugin: 'source/parquet' });
  });

  it('reads an empty file as no rows with its schema', async () => {
    const { schema: read, rows: stream } = await parquetSource().open(ctx(), await fileOf([]));
    expect(read).toEqual(schema);
    expect(await collectRows(stream)).toEqual([]);
  });
});
