/**
 * Dataset exports: every record of a dataset in its declared column order, first in full, then
 * incrementally — only records written after the last successful run's watermark, the greatest
 * (updatedAt, id) read. This assumes writers stamp `updatedAt` with a clock that does not go back
 * (the store sets it on write); a record stamped with an older time than the watermark after it
 * was taken would be missed until the next full export. Files go to
 * `<folder>/<datasetId>/exportTime=YYYYMMDDHHMM/`.
 */
import { ExportError } from '../errors.ts';
import { pipeThrough } from '../streams.ts';
import type { Row, RowBatch, Schema } from '../types.ts';
import type { ExportMode } from './export-plan.ts';
import { coerceValue, INVALID } from './mapping.ts';
import { type Dataset, type DatasetRecord, isMissing } from './model.ts';
import {
  DEFAULT_PAGE_SIZE,
  type DataStore,
  type DatasetExportState,
  type Page,
  type PageRequest,
  pageBatches,
  type Watermark,
} from './store.ts';

export interface DatasetExportInput {
  readonly store: Pick<DataStore, 'listDatasetRecords'>;
  readonly dataset: Dataset;
  readonly mode: ExportMode;
  readonly now: Date;
  readonly previous?: DatasetExportState | undefined;
  readonly save: (state: DatasetExportState) => Promise<void>;
  readonly pageSize?: number;
  /**
   * The records to export, in (updatedAt, id) order and already after the watermark in incremental
   * mode (a snapshot dataset's merged task runs); absent: read from `store` page by page.
   */
  readonly records?: ReadableStream<readonly DatasetRecord[]>;
}

export interface DatasetStats {
  /** Records read. */
  read: number;
  exported: number;
  /** Records not exported, by reason: `missing:<column>` (non-nullable column), `invalid:<column>`. */
  skipped: Record<string, number>;
}

export interface DatasetPlan {
  readonly schema: Schema;
  /** One batch per page of records read (records skipped leave it shorter; never empty). */
  readonly rows: ReadableStream<RowBatch>;
  readonly stats: DatasetStats;
  readonly incremental: boolean;
  /** Persists the new watermark; only valid after `rows` was read to the end. */
  commit(): Promise<DatasetExportState>;
}

/**
 * The folder of one dataset export run (UTC minute), with a trailing slash.
 *
 * @example datasetExportFolder('exports', 'ds1', new Date('2026-03-04T05:06:07Z')) // 'exports/ds1/exportTime=202603040506/'
 */
export function datasetExportFolder(folder: string, datasetId: string, time: Date): string {
  const iso = time.toISOString();
  const stamp = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16);
  const base = folder.replace(/\/+$/, '');
  return `${base ? `${base}/` : ''}${datasetId}/exportTime=${stamp}/`;
}

/** Plans a dataset export: rows in schema order, counts, and the watermark to commit on success. */
export function planDatasetExport(input: DatasetExportInput): DatasetPlan {
  const after = input.mode === 'incremental' ? input.previous?.watermark : undefined;
  const stats: DatasetStats = { read: 0, exported: 0, skipped: {} };
  let watermark: Watermark | undefined = input.previous?.watermark;
  let finished = false;
  const read = (request: PageRequest): Promise<Page<DatasetRecord>> =>
    input.store.listDatasetRecords(input.dataset.id, after ? { ...request, after } : request);
  const records = input.records ?? pageBatches(read, input.pageSize ?? DEFAULT_PAGE_SIZE);
  const convert = projector(input.dataset.schema);
  const rows = pipeThrough(
    records,
    new TransformStream<readonly DatasetRecord[], RowBatch>(
      {
        transform(page, controller) {
          const batch: Row[] = [];
          for (const record of page) {
            stats.read++;
            watermark = { updatedAt: record.updatedAt, id: record.id };
            const row = convert(record.values);
            if (typeof row === 'string') stats.skipped[row] = (stats.skipped[row] ?? 0) + 1;
            else batch.push(row);
          }
          stats.exported += batch.length;
          if (batch.length > 0) controller.enqueue(batch);
        },
        flush() {
          finished = true;
        },
      },
      undefined,
      { highWaterMark: 0 },
    ),
  );
  return {
    schema: input.dataset.schema,
    rows,
    stats,
    incremental: after !== undefined,
    async commit() {
      if (!finished)
        throw new ExportError('INTERNAL', 'Export state can only be committed after every row was read');
      const state: DatasetExportState = {
        kind: 'dataset',
        version: 1,
        exportedAt: input.now.toISOString(),
        ...(watermark && { watermark }),
      };
      await input.save(state);
      return state;
    },
  };
}

/**
 * Projects record values onto the schema's columns (in order), coercing their types; a skip reason
 * (`invalid:<column>`, `missing:<column>`) when a value cannot be held exactly or is missing.
 */
function projector(schema: Schema): (values: Row) => Row | string {
  return (values) => {
    const row: Row = {};
    for (const column of schema) {
      const value = coerceValue(values[column.name], column.type);
      if (value === INVALID) return `invalid:${column.name}`;
      if (column.nullable === false && isMissing(value)) return `missing:${column.name}`;
      row[column.name] = value;
    }
    return row;
  };
}
