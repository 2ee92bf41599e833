/**
 * Snapshot sources on an R2 binding, inside workerd with miniflare's R2: planned and read by
 * ranged gets (only the projected column chunks), listed by cursor, and refused with the key named.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/core/registry.ts';
import { webPlatform } from '../../src/core/platform.ts';
import { type ReadStats, openSnapshotStore, planSnapshot, projection, readUnit, snapshotSourceIssues, toSnapshotSource } from '../../src/core/snapshot/index.ts';
import { collect } from '../../src/core/streams.ts';
import { builtinPlugins } from '../../src/plugins/index.ts';
import { type R2Bucket, r2ObjectStore, r2Stores } from '../../src/worker/r2-store.ts';
import { customerNdjson, customerParquet, customerRows } from '../support/snapshot-fixtures.ts';

const bucket = (env as unknown as { SNAPSHOTS: R2Bucket & { put(key: string, value: Uint8Array | string): Promise<unknown> } }).SNAPSHOTS;
const rows = customerRows(320);

/** The binding, recording the ranges of its gets. */
function recorded(): { bucket: R2Bucket; gets: { key: string; range?: { offset: number; length: number } }[] } {
  const gets: { key: string; range?: { offset: number; length: number } }[] = [];
  return {
    gets,
    bucket: {
      head: (key) => bucket.head(key),
      list: (options) => bucket.list(options),
      get: (key, options) => {
        gets.push({ key, ...(options?.range && { range: options.range }) });
        return bucket.get(key, options);
      },
    },
  };
}

describe('r2ObjectStore (workerd, miniflare R2)', () => {
  it('plans and reads a Parquet prefix by ranged gets of the projected chunks', async () => {
    const files = { 'r2-store/part-0.parquet': customerParquet(rows.slice(0, 200)), 'r2-store/part-1.parquet': customerParquet(rows.slice(200)) };
    for (const [key, body] of Object.entries(files)) await bucket.put(key, body);
    const checked = snapshotSourceIssues({ name: 'r2', format: 'parquet', location: { type: 'r2', binding: 'SNAPSHOTS', prefix: 'r2-store/' } });
    expect(checked.issues).toEqual([]);
    const source = toSnapshotSource(checked.source!);
    const { bucket: binding, gets } = recorded();
    const store = openSnapshotStore(checked.source!.location, { platform: webPlatform(), registry: new Registry(builtinPlugins), r2: (name) => (name === 'SNAPSHOTS' ? r2ObjectStore(binding, name) : undefined) });
    const plan = await planSnapshot(store, source);
    expect(plan.files.map((f) => [f.key, f.rowGroups])).toEqual([
      ['r2-store/part-0.parquet', [100, 100]],
      ['r2-store/part-1.parquet', [100, 20]],
    ]);
    const columns = projection(plan.schema, source, { rules: ['country = "FR"'] });
    expect(columns).toEqual(['id', 'updatedAt', 'country']);
    gets.length = 0;
    const stats: ReadStats = { bytesFetched: 0, requests: 0, rows: 0 };
    const got = [];
    for (const unit of plan.units) got.push(...(await collect(readUnit(store, plan, unit, columns, stats))).flat());
    expect(got).toEqual(rows.map((r) => ({ id: r.id, updatedAt: r.updatedAt, country: r.country })));
    expect(gets.every((g) => g.range !== undefined)).toBe(true);
    // Per unit: the footer (2 gets), then one get per row group; the notes column is never fetched.
    expect(gets).toHaveLength(plan.units.length * 2 + 4);
    expect(stats).toMatchObject({ requests: gets.length, rows: 320 });
    expect(stats.bytesFetched).toBeLessThan(plan.bytes / 4);
  });

  it('lists past a page by cursor, streams NDJSON, and names a missing key', async () => {
    for (let i = 0; i < 1005; i++) await bucket.put(`r2-store-many/f-${String(i).padStart(4, '0')}.ndjson`, customerNdjson(rows.slice(i % 300, (i % 300) + 1)));
    const store = r2Stores(env)('SNAPSHOTS')!;
    const plan = await planSnapshot(store, { format: 'ndjson', prefix: 'r2-store-many/' });
    expect(plan.files).toHaveLength(1005);
    expect((await collect(readUnit(store, plan, plan.units[1004]!, ['id']))).flat()).toEqual([{ id: rows[1004 % 300]!.id }]);
    await expect(planSnapshot(store, { format: 'parquet', key: 'r2-store/none.parquet' })).rejects.toMatchObject({
      code: 'SOURCE_NOT_FOUND',
      message: "No parquet object at r2://SNAPSHOTS/r2-store/none.parquet: check the source's key.",
    });
    expect(r2Stores(env)('DB')).toBeUndefined();
    // An object replaced after planning is refused, not read as a mix of versions.
    await bucket.put('r2-store-swap/a.ndjson', customerNdjson(rows.slice(0, 2)));
    const swap = await planSnapshot(store, { format: 'ndjson', key: 'r2-store-swap/a.ndjson' });
    await bucket.put('r2-store-swap/a.ndjson', customerNdjson(rows.slice(2, 4)));
    await expect(collect(readUnit(store, swap, swap.units[0]!, ['id']))).rejects.toMatchObject({
      code: 'SOURCE_CHANGED',
      message: 'r2://SNAPSHOTS/r2-store-swap/a.ndjson was replaced since the run was planned: run the export again (it plans the snapshot afresh).',
    });
    expect(() => openSnapshotStore({ type: 'r2', binding: 'NOPE', key: 'a.parquet' }, { platform: webPlatform(), registry: new Registry(builtinPlugins), r2: r2Stores(env) })).toThrow(
      /this host has no R2 binding "NOPE"/,
    );
  });
});
