/**
 * The native page compressors Node hosts give format/parquet (src/hosts/node/parquet-codecs.ts): files
 * written with native snappy and zlib gzip are read back whole by DuckDB and hyparquet.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { collectBytes, fromRows } from '../src/core/streams.ts';
import type { Schema } from '../src/core/types.ts';
import { nodeParquetCodecs } from '../src/hosts/node/parquet-codecs.ts';
import { parquet } from '../src/plugins/format/parquet/index.ts';
import { formatContext } from './support/memory-sink.ts';

const dir = mkdtempSync(join(tmpdir(), 'edge-export-parquet-codecs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const schema: Schema = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'email', type: 'string' },
  { name: 'tier', type: 'string' },
];
const rows = Array.from({ length: 30_000 }, (_, id) => ({
  id,
  email: `user${id}@example.com`,
  tier: id % 9 ? 'silver' : null,
}));
const ctx = formatContext(schema);

describe('format/parquet with the Node host codecs', () => {
  for (const codec of ['snappy', 'gzip'] as const) {
    it(`${codec}: DuckDB and hyparquet read every row back`, async () => {
      const bytes = await collectBytes(fromRows(rows).pipeThrough(parquet({ codec }, { codecs: nodeParquetCodecs }).open(ctx)));
      const path = join(dir, `${codec}.parquet`);
      writeFileSync(path, bytes);
      const meta = parquetMetadata(bytes.buffer as ArrayBuffer);
      expect(meta.row_groups[0]!.columns[0]!.meta_data!.codec).toBe(codec.toUpperCase());
      const read = await parquetReadObjects({
        file: bytes.buffer as ArrayBuffer,
        compressors: { GZIP: (input: Uint8Array) => gunzipSync(input) },
      });
      expect(read.map((r) => [Number(r.id), r.email, r.tier])).toEqual(
        rows.map((r) => [r.id, r.email, r.tier]),
      );
      const db = await (await DuckDBInstance.create(':memory:')).connect();
      const summary = (
        await db.runAndReadAll(
          `SELECT count(*)::INTEGER AS n, count(tier)::INTEGER AS t, sum(id)::BIGINT AS s, max(email) AS m FROM read_parquet('${path}')`,
        )
      ).getRowObjectsJson();
      db.closeSync();
      expect(summary).toEqual([
        {
          n: 30_000,
          t: rows.filter((r) => r.tier).length,
          s: String((29_999 * 30_000) / 2),
          m: 'user9@example.com',
        },
      ]);
    });
  }
});
