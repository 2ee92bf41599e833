import { describe, expect, it } from 'vitest';
import { collectRows } from '../streams.ts';
import { datasetExportFolder, planDatasetExport } from './dataset-export.ts';
import type { ExportMode } from './export-plan.ts';
import { MemoryStore } from '../../../test/support/memory-store.ts';
import type { Dataset } from './model.ts';
import { stateSlot } from './store.ts';

const dataset: Dataset = {
  id: 'orders',
  name: 'Orders',
  schema: [
    { name: 'orderId', type: 'string', nullable: false },
    { name: 'total', type: 'double' },
    { name: 'placedAt', type: 'timestamp' },
  ],
};
const KEY = { dataflowId: 'df', subjectId: 'orders' };

async function run(store: MemoryStore, now: string, mode: ExportMode = 'incremental', commit = true) {
  const slot = await stateSlot(store, KEY, 'dataset');
  const plan = planDatasetExport({
    store,
    dataset,
    mode,
    now: new Date(now),
    previous: slot.previous,
    save: slot.save,
    pageSize: 2,
  });
  const rows = await collectRows(plan.rows);
  if (commit) await plan.commit();
  return { rows, stats: plan.stats, incremental: plan.incremental };
}

const record = (id: string, updatedAt: string, values: Record<string, unknown>) => ({
  id,
  updatedAt,
  values,
});

describe('dataset exports', () => {
  it('names the run folder by dataset id and UTC minute', () => {
    const at = new Date('2026-03-04T05:06:59.999Z');
    expect(datasetExportFolder('exports/daily/', 'orders', at)).toBe(
      'exports/daily/orders/exportTime=202603040506/',
    );
    expect(datasetExportFolder('', 'orders', at)).toBe('orders/exportTime=202603040506/');
  });

  it('exports in full first, then only records written after the watermark; failed runs do not advance it', async () => {
    const store = new MemoryStore();
    await store.putDataset(dataset);
    await store.putDatasetRecords('orders', [
      record('o1', '2026-01-01T00:00:00Z', {
        orderId: 'o1',
        total: '12.5',
        placedAt: '2026-01-01T00:00:00Z',
        extra: 'dropped',
      }),
      record('o2', '2026-01-01T00:00:00Z', { orderId: 'o2', total: 3 }),
      record('o3', '2026-01-01T01:00:00Z', { total: 1 }),
    ]);
    const first = await run(store, '2026-01-02T00:00:00Z');
    expect(first.incremental).toBe(false);
    expect(first.rows).toEqual([
      { orderId: 'o1', total: 12.5, placedAt: new Date('2026-01-01T00:00:00Z') },
      { orderId: 'o2', total: 3, placedAt: null },
    ]);
    expect(first.stats).toEqual({ read: 3, exported: 2, skipped: { 'missing:orderId': 1 } });

    await store.putDatasetRecords('orders', [
      record('o2', '2026-01-02T01:00:00Z', { orderId: 'o2', total: 4 }),
      record('o4', '2026-01-02T02:00:00Z', { orderId: 'o4', total: 9 }),
    ]);
    const expected = [
      { orderId: 'o2', total: 4, placedAt: null },
      { orderId: 'o4', total: 9, placedAt: null },
    ];
    expect((await run(store, '2026-01-03T00:00:00Z', 'incremental', false)).rows).toEqual(expected);
    const second = await run(store, '2026-01-03T00:05:00Z');
    expect(second.incremental).toBe(true);
    expect(second.rows).toEqual(expected);
    expect((await run(store, '2026-01-04T00:00:00Z')).rows).toEqual([]);
    expect(await store.getExportState(KEY)).toEqual({
      kind: 'dataset',
      version: 1,
      exportedAt: '2026-01-04T00:00:00.000Z',
      watermark: { updatedAt: '2026-01-02T02:00:00Z', id: 'o4' },
    });
    expect((await run(store, '2026-01-05T00:00:00Z', 'full')).rows.map((r) => r.orderId)).toEqual([
      'o1',
      'o2',
      'o4',
    ]);
  });

  it('refuses, counted as invalid:<column>, a record whose value its column cannot hold exactly', async () => {
    const store = new MemoryStore();
    const counts: Dataset = { id: 'counts', name: 'Counts', schema: [{ name: 'n', type: 'integer' }] };
    await store.putDataset(counts);
    await store.putDatasetRecords('counts', [
      record('a', '2026-01-01T00:00:00Z', { n: '9007199254740993' }),
      record('b', '2026-01-01T00:00:00Z', { n: '9223372036854775808' }),
    ]);
    const plan = planDatasetExport({
      store,
      dataset: counts,
      mode: 'full',
      now: new Date(0),
      save: async () => {},
    });
    expect(await collectRows(plan.rows)).toEqual([{ n: 9007199254740993n }]);
    expect(plan.stats).toEqual({ read: 2, exported: 1, skipped: { 'invalid:n': 1 } });
  });
});
