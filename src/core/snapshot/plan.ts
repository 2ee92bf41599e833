/**
 * Planning a snapshot: which files, what schema they share, and the units a run fans out to.
 * Parquet footers are read with two ranged GETs each (the length, then the footer itself); CSV
 * headers with one ranged GET of the file's head; NDJSON files are not opened.
 */
import type { FileMetaData } from 'hyparquet';
import { parquetMetadataAsync, parquetSchema } from 'hyparquet/src/index.js';
import { ExportError } from '../errors.ts';
import type { Column, ColumnType, RunContext, Schema } from '../types.ts';
import { csvSource } from '../../plugins/source/csv/index.ts';
import { fromParquetSchema } from '../../plugins/source/parquet/schema.ts';
import { DEFAULT_ROWS_PER_TASK } from './schema.ts';
import type { ObjectInfo, ObjectStore, SnapshotFile, SnapshotPlan, SnapshotSource, SnapshotUnit } from './types.ts';

/** Bytes of a CSV file's head read to learn its header. */
export const CSV_HEAD_BYTES = 64 * 1024;

const EXTENSIONS: Record<SnapshotSource['format'], RegExp> = {
  parquet: /\.parquet$/i,
  ndjson: /\.(ndjson|jsonl|json)$/i,
  csv: /\.(csv|tsv|txt)$/i,
};

/** A context for the source stages (source/csv, source/ndjson), which use none of it. */
export const SOURCE_CTX: RunContext = { runId: 'snapshot', scheduledTime: new Date(0), now: () => new Date(0), uuid: () => '', fetch: (i, init) => fetch(i, init) };

/**
 * Lists the snapshot's files, reads their footers (Parquet) or headers (CSV), checks that every
 * file has the declared schema (or the first file's), and cuts the snapshot into units.
 *
 * @example const plan = await planSnapshot(store, { format: 'parquet', prefix: 'crm/', rowsPerTask: 100_000 })
 */
export async function planSnapshot(store: ObjectStore, source: SnapshotSource): Promise<SnapshotPlan> {
  const objects = await listObjects(store, source);
  const files: SnapshotFile[] = [];
  let schema: Schema | undefined = source.schema;
  let basis = 'the declared schema';
  for (const object of objects) {
    const partition = source.hivePartitioning ? hivePartition(object.key, source.prefix ?? '') : undefined;
    let rowGroups: number[] | undefined;
    let found: Schema | undefined;
    if (source.format === 'parquet') {
      const metadata = await parquetFooter(store, object);
      rowGroups = metadata.row_groups.map((g) => Number(g.num_rows));
      found = fileSchema(metadata, object.key);
    } else if (source.format === 'csv' && (source.schema === undefined || source.csv?.header !== false)) {
      found = await csvHeader(store, object, source);
    }
    if (found) {
      if (schema === undefined) {
        schema = found;
        basis = `the first file "${object.key}"`;
      } else checkSchema(schema, found, object.key, basis, source.format);
    }
    if (partition && files[0]?.partition) checkPartition(files[0], partition, object.key);
    files.push({
      key: object.key,
      size: object.size,
      ...(object.etag !== undefined && { etag: object.etag }),
      ...(partition && { partition }),
      ...(rowGroups && { rowGroups }),
    });
  }
  const columns = withPartitionColumns(schema ?? [], files[0]?.partition);
  const units = cutUnits(files, source.rowsPerTask ?? DEFAULT_ROWS_PER_TASK);
  const rows = source.format === 'parquet' ? files.reduce((n, f) => n + (f.rowGroups ?? []).reduce((a, b) => a + b, 0), 0) : undefined;
  return {
    format: source.format,
    files,
    schema: columns,
    units,
    ...(rows !== undefined && { rows }),
    bytes: files.reduce((n, f) => n + f.size, 0),
    ...(source.format === 'csv' && source.csv !== undefined && { csv: source.csv }),
  };
}

/** The object named by `key`, or every object of the format under `prefix`; none is SOURCE_NOT_FOUND. */
async function listObjects(store: ObjectStore, source: SnapshotSource): Promise<ObjectInfo[]> {
  if (source.key !== undefined) {
    const object = await store.head(source.key);
    if (!object) throw notFound(`No ${source.format} object at ${store.describe}/${source.key}: check the source's key.`, source.key);
    return [object];
  }
  const prefix = source.prefix ?? '';
  const objects: ObjectInfo[] = [];
  for await (const object of store.list(prefix)) {
    const name = object.key.slice(object.key.lastIndexOf('/') + 1);
    // Hidden and marker files (`_SUCCESS`, `.crc`, `_delta_log`) and other formats are skipped.
    if (name.startsWith('_') || name.startsWith('.') || object.key.includes('/_') || !EXTENSIONS[source.format].test(name)) continue;
    objects.push(object);
  }
  if (objects.length === 0) {
    throw notFound(`No ${source.format} files under ${store.describe}/${prefix}: check the source's prefix and format.`, prefix);
  }
  return objects;
}

function notFound(message: string, at: string): ExportError {
  return new ExportError('SOURCE_NOT_FOUND', message, { stage: 'source', details: { at } });
}

/** A Parquet file's footer in two ranged reads: the last 8 bytes (length, magic), then the footer. */
export async function parquetFooter(store: ObjectStore, object: Pick<ObjectInfo, 'key' | 'size' | 'etag'>): Promise<FileMetaData> {
  const file = { byteLength: object.size, slice: async (start: number, end?: number) => copy(await store.read(object.key, start, end ?? object.size, object.etag)) };
  try {
    if (object.size < 12) throw new Error(`${object.size} bytes is too small for a Parquet file`);
    return await parquetMetadataAsync(file, { initialFetchSize: 8 });
  } catch (error) {
    if (error instanceof ExportError) throw error;
    throw new ExportError('SOURCE_INVALID', `"${object.key}" is not a valid Parquet file: ${(error as Error).message}`, {
      stage: 'source',
      cause: error,
      details: { key: object.key },
    });
  }
}

/** The bytes as an ArrayBuffer of their own (hyparquet reads views over whole buffers). */
export function copy(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : (bytes.slice().buffer as ArrayBuffer);
}

function fileSchema(metadata: FileMetaData, key: string): Schema {
  try {
    return fromParquetSchema(parquetSchema(metadata));
  } catch (error) {
    if (error instanceof ExportError) throw new ExportError(error.code, `"${key}": ${error.message}`, { stage: 'source', cause: error, details: { key } });
    throw error;
  }
}

/** A CSV file's column names, from its header (or `_c0`, `_c1`… without one), read from its head. */
async function csvHeader(store: ObjectStore, object: ObjectInfo, source: SnapshotSource): Promise<Schema> {
  const head = await store.read(object.key, 0, Math.min(object.size, CSV_HEAD_BYTES), object.etag);
  // A first record cut at the end of the head would give wrong names: it must end within it.
  if (head.length < object.size && !head.some((byte) => byte === 10 || byte === 13)) {
    throw new ExportError('SOURCE_INVALID', `"${object.key}": the CSV header is longer than ${CSV_HEAD_BYTES / 1024} KiB (no line break in the first ${CSV_HEAD_BYTES} bytes); is it CSV?`, {
      stage: 'source',
      details: { key: object.key },
    });
  }
  const { schema = [], rows } = await csvSource(source.csv ?? {}).open(SOURCE_CTX, new Blob([copy(head)]));
  await rows.cancel();
  return schema;
}

/**
 * Every column of `expected` must be in the file with the same type (extra file columns are not
 * read); CSV headers must list the same names. Otherwise SOURCE_INVALID naming the file, the column,
 * what was expected and what was found.
 */
function checkSchema(expected: Schema, found: Schema, key: string, basis: string, format: SnapshotSource['format']): void {
  const byName = new Map(found.map((c) => [c.name, c]));
  for (const column of expected) {
    const there = byName.get(column.name);
    if (!there) {
      throw invalid(`"${key}" has no column "${column.name}" (${typeText(column.type)}), which ${basis} has; it has: ${found.map((c) => c.name).join(', ') || 'no columns'}`, key, column.name);
    }
    if (format === 'parquet' && !sameType(column.type, there.type)) {
      throw invalid(`"${key}": column "${column.name}" is ${typeText(there.type)}, expected ${typeText(column.type)} as in ${basis}`, key, column.name);
    }
  }
}

function invalid(message: string, key: string, column: string): ExportError {
  return new ExportError('SOURCE_INVALID', `Snapshot schema mismatch: ${message}.`, { stage: 'source', details: { key, column } });
}

function sameType(a: ColumnType, b: ColumnType): boolean {
  return typeText(a) === typeText(b);
}

function typeText(type: ColumnType): string {
  if (typeof type === 'string') return type;
  if ('list' in type) return `list<${typeText(type.list)}>`;
  return `struct<${type.struct.map((c) => `${c.name}: ${typeText(c.type)}`).join(', ')}>`;
}

/** `country=FR/year=2026/part-0.parquet` under `prefix` → `{country: 'FR', year: '2026'}`, %XX unescaped. */
export function hivePartition(key: string, prefix: string): Record<string, string> {
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  const partition: Record<string, string> = {};
  for (const segment of rest.split('/').slice(0, -1)) {
    const eq = segment.indexOf('=');
    if (eq <= 0) continue;
    partition[unescapeHive(segment.slice(0, eq))] = unescapeHive(segment.slice(eq + 1));
  }
  return partition;
}

/** `%XX` runs decoded as UTF-8 (Hive's escapes are ASCII; other writers percent-encode UTF-8); a bad run stays bytewise. */
function unescapeHive(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    }
  });
}

function checkPartition(first: SnapshotFile, partition: Record<string, string>, key: string): void {
  const want = Object.keys(first.partition ?? {}).join(', ');
  const got = Object.keys(partition).join(', ');
  if (want !== got) {
    throw new ExportError('SOURCE_INVALID', `Snapshot schema mismatch: "${key}" is partitioned by (${got || 'nothing'}), expected (${want}) as "${first.key}" is.`, {
      stage: 'source',
      details: { key },
    });
  }
}

/** The file columns, then the partition columns (strings), refusing a name both have. */
function withPartitionColumns(schema: Schema, partition: Readonly<Record<string, string>> | undefined): Schema {
  const names = Object.keys(partition ?? {});
  for (const name of names) {
    if (schema.some((c) => c.name === name)) {
      throw new ExportError('SOURCE_INVALID', `Snapshot column "${name}" is both in the files and a Hive partition folder (${name}=…): rename one, or turn hivePartitioning off.`, {
        stage: 'source',
        details: { column: name },
      });
    }
  }
  return [...schema, ...names.map((name): Column => ({ name, type: 'string', nullable: true }))];
}

/** Units: runs of whole row groups of at most `rowsPerTask` rows (a bigger group alone), or whole files. */
function cutUnits(files: readonly SnapshotFile[], rowsPerTask: number): SnapshotUnit[] {
  const units: SnapshotUnit[] = [];
  files.forEach((file, index) => {
    if (!file.rowGroups) {
      units.push({ file: index });
      return;
    }
    let first = 0;
    let rows = 0;
    file.rowGroups.forEach((groupRows, g) => {
      if (g > first && rows + groupRows > rowsPerTask) {
        units.push({ file: index, rowGroups: [first, g], rows });
        first = g;
        rows = 0;
      }
      rows += groupRows;
    });
    if (file.rowGroups.length > first) units.push({ file: index, rowGroups: [first, file.rowGroups.length], rows });
  });
  return units;
}
