import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collect, collectRows, fromIterable } from '../streams.ts';
import type { Row } from '../types.ts';
import { planDatasetExport } from './dataset-export.ts';
import { unionSpill } from './fanout.ts';
import type { Dataset, DatasetRecord } from './model.ts';
import { afterWatermark, mergedRecords, recordCodec, rowsToRecords } from './snapshot-dataset.ts';
import { ExternalSorter, memorySpill, type SpillStore } from './spill.ts';
import type { DatasetExportState, Page, PageRequest, Watermark } from './store.ts';

const DATASET: Dataset = {
  id: 'ds',
  name: 'ds',
  schema: [
    { name: 'id', type: 'string' },
    { name: 'n', type: 'integer' },
  ],
};
const NOW = new Date('2026-03-01T00:00:00Z');

/** (updatedAt, id) as a tuple, compared as SQL's `ORDER BY updated_at, id` does (independently of recordKey). */
const byTuple = (a: DatasetRecord, b: DatasetRecord) => (a.updatedAt !== b.updatedAt ? (a.updatedAt < b.updatedAt ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Records as D1 reads them (store/data.ts's query): ordered by (updatedAt, id), after the watermark, page by page. */
function d1Like(records: readonly DatasetRecord[]) {
  const sorted = [...records].sort(byTuple);
  return {
    listDatasetRecords: async (_id: string, request: PageRequest & { after?: Watermark }): Promise<Page<DatasetRecord>> => {
      const from = request.cursor ? Number(request.cursor) : 0;
      const w = request.after;
      const kept = sorted.filter((r) => !w || r.updatedAt > w.updatedAt || (r.updatedAt === w.updatedAt && r.id > w.id));
      const items = kept.slice(from, from + (request.limit ?? 7));
      return from + items.length < kept.length ? { items, cursor: String(from + items.length) } : { items };
    },
  };
}

/** The fan-out: each task's share sorted into one run (spilling past a tiny budget), the runs merged. */
async function fannedOut(tasks: readonly (readonly DatasetRecord[])[], watermark: Watermark | undefined) {
  const parts: SpillStore[] = [];
  for (const share of tasks) {
    const scratch = memorySpill();
    const sorter = new ExternalSorter<DatasetRecord>(scratch, recordCodec, 300);
    for (const record of share) if (afterWatermark(record, watermark)) await sorter.add(record);
    const out = memorySpill();
    let kept = 0;
    for await (const batch of sorter.sortedBatches(3)) {
      await out.write(0, batch.map(recordCodec.encode));
      kept += batch.length;
    }
    if (kept > 0) parts.push(out);
  }
  return mergedRecords(unionSpill(parts), parts.length, 4);
}

const record = fc.record({
  id: fc.constantFrom('a', 'b', 'c', 'ab', 'b0', 'z', '10', '9'),
  updatedAt: fc.constantFrom('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', '2026-01-02T00:00:00.000Z'),
  n: fc.integer({ min: -5, max: 5 }),
});

describe('snapshot datasets', () => {
  it('any split of the records into tasks exports what the D1 path exports, in order, with the same watermark (full, then incremental)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { maxLength: 40 }), fc.array(fc.nat(3), { maxLength: 40 }), fc.nat(40), async (raw, split, cut) => {
        // One record per id, as a snapshot (and D1) holds it.
        const byId = new Map(raw.map((r) => [r.id, { id: r.id, updatedAt: r.updatedAt, values: { id: r.id, n: r.n } as Row }]));
        const records = [...byId.values()];
        const tasks: DatasetRecord[][] = [[], [], [], []];
        for (const [i, r] of records.entries()) tasks[split[i] ?? 0]!.push(r);
        for (const mode of ['full', 'incremental'] as const) {
          // The second run: an earlier watermark, so some records are after it.
          const sorted = [...records].sort(byTuple);
          const mark = sorted[Math.min(cut, sorted.length - 1)];
          const prior: DatasetExportState | undefined =
            mode === 'incremental' && mark ? { kind: 'dataset', version: 1, exportedAt: NOW.toISOString(), watermark: { updatedAt: mark.updatedAt, id: mark.id } } : undefined;
          const common = { dataset: DATASET, mode, now: NOW, previous: prior, pageSize: 7 };
          const save = async () => {};
          const d1 = planDatasetExport({ ...common, store: d1Like(records), save });
          const expected = await collectRows(d1.rows);
          const fan = planDatasetExport({ ...common, store: d1Like([]), records: await fannedOut(tasks, prior?.watermark), save });
          expect(await collectRows(fan.rows)).toEqual(expected);
          // The same new watermark: the greatest (updatedAt, id) exported, or the previous one.
          expect((await fan.commit()).watermark).toEqual((await d1.commit()).watermark);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('reads rows as records: the id and update time from their columns, a timestamp as ISO text, rows without them skipped by reason', async () => {
    const skipped: Record<string, number> = {};
    const rows: Row[] = [
      { cid: 7, at: new Date('2026-01-02T03:04:05Z'), n: 1 },
      { cid: 'x', at: '2026-01-02T03:04:05+01:00', n: 2 },
      { cid: 'y', at: Date.UTC(2026, 0, 1), n: 3 },
      { cid: null, at: '2026-01-01T00:00:00Z' },
      { cid: 'z' },
      { cid: 'w', at: 'not a time' },
    ];
    const out = (await collect(fromIterable([rows]).pipeThrough(rowsToRecords({ idColumn: 'cid', updatedAtColumn: 'at' }, skipped)))).flat();
    expect(out.map((r) => [r.id, r.updatedAt])).toEqual([
      ['7', '2026-01-02T03:04:05.000Z'],
      ['x', '2026-01-02T02:04:05.000Z'],
      ['y', '2026-01-01T00:00:00.000Z'],
    ]);
    expect(out[0]!.values).toEqual(rows[0]);
    expect(skipped).toEqual({ 'missing:cid': 1, 'missing:at': 1, 'invalid:at': 1 });
  });
});
