/**
 * Row batches in, Parquet bytes out, one row group at a time. Rows are buffered only up to the row-group
 * size; each group is encoded by hyparquet-writer's `ParquetWriter` and its bytes leave as soon as
 * they are written (in chunks of about 1 MiB), so memory is bounded by one group whatever the row
 * count. Backpressure is the TransformStream's: while the byte side is not read, no row is taken.
 */
import type { CompressionCodec } from 'hyparquet';
import type { ColumnSource } from 'hyparquet-writer/src/index.js';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer/src/index.js';
import { ExportError } from '../../../core/errors.ts';
import type { ColumnType, Row, RowBatch, Schema } from '../../../core/types.ts';
import type { ByteLimitedFormat } from '../../../core/pipeline.ts';
import { withByteLimit } from '../byte-limit.ts';
import { FlatParquetWriter, isFlat } from './flat.ts';
import { nestedBounds, writtenFooterBytes } from './bounds.ts';
import { converterFor, type TimestampUnit, toSchemaElements, ValueError } from './schema.ts';

/** Synchronous page compressors by codec (hyparquet-writer's hook). */
export type Compressors = NonNullable<ConstructorParameters<typeof ParquetWriter>[0]['compressors']>;

export interface ParquetStreamOptions {
  readonly schema: Schema;
  readonly codec: CompressionCodec;
  readonly rowGroupSize: number;
  readonly timestampUnit: TimestampUnit;
  /** Resolves the compressors the codec needs (zstd may need to instantiate wasm first). */
  readonly compressors: () => Promise<Compressors>;
}

const PLUGIN = 'format/parquet';
const CREATED_BY = 'edge-export (hyparquet-writer)';
/** Bytes accumulated before they are handed to the readable side. */
const CHUNK_BYTES = 1 << 20;
/** Batches the writable side may queue before a producer waits (the group buffer is separate). */
const BATCH_QUEUE = 1;

/** Opens one Parquet file as a rows-to-bytes transform (flat schemas take the fast writer). */
export function parquetStream(options: ParquetStreamOptions): TransformStream<RowBatch, Uint8Array> {
  if (options.schema.length === 0) {
    throw new ExportError('FORMAT_FAILED', 'Parquet needs at least one column in the schema', {
      plugin: PLUGIN,
      stage: 'format',
    });
  }
  return isFlat(options.schema) ? flatStream(options) : nestedStream(options);
}

/**
 * Scalar columns only: rows go straight into typed column buffers (flat.ts). With a byte limit
 * (`limitBytes`) a row that might take the file past it is refused, with the rest of its batch.
 */
function flatStream(
  options: ParquetStreamOptions,
): TransformStream<RowBatch, Uint8Array> & ByteLimitedFormat {
  const { schema, rowGroupSize } = options;
  let parquet: FlatParquetWriter | undefined;
  let rowsBefore = 0;
  let maxBytes: number | undefined;
  let refused = 0;
  let full = false;
  const fail = (error: ValueError, column: string): never =>
    valueError(error, column, rowsBefore + parquet!.buffered + 1);
  const stream = new TransformStream<RowBatch, Uint8Array>(
    {
      async start(controller) {
        const compressors = await options.compressors();
        parquet = new FlatParquetWriter({
          out: new ChunkWriter((bytes) => controller.enqueue(bytes)),
          schema,
          unit: options.timestampUnit,
          codec: options.codec,
          compressors,
          createdBy: CREATED_BY,
        });
        if (maxBytes !== undefined) parquet.limitBytes(maxBytes);
      },
      transform(batch) {
        const writer = parquet!;
        refused = full ? batch.length : 0;
        if (full) return;
        for (let n = 0; n < batch.length; n++) {
          const row = batch[n]!;
          const before = writer.buffered;
          if (!writer.fits(row)) {
            full = true;
            refused = batch.length - n;
            return;
          }
          // `fits` may have written the group early: count the rows it held.
          if (writer.buffered < before) rowsBefore += before;
          writer.add(row, fail);
          if (writer.buffered >= rowGroupSize) {
            rowsBefore += writer.buffered;
            writer.writeGroup();
          }
        }
      },
      flush() {
        parquet!.finish();
      },
    },
    { highWaterMark: BATCH_QUEUE },
    { highWaterMark: 0 },
  );
  return withByteLimit(
    stream,
    (limit) => {
      maxBytes = limit;
      parquet?.limitBytes(limit);
    },
    () => refused,
  );
}

/**
 * Any schema (lists, structs): hyparquet-writer's general ParquetWriter. With a byte limit, a row
 * that might take the file past it (by `nestedBounds`) is refused, with the rest of its batch.
 */
function nestedStream(
  options: ParquetStreamOptions,
): TransformStream<RowBatch, Uint8Array> & ByteLimitedFormat {
  const { schema, rowGroupSize } = options;
  const converters = schema.map((column) => converterFor(column, options.timestampUnit));
  const bounds = nestedBounds(schema);
  let parquet: ParquetWriter | undefined;
  let out: ChunkWriter | undefined;
  // Rows are converted on arrival into one array per column, so the row objects die young.
  let columns: unknown[][] = schema.map(() => []);
  let buffered = 0;
  let rowsBefore = 0;
  let maxBytes = Number.POSITIVE_INFINITY;
  let refused = 0;
  let full = false;
  /** Bound on the buffered rows' page bytes; the footer of the groups written, measured. */
  let groupBytes = 0;
  let footerBytes = bounds.footer;

  const convertRow = (row: Row): unknown[] =>
    schema.map((column, c) =>
      convertValue(converters[c]!, row[column.name], column.name, rowsBefore + buffered + 1),
    );
  const withDoubles = schema.map((column) => containsDouble(column.type));
  const writeGroup = () => {
    // hyparquet-writer's dictionaries key values by SameValueZero, which makes -0 and 0 one entry:
    // a column chunk holding a -0 is written PLAIN, so both keep their sign.
    const columnData: ColumnSource[] = schema.map((column, c) => ({
      name: column.name,
      data: columns[c]!,
      ...(withDoubles[c] && hasNegativeZero(column.type, columns[c]!) && { encoding: 'PLAIN' as const }),
    }));
    parquet!.write({ columnData, rowGroupSize: buffered });
    rowsBefore += buffered;
    buffered = 0;
    groupBytes = 0;
    columns = schema.map(() => []);
    if (maxBytes !== Number.POSITIVE_INFINITY) footerBytes = writtenFooterBytes(parquet!);
  };
  /** The file's bytes, at most, were it closed with `rowBytes` of rows buffered. */
  const fileBound = (rowBytes: number) => out!.offset + bounds.group(rowBytes) + footerBytes;
  /** Whether a row of `bytes` can join the file; a large group is written first to learn its size. */
  const fits = (bytes: number): boolean => {
    if (maxBytes === Number.POSITIVE_INFINITY || rowsBefore + buffered === 0) return true;
    if (fileBound(groupBytes + bytes) <= maxBytes) return true;
    if (buffered === 0 || bounds.group(groupBytes) < maxBytes / 4) return false;
    writeGroup();
    return fileBound(bytes) <= maxBytes;
  };

  const stream = new TransformStream<RowBatch, Uint8Array>(
    {
      async start(controller) {
        const compressors = await options.compressors();
        out = new ChunkWriter((bytes) => controller.enqueue(bytes));
        parquet = new ParquetWriter({
          writer: out,
          schema: toSchemaElements(schema, options.timestampUnit),
          codec: options.codec,
          compressors,
          createdBy: CREATED_BY,
        });
      },
      transform(batch) {
        refused = full ? batch.length : 0;
        if (full) return;
        for (let n = 0; n < batch.length; n++) {
          const cells = convertRow(batch[n]!);
          const bytes = maxBytes === Number.POSITIVE_INFINITY ? 0 : bounds.row(cells);
          if (!fits(bytes)) {
            full = true;
            refused = batch.length - n;
            return;
          }
          for (let c = 0; c < cells.length; c++) columns[c]!.push(cells[c]);
          buffered++;
          groupBytes += bytes;
          if (buffered >= rowGroupSize) writeGroup();
        }
      },
      flush() {
        if (buffered > 0) writeGroup();
        parquet!.finish();
      },
    },
    { highWaterMark: BATCH_QUEUE },
    { highWaterMark: 0 },
  );
  return withByteLimit(
    stream,
    (limit) => {
      maxBytes = limit;
    },
    () => refused,
  );
}

function containsDouble(type: ColumnType): boolean {
  if (typeof type === 'string') return type === 'double';
  return 'list' in type ? containsDouble(type.list) : type.struct.some((field) => containsDouble(field.type));
}

/** True when converted values of a column (lists and structs searched) hold a -0 double. */
function hasNegativeZero(type: ColumnType, values: readonly unknown[]): boolean {
  if (typeof type === 'string') return type === 'double' && values.some((v) => Object.is(v, -0));
  if ('list' in type) return values.some((v) => Array.isArray(v) && hasNegativeZero(type.list, v));
  return type.struct.some((field) =>
    hasNegativeZero(
      field.type,
      values.map((v) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[field.name] : null)),
    ),
  );
}

/** Converts one value, naming the column and the 1-based row of the file on error. */
function convertValue(convert: (v: unknown) => unknown, value: unknown, name: string, row: number): unknown {
  try {
    return convert(value);
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    return valueError(error, name, row);
  }
}

function valueError(error: ValueError, name: string, row: number): never {
  throw new ExportError('FORMAT_FAILED', `Parquet column "${name}", row ${row}: ${error.message}`, {
    plugin: PLUGIN,
    stage: 'format',
    details: { column: name, row },
    cause: error,
  });
}

/** A ByteWriter that hands its bytes on every ~1 MiB and after each row group, then reuses its buffer. */
class ChunkWriter extends ByteWriter {
  readonly #emit: (bytes: Uint8Array) => void;

  constructor(emit: (bytes: Uint8Array) => void) {
    super(CHUNK_BYTES + 65_536);
    this.#emit = emit;
  }

  override ensure(size: number): void {
    if (this.index >= CHUNK_BYTES) this.flush();
    super.ensure(size);
  }

  flush(): void {
    if (this.index === 0) return;
    this.#emit(new Uint8Array(this.buffer.slice(0, this.index)));
    this.index = 0;
  }

  override finish(): void {
    this.flush();
  }
}
