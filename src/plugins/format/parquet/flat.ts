/**
 * The Parquet writer for flat schemas (scalar columns only), the common export shape. Values go from
 * the row straight into typed column buffers (flat-columns.ts) and each row group is written as, per
 * column, an optional dictionary page and one v1 data page (the page version every reader takes).
 * hyparquet-writer still serialises the page headers and the footer (thrift) and supplies snappy;
 * nested schemas (list, struct) keep its general writer (writer.ts).
 */
import type { ColumnChunk, CompressionCodec, Encoding, SchemaElement, Statistics } from 'hyparquet';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import type { Writer } from 'hyparquet-writer/src/types.js';
import type { Column, Row, Schema } from '../../../core/types.ts';
import {
  BooleanBuffer,
  type ColumnBuffer,
  type EncodedColumn,
  Int64Buffer,
  NumberBuffer,
  StringBuffer,
} from './flat-columns.ts';
import { plainBound, utf8Length } from './bounds.ts';
import { Scratch, writeHybrid } from './encoding.ts';
import { FooterWriter } from './footer.ts';
import { converterFor, type TimestampUnit, toSchemaElements, ValueError } from './schema.ts';

const MAGIC = 0x31524150; // "PAR1"
type Compress = (input: Uint8Array) => Uint8Array;

/** True when every column is a scalar type, so the flat writer applies. */
export function isFlat(schema: Schema): boolean {
  return schema.every((column) => typeof column.type === 'string');
}

/** A column: where its values go and how a row value becomes one (fast path, else the converter). */
interface FlatColumn {
  readonly name: string;
  readonly element: SchemaElement;
  readonly nullable: boolean;
  readonly buffer: ColumnBuffer;
  /** Present flags of this group's rows (nullable columns only). */
  defs: Uint8Array;
  nulls: number;
  /** Appends a row value (null included); throws ValueError for a value the type refuses. */
  readonly add: (value: unknown, row: number) => void;
  /** At most the PLAIN bytes a value takes in the page (the dictionary, when used, takes no more). */
  readonly bound: (value: unknown) => number;
  /** Sum of `bound` over this group's values (kept only while a byte limit is set). */
  bytes: number;
  /** The column chunk's share of the footer, at most (statistics are cut to 16 bytes). */
  readonly footerBytes: number;
}

/** Streams one Parquet file of a flat schema into `out`, one row group at a time. */
export class FlatParquetWriter {
  readonly #out: Writer;
  readonly #columns: FlatColumn[];
  readonly #schema: SchemaElement[];
  readonly #codec: CompressionCodec;
  readonly #compress: Compress;
  readonly #footer: FooterWriter;
  readonly #body = new Scratch();
  readonly #levels = new Scratch();
  #rows = 0;
  #total = 0n;
  /** Rows in the file, groups written and buffered. */
  #fileRows = 0;
  #maxBytes = Number.POSITIVE_INFINITY;

  constructor(options: {
    out: Writer;
    schema: Schema;
    unit: TimestampUnit;
    codec: CompressionCodec;
    compressors: Partial<Record<CompressionCodec, Compress>>;
    createdBy: string;
  }) {
    this.#out = options.out;
    this.#schema = toSchemaElements(options.schema, options.unit);
    this.#columns = options.schema.map((column, i) => flatColumn(column, this.#schema[i + 1]!, options.unit));
    this.#codec = options.codec;
    const compress = { SNAPPY: snappyCompress, ...options.compressors }[options.codec];
    this.#compress = options.codec === 'UNCOMPRESSED' || !compress ? (input) => input : compress;
    this.#footer = new FooterWriter(this.#schema, options.createdBy);
    this.#out.appendUint32(MAGIC);
  }

  /** Rows held for the current group. */
  get buffered(): number {
    return this.#rows;
  }

  /**
   * From now on `fits` keeps the file within `maxBytes`, counting for the buffered group a bound on
   * its bytes (PLAIN size plus levels, compression overhead, page headers and footer share); the
   * bytes of written groups are exact.
   */
  limitBytes(maxBytes: number): void {
    this.#maxBytes = maxBytes;
  }

  /**
   * Whether the row can join the file without its bytes possibly passing the limit. Near the limit
   * a group whose bound is at least a quarter of the limit is written first, so its real (often
   * compressed) size replaces the bound. The first row of a file always fits.
   */
  fits(row: Row): boolean {
    if (this.#maxBytes === Number.POSITIVE_INFINITY || this.#fileRows === 0) return true;
    const extra = this.#columns.map((column) => column.bound(row[column.name]));
    if (this.#boundWith(extra, this.#rows + 1) <= this.#maxBytes) return true;
    if (this.#rows === 0 || this.#groupBound(0, this.#rows) < this.#maxBytes / 4) return false;
    this.writeGroup();
    return this.#boundWith(extra, 1) <= this.#maxBytes;
  }

  /** The file's bytes, at most, were it closed with `rows` rows buffered, their extra bytes added. */
  #boundWith(extra: readonly number[], rows: number): number {
    let group = 0;
    for (let c = 0; c < extra.length; c++) group += extra[c]!;
    return this.#out.offset + this.#groupBound(group, rows) + this.#footer.bytesSoFar + 4;
  }

  /** Bytes of the buffered group (plus `extra` value bytes) once written: pages, and footer share. */
  #groupBound(extra: number, rows: number): number {
    let bytes = 64; // the row group's own footer fields
    const levels = Math.ceil(rows / 4) + 2 * Math.ceil(rows / 504) + 12;
    for (const column of this.#columns) {
      const body = column.bytes + (column.nullable ? levels : 0);
      // Snappy's worst case (32 + n + n/6) covers gzip and zstd; two page headers of ≤ 64 bytes.
      bytes += body + Math.ceil(body / 6) + 64 + 128 + column.footerBytes;
    }
    return bytes + extra + Math.ceil(extra / 6);
  }

  /** Adds one row; a value its column refuses goes to `fail` with the column's name. */
  add(row: Row, fail: (error: ValueError, column: string) => never): void {
    const columns = this.#columns;
    const at = this.#rows;
    let c = 0;
    try {
      for (; c < columns.length; c++) {
        const column = columns[c]!;
        column.add(row[column.name], at);
      }
    } catch (error) {
      if (error instanceof ValueError) fail(error, columns[c]!.name);
      throw error;
    }
    if (this.#maxBytes !== Number.POSITIVE_INFINITY)
      for (const column of columns) column.bytes += column.bound(row[column.name]);
    this.#rows++;
    this.#fileRows++;
  }

  /** Writes the buffered rows as a row group. */
  writeGroup(): void {
    if (this.#rows === 0) return;
    const start = this.#out.offset;
    const chunks: ColumnChunk[] = [];
    let uncompressed = 0n;
    for (const column of this.#columns) {
      const chunk = this.#writeColumn(column);
      uncompressed += chunk.meta_data!.total_uncompressed_size;
      chunks.push(chunk);
    }
    this.#footer.add({
      columns: chunks,
      total_byte_size: uncompressed,
      num_rows: BigInt(this.#rows),
      file_offset: BigInt(start),
      total_compressed_size: BigInt(this.#out.offset - start),
    });
    this.#total += BigInt(this.#rows);
    this.#rows = 0;
    for (const column of this.#columns) column.bytes = 0;
    void this.#out.flush?.();
  }

  /** Writes the last group and the footer. */
  finish(): void {
    this.writeGroup();
    this.#footer.write(this.#out, this.#total);
    this.#out.appendUint32(MAGIC);
    this.#out.finish();
  }

  #writeColumn(column: FlatColumn): ColumnChunk {
    const out = this.#out;
    const rows = this.#rows;
    const start = out.offset;
    const encoded = column.buffer.encode(this.#body);
    let uncompressed = 0;
    let dictionaryOffset: bigint | undefined;
    const encodings: Encoding[] = ['PLAIN'];
    if (encoded.dictionary) {
      dictionaryOffset = BigInt(out.offset);
      const { bytes, count } = encoded.dictionary;
      uncompressed += this.#page(bytes, {
        type: 'DICTIONARY_PAGE',
        dictionary_page_header: { num_values: count, encoding: 'PLAIN' },
      });
      encodings.push('RLE_DICTIONARY');
    }
    const dataOffset = BigInt(out.offset);
    const encoding: Encoding = encoded.dictionary ? 'RLE_DICTIONARY' : 'PLAIN';
    uncompressed += this.#page(this.#dataBody(column, encoded), {
      type: 'DATA_PAGE',
      data_page_header: {
        num_values: rows,
        encoding,
        definition_level_encoding: 'RLE',
        repetition_level_encoding: 'RLE',
      },
    });
    if (column.nullable) encodings.push('RLE');
    const statistics: Statistics & { nan_count?: bigint } = {
      null_count: BigInt(column.nulls),
      min_value: encoded.min as Statistics['min_value'],
      max_value: encoded.max as Statistics['max_value'],
      ...(encoded.nanCount !== undefined && { nan_count: encoded.nanCount }),
    };
    column.nulls = 0;
    return {
      file_offset: BigInt(start),
      meta_data: {
        type: column.element.type!,
        encodings,
        path_in_schema: [column.name],
        codec: this.#codec,
        num_values: BigInt(rows),
        total_uncompressed_size: BigInt(uncompressed),
        total_compressed_size: BigInt(out.offset - start),
        data_page_offset: dataOffset,
        dictionary_page_offset: dictionaryOffset,
        statistics,
      },
    };
  }

  /** A v1 data page body: definition levels (length-prefixed hybrid runs) then the values. */
  #dataBody(column: FlatColumn, encoded: EncodedColumn): Uint8Array {
    if (!column.nullable) return encoded.values;
    const levels = this.#levels;
    levels.reset();
    levels.ensure(4);
    levels.length = 4;
    writeHybrid(levels, column.defs.subarray(0, this.#rows), 1);
    levels.view.setUint32(0, levels.length - 4, true);
    levels.ensure(encoded.values.length);
    levels.bytes.set(encoded.values, levels.length);
    levels.length += encoded.values.length;
    return levels.used();
  }

  /** Compresses a page body and appends header and body; returns the uncompressed size with header. */
  #page(
    body: Uint8Array,
    header: Omit<Parameters<typeof writePageHeader>[1], 'uncompressed_page_size' | 'compressed_page_size'>,
  ): number {
    const compressed = this.#compress(body);
    const before = this.#out.offset;
    writePageHeader(this.#out, {
      ...header,
      uncompressed_page_size: body.length,
      compressed_page_size: compressed.length,
    });
    const headerSize = this.#out.offset - before;
    this.#out.appendBytes(compressed);
    return headerSize + body.length;
  }
}

/** The buffer and the per-value path of one column. */
function flatColumn(column: Column, element: SchemaElement, unit: TimestampUnit): FlatColumn {
  const convert = converterFor(column, unit);
  const nullable = column.nullable !== false;
  const buffer = bufferFor(column.type as string);
  const fast = fastPath(column.type as string, unit);
  const flat: FlatColumn = {
    name: column.name,
    element,
    nullable,
    buffer,
    defs: new Uint8Array(nullable ? 1024 : 0),
    nulls: 0,
    bound: plainBound(column.type as string),
    bytes: 0,
    // Path, type, encodings, codec, counts, sizes, offsets, statistics (≤ 4 values of ≤ 17 bytes).
    footerBytes: 320 + 2 * utf8Length(column.name),
    add: (value, row) => {
      let present = true;
      if (value === null || value === undefined) {
        convert(value); // refuses a null in a required column
        present = false;
        flat.nulls++;
      } else {
        const direct = fast(value);
        buffer.add(direct === undefined ? physical(convert(value)) : direct);
      }
      if (nullable) {
        if (row === flat.defs.length) {
          const grown = new Uint8Array(flat.defs.length * 2);
          grown.set(flat.defs);
          flat.defs = grown;
        }
        flat.defs[row] = present ? 1 : 0;
      }
    },
  };
  return flat;
}

function bufferFor(type: string): ColumnBuffer {
  switch (type) {
    case 'integer':
    case 'timestamp':
      return new Int64Buffer();
    case 'double':
      return new NumberBuffer('double');
    case 'date':
      return new NumberBuffer('int32');
    case 'boolean':
      return new BooleanBuffer();
    default:
      return new StringBuffer();
  }
}

/** |ms| below which ms × 1000 is an exact double (2^53 / 1000); NaN fails both comparisons. */
const LIMIT_MS = 9_007_199_254_740;

/** The common input of each type, stored without the general converter; undefined = use it. */
function fastPath(type: string, unit: TimestampUnit): (value: unknown) => unknown {
  const scale = unit === 'micros' ? 1000 : 1;
  switch (type) {
    case 'integer':
      return (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
    case 'timestamp':
      return (v) => {
        if (!(v instanceof Date)) return undefined;
        const ms = v.getTime();
        // Beyond ±2^53 µs (years past ~2255) the product is not exact: the converter's bigint is.
        return ms > -LIMIT_MS && ms < LIMIT_MS ? ms * scale : undefined;
      };
    case 'double':
      return (v) => (typeof v === 'number' ? v : undefined);
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : undefined);
    case 'string':
      return (v) => (typeof v === 'string' ? v : undefined);
    default:
      return () => undefined;
  }
}

/** A converter's bigint becomes a number when exact, so INT64 buffers mostly see numbers. */
function physical(value: unknown): unknown {
  if (typeof value === 'bigint' && value >= -9007199254740991n && value <= 9007199254740991n)
    return Number(value);
  return value;
}
