/**
 * Bounds on the bytes a Parquet file will take, for `output.split.maxBytes`: the flat writer's
 * values (PLAIN sizes, which its dictionaries never exceed), and hyparquet-writer's general writer
 * (lists, structs). The latter are generous on purpose: its dictionaries, levels, pages, statistics
 * and offset indexes are not ours, so every value is counted at twice its PLAIN size plus its
 * levels, and every leaf column chunk at a fixed share for page headers and footer metadata; groups
 * are written early to learn their real size, and the footer of the groups written is measured
 * (`writtenFooterBytes`).
 */
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import type { ColumnType, Schema } from '../../../core/types.ts';

/** At most the PLAIN bytes of one value of a type (null: none; a non-string as text: 3 bytes a char). */
export function plainBound(type: string): (value: unknown) => number {
  switch (type) {
    case 'integer':
    case 'timestamp':
    case 'double':
      return (v) => (v == null ? 0 : 8);
    case 'date':
      return (v) => (v == null ? 0 : 4);
    case 'boolean':
      return (v) => (v == null ? 0 : 1);
    default:
      return (v) => (v == null ? 0 : 4 + (typeof v === 'string' ? utf8Length(v) : 3 * String(v).length + 72));
  }
}

/** UTF-8 bytes of a string, a lone surrogate counted as U+FFFD (3 bytes). */
export function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: 2 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Per leaf column chunk of the buffered group: a dictionary and a data page header (≤ 32 + 128 B,
 * statistics included), compression constants (≤ 32 B) and its footer metadata (statistics cut to
 * 16 bytes, size statistics, offsets: ≤ 320 B). Written groups are measured instead.
 */
const CHUNK_BYTES = 32 + 128 + 32 + 320;

interface Leaf {
  readonly pathBytes: number;
}

function leaves(type: ColumnType, path: number): Leaf[] {
  if (typeof type === 'string') return [{ pathBytes: path }];
  if ('list' in type) return leaves(type.list, path + 'list'.length + 'element'.length);
  return type.struct.flatMap((field) => leaves(field.type, path + utf8Length(field.name)));
}

/** The PLAIN bytes of a non-null value (a non-string in a string column: 3 bytes a char, and more). */
function plainBytes(type: string, value: unknown): number {
  switch (type) {
    case 'integer':
    case 'timestamp':
    case 'double':
      return 8;
    case 'date':
      return 4;
    case 'boolean':
      return 1;
    default:
      return 4 + (typeof value === 'string' ? utf8Length(value) : 3 * String(value).length + 72);
  }
}

/**
 * At most the page bytes one converted value takes, uncompressed: its leaves' repetition and
 * definition levels (a byte each) and twice the PLAIN size (a dictionary plus its indexes).
 */
function nestedValueBound(type: ColumnType, value: unknown, leafCount: (t: ColumnType) => number): number {
  if (value === null || value === undefined) return 2 * leafCount(type);
  if (typeof type === 'string') return 3 + 2 * plainBytes(type, value);
  if ('list' in type) {
    if (!Array.isArray(value) || value.length === 0) return 2 * leafCount(type);
    let bytes = 0;
    for (const item of value) bytes += nestedValueBound(type.list, item, leafCount);
    return bytes;
  }
  let bytes = 0;
  for (const field of type.struct)
    bytes += nestedValueBound(field.type, (value as Record<string, unknown>)[field.name], leafCount);
  return bytes;
}

/** Bounds for one schema: per row, per row group, and the footer's fixed part. */
export function nestedBounds(schema: Schema) {
  const counts = new Map<ColumnType, number>();
  const leafCount = (type: ColumnType): number => {
    let n = counts.get(type);
    if (n === undefined) {
      n = leaves(type, 0).length;
      counts.set(type, n);
    }
    return n;
  };
  const all = schema.flatMap((column) => leaves(column.type, utf8Length(column.name)));
  /** Footer metadata and page overheads of one row group, whatever its rows. */
  const perGroup = 64 + all.reduce((n, leaf) => n + CHUNK_BYTES + 2 * leaf.pathBytes, 0);
  return {
    /** Uncompressed page bytes of one row's converted cells, at most. */
    row(cells: readonly unknown[]): number {
      let bytes = 0;
      for (let c = 0; c < schema.length; c++) bytes += nestedValueBound(schema[c]!.type, cells[c], leafCount);
      return bytes;
    },
    /** A row group's bytes in the file (pages and footer share) for `rowBytes` of rows. */
    group(rowBytes: number): number {
      // Compression's worst case (snappy: n/6 + 32 per page) and a page per MiB of values.
      return rowBytes + Math.ceil(rowBytes / 6) + Math.ceil(rowBytes / 4096) + perGroup;
    },
    /** The footer without its row groups: schema elements, created_by, lengths and magic. */
    footer: 256 + schema.length * 64 + all.reduce((n, leaf) => n + 64 + leaf.pathBytes, 0),
  };
}

/** What `ParquetWriter.finish` serialises, as the writer keeps it (fields hyparquet-writer sets). */
interface WriterState {
  readonly schema: unknown;
  readonly createdBy?: string;
  readonly num_rows: bigint;
  readonly row_groups: { readonly columns: readonly unknown[] }[];
  readonly kvMetadata?: unknown;
  readonly statisticsTruncateLength?: number;
  readonly pendingIndexes: readonly { offsetIndex?: { page_locations: readonly unknown[] } }[];
}

/**
 * At least the bytes `finish` will append for the row groups written so far: the footer itself,
 * serialised as `finish` does, plus a bound on the offset indexes (written only for chunks of
 * several pages) and on their offsets, which grow once the real positions are known.
 */
export function writtenFooterBytes(writer: object): number {
  const state = writer as WriterState;
  const out = new ByteWriter();
  writeMetadata(
    out,
    {
      version: 2,
      created_by: state.createdBy,
      schema: state.schema,
      num_rows: state.num_rows,
      row_groups: state.row_groups,
      key_value_metadata: state.kvMetadata,
    } as Parameters<typeof writeMetadata>[1],
    state.statisticsTruncateLength,
  );
  let bytes = out.offset + 8; // the metadata's length and PAR1
  for (const { offsetIndex } of state.pendingIndexes) {
    const pages = offsetIndex?.page_locations.length ?? 0;
    bytes += 24 + (pages > 1 ? 16 + 32 * pages : 0);
  }
  return bytes;
}
