/**
 * Reading one unit of a planned snapshot as batches of rows, projected to the columns a run needs.
 *
 * Parquet is read by byte ranges: the footer (two ranged GETs), then for each row group of the unit
 * only the projected columns' chunks — adjacent chunks (gaps ≤ 8 KiB, runs ≤ 2 MiB) coalesced into
 * one ranged GET, a bigger chunk alone — one row group at a time, so memory holds one group's
 * projected columns. NDJSON and CSV stream the whole object through source/ndjson and source/csv and
 * drop the keys not projected. Hive partition values are added to every row.
 */
import type { FileMetaData } from 'hyparquet';
import { parquetReadObjects } from 'hyparquet/src/index.js';
import type { Profile } from '../data/model.ts';
import { profilesFromRows } from '../data/profile-rows.ts';
import { ExportError } from '../errors.ts';
import { DEFAULT_PARTITION } from '../partition.ts';
import type { ColumnType, Row, RowBatch, Schema } from '../types.ts';
import { csvSource } from '../../plugins/source/csv/index.ts';
import { ndjsonSource } from '../../plugins/source/ndjson/index.ts';
import { compressors, MAX_BATCH_ROWS } from '../../plugins/source/parquet/index.ts';
import { normalizerFor } from '../../plugins/source/parquet/schema.ts';
import { copy, parquetFooter, SOURCE_CTX } from './plan.ts';
import { wanted } from './projection.ts';
import type { ObjectStore, ReadStats, SnapshotPlan, SnapshotProfileColumns, SnapshotUnit } from './types.ts';

/**
 * One unit's rows, with only `columns` (and their nested `column.` keys): the rows of a Parquet
 * unit's row groups or of a whole NDJSON / CSV file, plus its Hive partition columns. `stats`, when
 * given, counts the requests, bytes and rows.
 *
 * @example const rows = readUnit(store, plan, plan.units[0], projection(plan.schema, source, needs), stats)
 */
export function readUnit(store: ObjectStore, plan: SnapshotPlan, unit: SnapshotUnit, columns: readonly string[], stats?: ReadStats): ReadableStream<Row[]> {
  const file = plan.files[unit.file];
  if (!file) throw new ExportError('INTERNAL', `Snapshot unit names file ${unit.file}, but the plan has ${plan.files.length}`);
  const counted = stats ? countingStore(store, stats) : store;
  const names = new Set(columns);
  const partition = partitionValues(file.partition, names);
  const rows =
    plan.format === 'parquet'
      ? parquetRows(counted, file, unit, plan.schema, names)
      : textRows(counted, plan, file, names);
  return rows.pipeThrough(
    new TransformStream<Row[], Row[]>({
      transform(batch, controller) {
        if (partition) for (const row of batch) Object.assign(row, partition);
        if (stats) stats.rows += batch.length;
        if (batch.length > 0) controller.enqueue(batch);
      },
    }),
  );
}

/**
 * Profiles from a unit's rows (flat rows: the id and update-time columns, `identities.<ns>`
 * columns, every other column an attribute whose dotted name nests).
 *
 * @example snapshotProfiles(readUnit(store, plan, unit, columns), source)
 */
export function snapshotProfiles(rows: ReadableStream<Row[]>, source: SnapshotProfileColumns): ReadableStream<readonly Profile[]> {
  // A timestamp column reads as a Date; a profile's update time is ISO text.
  const times = [...new Set([source.updatedAtColumn ?? 'updatedAt', 'updatedAt'])];
  const iso = new TransformStream<Row[], Row[]>({
    transform(batch, controller) {
      for (const row of batch) for (const column of times) if (row[column] instanceof Date) row[column] = (row[column] as Date).toISOString();
      controller.enqueue(batch);
    },
  });
  return rows.pipeThrough(iso).pipeThrough(
    profilesFromRows({
      ...(source.idColumn !== undefined && { idColumn: source.idColumn }),
      ...(source.updatedAtColumn !== undefined && { updatedAtColumn: source.updatedAtColumn }),
    }),
  );
}

/** A store that counts what it fetches into `stats`. */
export function countingStore(store: ObjectStore, stats: ReadStats): ObjectStore {
  return {
    describe: store.describe,
    list: (prefix) => store.list(prefix),
    head: (key) => store.head(key),
    async read(key, start, end, etag) {
      stats.requests++;
      const bytes = await store.read(key, start, end, etag);
      stats.bytesFetched += bytes.length;
      return bytes;
    },
    async stream(key, etag) {
      stats.requests++;
      const body = await store.stream(key, etag);
      return body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            stats.bytesFetched += chunk.length;
            controller.enqueue(chunk);
          },
        }),
      );
    },
  };
}

/** The unit's partition values that are projected (the default partition is null). */
function partitionValues(partition: Readonly<Record<string, string>> | undefined, names: ReadonlySet<string>): Row | undefined {
  if (!partition) return undefined;
  const row: Row = {};
  for (const [name, value] of Object.entries(partition)) if (names.has(name)) row[name] = value === DEFAULT_PARTITION ? null : value;
  return Object.keys(row).length > 0 ? row : undefined;
}

/** A Parquet unit's rows, one row group decoded at a time (the next only once the last was read). */
function parquetRows(store: ObjectStore, file: SnapshotPlan['files'][number], unit: SnapshotUnit, schema: Schema, names: ReadonlySet<string>): ReadableStream<Row[]> {
  const partitionNames = new Set(Object.keys(file.partition ?? {}));
  const projected = schema.filter((c) => !partitionNames.has(c.name) && wanted(c.name, names));
  const columns = projected.map((c) => c.name);
  const normalizers = projected.map((c) => [c.name, normalizerFor(c.type)] as const);
  const [first, end] = unit.rowGroups ?? [0, file.rowGroups?.length ?? 0];
  const starts = [0];
  for (const rows of file.rowGroups ?? []) starts.push(starts.at(-1)! + rows);
  let metadata: FileMetaData | undefined;
  let group = first;
  const buffer = {
    byteLength: file.size,
    slice: async (start: number, stop?: number) => copy(await store.read(file.key, start, stop ?? file.size, file.etag)),
  };
  return new ReadableStream<Row[]>(
    {
      async pull(controller) {
        metadata ??= await parquetFooter(store, file);
        for (; group < end; ) {
          const g = group++;
          const rows: Row[] = columns.length === 0 ? Array.from({ length: starts[g + 1]! - starts[g]! }, (): Row => ({})) : await readGroup(buffer, metadata, columns, starts[g]!, starts[g + 1]!, file.key, g);
          for (const row of rows) for (const [name, normalize] of normalizers) row[name] = normalize(row[name]);
          for (let start = 0; start < rows.length; start += MAX_BATCH_ROWS) controller.enqueue(rows.length <= MAX_BATCH_ROWS ? rows : rows.slice(start, start + MAX_BATCH_ROWS));
          if (rows.length > 0) return;
        }
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

async function readGroup(
  file: { byteLength: number; slice(start: number, end?: number): Promise<ArrayBuffer> },
  metadata: FileMetaData,
  columns: string[],
  rowStart: number,
  rowEnd: number,
  key: string,
  group: number,
): Promise<Row[]> {
  try {
    return (await parquetReadObjects({ file, metadata, columns, rowStart, rowEnd, compressors })) as Row[];
  } catch (error) {
    if (error instanceof ExportError) throw error;
    throw new ExportError('SOURCE_INVALID', `"${key}": row group ${group} could not be read: ${(error as Error).message}`, {
      stage: 'source',
      cause: error,
      details: { key, rowGroup: group },
    });
  }
}

/** An NDJSON or CSV file's rows, streamed whole, projected and (CSV with declared types) typed. */
function textRows(store: ObjectStore, plan: SnapshotPlan, file: SnapshotPlan['files'][number], names: ReadonlySet<string>): ReadableStream<Row[]> {
  const fileColumns = plan.schema.filter((c) => !Object.hasOwn(plan.files[0]?.partition ?? {}, c.name));
  const typed = new Map(fileColumns.map((c) => [c.name, c.type]));
  const csvHeader = plan.csv?.header !== false;
  const { readable, writable } = new TransformStream<RowBatch, Row[]>({
    transform(batch, controller) {
      controller.enqueue(
        batch.map((row) => {
          const out: Row = {};
          let i = 0;
          for (const [name, value] of Object.entries(row)) {
            // A CSV without a header reads as the declared columns, by position.
            const column = plan.format === 'csv' && !csvHeader ? (fileColumns[i]?.name ?? name) : name;
            i++;
            if (keep(column, value, names)) out[column] = plan.format === 'csv' ? typedValue(value, typed.get(column)) : value;
          }
          return out;
        }),
      );
    },
  });
  (async () => {
    const body = await store.stream(file.key, file.etag);
    const stage = plan.format === 'csv' ? csvSource(plan.csv ?? {}) : ndjsonSource();
    const { rows } = await stage.open(SOURCE_CTX, body);
    await rows.pipeTo(writable);
  })().catch((error: unknown) => writable.abort(error).catch(() => {}));
  return readable;
}

/** A key is kept when projected, nested under a projected name, or a profile-shaped row's object. */
function keep(key: string, value: unknown, names: ReadonlySet<string>): boolean {
  if (wanted(key, names)) return true;
  return (key === 'identities' || key === 'attributes') && typeof value === 'object' && value !== null;
}

/** A CSV text as its declared type: numbers, booleans; empty is null; text otherwise. */
function typedValue(value: unknown, type: ColumnType | undefined): unknown {
  if (typeof value !== 'string' || type === undefined || type === 'string') return value;
  if (value === '') return null;
  if (type === 'integer' || type === 'double') {
    const n = Number(value);
    if (Number.isNaN(n)) throw new ExportError('SOURCE_INVALID', `CSV value "${value.slice(0, 15)}" is not a number (declared ${type})`, { stage: 'source' });
    return n;
  }
  if (type === 'boolean') return value === 'true' || value === '1';
  return value;
}
