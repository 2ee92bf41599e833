/**
 * A snapshot in a local folder (the CLI's store): planned and read exactly as on S3 — ranged reads
 * of the projected chunks, Hive folders, NDJSON — with the refusals naming the path.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localObjectStore } from '../src/cli/local-store.ts';
import { ExportError } from '../src/core/errors.ts';
import { countingStore, planSnapshot, readUnit } from '../src/core/snapshot/index.ts';
import type { ReadStats } from '../src/core/snapshot/types.ts';
import { collect } from '../src/core/streams.ts';
import { customerNdjson, customerParquet, customerRows } from './support/snapshot-fixtures.ts';

const rows = customerRows(260);
const dir = mkdtempSync(join(tmpdir(), 'edge-export-local-snapshot-'));
const files: Record<string, Uint8Array | string> = {
  'lake/market=EU/part-0.parquet': customerParquet(rows.slice(0, 200)),
  'lake/market=NA/part-0.parquet': customerParquet(rows.slice(200)),
  'lake/market=NA/.part-0.parquet.crc': 'x',
  'nd/a.ndjson': customerNdjson(rows.slice(0, 30)),
};

describe('localObjectStore', () => {
  beforeAll(() => {
    for (const [key, body] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, key)), { recursive: true });
      writeFileSync(join(dir, key), body);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists a prefix in key order, heads and reads byte ranges', async () => {
    const store = localObjectStore(dir);
    const listed = [];
    for await (const info of store.list('lake/')) listed.push([info.key, info.size]);
    expect(listed).toEqual([
      ['lake/market=EU/part-0.parquet', (files['lake/market=EU/part-0.parquet'] as Uint8Array).length],
      ['lake/market=NA/.part-0.parquet.crc', 1],
      ['lake/market=NA/part-0.parquet', (files['lake/market=NA/part-0.parquet'] as Uint8Array).length],
    ]);
    const partial = [];
    for await (const info of store.list('lake/market=N')) partial.push(info.key);
    expect(partial).toEqual(['lake/market=NA/.part-0.parquet.crc', 'lake/market=NA/part-0.parquet']);
    expect(await store.head('nd/missing.ndjson')).toBeUndefined();
    const parquet = files['lake/market=EU/part-0.parquet'] as Uint8Array;
    expect(await store.read('lake/market=EU/part-0.parquet', 4, 40)).toEqual(parquet.slice(4, 40));
  });

  it('plans and reads a Hive-partitioned Parquet prefix by projected ranges', async () => {
    const store = localObjectStore(dir);
    const plan = await planSnapshot(store, { format: 'parquet', prefix: 'lake/', hivePartitioning: true });
    expect(plan.files.map((f) => [f.key, f.partition, f.rowGroups])).toEqual([
      ['lake/market=EU/part-0.parquet', { market: 'EU' }, [100, 100]],
      ['lake/market=NA/part-0.parquet', { market: 'NA' }, [60]],
    ]);
    const stats: ReadStats = { bytesFetched: 0, requests: 0, rows: 0 };
    const got = [];
    for (const unit of plan.units) got.push(...(await collect(readUnit(countingStore(store, stats), plan, unit, ['id', 'market']))).flat());
    expect(got).toEqual(rows.map((r, i) => ({ id: r.id, market: i < 200 ? 'EU' : 'NA' })));
    expect(stats.bytesFetched).toBeLessThan(plan.bytes / 4);
  });

  it('streams an NDJSON file', async () => {
    const store = localObjectStore(dir);
    const plan = await planSnapshot(store, { format: 'ndjson', key: 'nd/a.ndjson' });
    const got = (await collect(readUnit(store, plan, plan.units[0]!, ['id', 'country']))).flat();
    expect(got).toEqual(rows.slice(0, 30).map((r) => ({ id: r.id, country: r.country })));
  });

  it('refuses a file replaced since the plan', async () => {
    const store = localObjectStore(dir);
    writeFileSync(join(dir, 'swap.ndjson'), customerNdjson(rows.slice(0, 2)));
    const plan = await planSnapshot(store, { format: 'ndjson', key: 'swap.ndjson' });
    writeFileSync(join(dir, 'swap.ndjson'), customerNdjson(rows.slice(0, 3)));
    const error = await collect(readUnit(store, plan, plan.units[0]!, ['id'])).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SOURCE_CHANGED', message: `${dir}/swap.ndjson was replaced since the run was planned: run the export again (it plans the snapshot afresh).` });
  });

  it('refuses a missing file and a key that leaves the folder', async () => {
    const store = localObjectStore(dir);
    const error = await store.read('nd/b.ndjson', 0, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).code).toBe('SOURCE_NOT_FOUND');
    expect((error as ExportError).message).toBe(`No file "nd/b.ndjson" in ${dir}: check the source's key (or prefix).`);
    await expect(store.read('../etc/passwd', 0, 1)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(planSnapshot(store, { format: 'csv', prefix: 'nd/' })).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' });
  });
});
