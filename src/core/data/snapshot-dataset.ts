/**
 * A dataset read from a snapshot source (docs/SNAPSHOTS.md, "Datasets"): its records are the
 * snapshot's rows — the source's id and update-time columns give each record's id and update time,
 * the row's columns its values. A fanned-out run's map tasks keep the records after the dataset's
 * watermark (`afterWatermark`) and sort them by (updatedAt, id) into one run each (`recordCodec`);
 * the reduce merges every task's run (`mergedRecords`) into the order the D1 path reads records in,
 * so `planDatasetExport` writes the same files and the same new watermark.
 */
import type { Row } from '../types.ts';
import type { DatasetRecord } from './model.ts';
import { decodeValue, encodeValue, ExternalSorter, type SpillStore } from './spill.ts';
import type { Watermark } from './store.ts';

/** A record's sort key: (updatedAt, id), as D1 orders records (`\u0000` sorts a shorter time first). */
export function recordKey(record: Pick<DatasetRecord, 'id' | 'updatedAt'>): string {
  return `${record.updatedAt}\u0000${record.id}`;
}

/** How a task's sorted run keeps records: one encoded line each, keyed by (updatedAt, id). */
export const recordCodec = {
  encode: (record: DatasetRecord): string => encodeValue([record.updatedAt, record.id, record.values]),
  decode: (line: string): DatasetRecord => {
    const [updatedAt, id, values] = decodeValue(line) as [string, string, Row];
    return { id, updatedAt, values };
  },
  key: recordKey,
};

/** The sort key of an encoded record line (`indexedRows` records each row's first). */
export const recordLineKey = (line: string): string => recordKey(recordCodec.decode(line));

/** True when a record comes strictly after the watermark (every record when there is none). */
export function afterWatermark(record: Pick<DatasetRecord, 'id' | 'updatedAt'>, watermark: Watermark | undefined): boolean {
  if (!watermark) return true;
  return record.updatedAt > watermark.updatedAt || (record.updatedAt === watermark.updatedAt && record.id > watermark.id);
}

/**
 * Snapshot rows as dataset records: the id from `idColumn`, the update time from `updatedAtColumn`
 * (a timestamp, ISO text or epoch milliseconds; ISO text out), the row as the values. A row without
 * an id or a readable update time is skipped, counted in `skipped` as `missing:<column>` or
 * `invalid:<column>`.
 */
export function rowsToRecords(
  columns: { readonly idColumn?: string | undefined; readonly updatedAtColumn?: string | undefined },
  skipped: Record<string, number>,
): TransformStream<readonly Row[], readonly DatasetRecord[]> {
  const idColumn = columns.idColumn ?? 'id';
  const timeColumn = columns.updatedAtColumn ?? 'updatedAt';
  const skip = (reason: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };
  return new TransformStream({
    transform(rows, controller) {
      const records: DatasetRecord[] = [];
      for (const row of rows) {
        const id = row[idColumn];
        const time = row[timeColumn];
        if (id === null || id === undefined || id === '') {
          skip(`missing:${idColumn}`);
          continue;
        }
        if (time === null || time === undefined || time === '') {
          skip(`missing:${timeColumn}`);
          continue;
        }
        const date = time instanceof Date ? time : typeof time === 'string' || typeof time === 'number' ? new Date(time) : undefined;
        if (!date || Number.isNaN(date.getTime())) {
          skip(`invalid:${timeColumn}`);
          continue;
        }
        records.push({ id: String(id), updatedAt: date.toISOString(), values: row });
      }
      if (records.length > 0) controller.enqueue(records);
    },
  });
}

/**
 * Every task's sorted run merged in (updatedAt, id) order — the bounded k-way merge of `ExternalSorter`
 * over `runs` runs already on `spill` (the tasks' runs as one store, `unionSpill`), in batches of `size`.
 */
export function mergedRecords(spill: SpillStore, runs: number, size = 1000): ReadableStream<readonly DatasetRecord[]> {
  const merge = new ExternalSorter<DatasetRecord>(spill, recordCodec, Number.MAX_SAFE_INTEGER, undefined, runs).sortedBatches(size);
  return new ReadableStream<readonly DatasetRecord[]>(
    {
      async pull(controller) {
        const next = await merge.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await merge.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
