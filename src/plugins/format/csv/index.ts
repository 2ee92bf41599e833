/**
 * format/csv — Spark's CSV writer options with Spark's names and defaults, on our own encoder
 * (papaparse has no null output and no backslash-escape mode).
 *
 * Where we knowingly differ from Spark 3 (univocity):
 * - `header` defaults to true (Spark: false).
 * - `quote: ""` writes every value raw; Spark writes U+0000 "quotes" around values that need them.
 *   A value that could then not be read back (equal to nullValue/emptyValue, or holding the
 *   delimiter or a line break) fails the row (FORMAT_FAILED) instead of being written.
 * - A value whose text equals nullValue or emptyValue is quoted, so readers that honour quoting read
 *   it back as itself; options under which that cannot work are refused (options.ts).
 * - null is written as `nullValue` unquoted even with `quoteAll` (Spark writes `""` for null then), so
 *   null and empty stay distinct under the defaults (`nullValue` '' vs `emptyValue` two quote chars).
 * - The default `emptyValue` is two of the configured quote characters (Spark: always `""`), and ''
 *   when quoting is disabled (null and empty are then only distinct with a non-empty `nullValue`).
 * - Values holding the escape character (when it differs from the quote) are quoted, so the escape
 *   survives readers that also unescape outside quotes (Python's csv); Spark leaves them unquoted.
 * - `encoding: 'UTF-16'` is little-endian with a BOM (Java writes big-endian with a BOM).
 * - Dates and timestamps are formatted in UTC; list/struct columns are written as JSON text.
 */
import * as v from 'valibot';
import { ExportError } from '../../../core/errors.ts';
import { definePlugin } from '../../../core/plugin.ts';
import type { FormatContext, FormatStage, Row, RowBatch } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { type TextCodec, textCodec } from './bytes.ts';
import { Utf8Chunks } from '../utf8.ts';
import { type CsvConfig, resolveConfig, rowEncoder } from './encoder.ts';
import { type CsvOptionsInput, csvOptions } from './options.ts';
import { rowWriter } from './writer.ts';
import type { ByteLimitedFormat } from '../../../core/pipeline.ts';
import { withByteLimit } from '../byte-limit.ts';
import { type EncodedRows, encodedOf, encodedRowsThatFit, type RowEncoder } from '../../../core/encoded.ts';
import { appendEncoded, utf8RowEncoder } from '../encoded-rows.ts';
import { canonical } from '../../../core/data/fingerprint.ts';

export type { CsvOptions, CsvOptionsInput } from './options.ts';
export { csvOptions } from './options.ts';

/** Bytes per emitted chunk, about. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * A CSV format stage; options are validated here, so a bad option fails before any row is read.
 *
 * @example csv({ delimiter: ';', quoteAll: true, nullValue: 'NULL' })
 */
export function csv(options: CsvOptionsInput = {}): FormatStage {
  const parsed = parse(csvOptions, options, 'format/csv options');
  const config = resolveConfig(parsed);
  const codec = textCodec(parsed.encoding);
  return Object.freeze({
    kind: 'format' as const,
    name: 'csv',
    extension: 'csv',
    contentType: `text/csv; charset=${codec.charset}`,
    options: parsed,
    open(ctx: FormatContext) {
      return rowStream(
        codec.charset === 'utf-8'
          ? utf8Chunks(ctx, config, parsed.header)
          : textChunks(ctx, config, codec, parsed.header),
        encodingKey(parsed, ctx),
      );
    },
    rowEncoder(ctx: FormatContext): RowEncoder | undefined {
      if (codec.charset !== 'utf-8') return undefined;
      const writer = rowWriter(ctx.schema, config);
      return utf8RowEncoder(encodingKey(parsed, ctx), (row, out) => writer.write(row, out));
    },
  });
}

/** What the bytes of a CSV row depend on: the options and the columns. */
const encodingKey = (options: unknown, ctx: FormatContext) => `format/csv ${canonical(options)} ${canonical(ctx.schema)}`;

/** The `FORMAT_FAILED` error of row `row` of a file (1-based), which the encoder refused with `cause`. */
function rowFailed(row: number, cause: unknown): ExportError {
  return new ExportError('FORMAT_FAILED', `format/csv: row ${row}: ${(cause as Error).message}`, {
    plugin: 'format/csv',
    stage: 'format',
    cause,
    details: { row },
  });
}

/** Where encoded rows gather until a chunk's worth can leave. */
interface RowChunks {
  write(row: Row): void;
  /** The first `count` rows of a batch encoded elsewhere (core/encoded.ts), chunks handed to `emit`. */
  raw(encoded: EncodedRows, count: number, emit: (chunk: Uint8Array) => void): void;
  /** A chunk's worth is gathered. */
  readonly full: boolean;
  readonly empty: boolean;
  /** Bytes gathered and not yet taken. */
  readonly size: number;
  /** Where the next row starts, to `rollback` to. */
  mark(): number;
  rollback(mark: number): void;
  take(): Uint8Array;
}

/**
 * Rows in, chunks of about CHUNK_BYTES out; a row that cannot be written fails with its number.
 * With a byte limit (`limitBytes`), a row that takes the file past it is taken back and refused,
 * with the rest of its batch (the first row of a file always stays).
 */
function rowStream(chunks: RowChunks, key: string): TransformStream<RowBatch, Uint8Array> & ByteLimitedFormat {
  let rows = 0;
  let emitted = 0;
  let maxBytes = Number.POSITIVE_INFINITY;
  let refused = 0;
  let full = false;
  const stream = new TransformStream<RowBatch, Uint8Array>({
    transform(batch, controller) {
      refused = full ? batch.length : 0;
      if (full) return;
      const encoded = encodedOf(batch);
      if (encoded) {
        const taken = encodedRowsThatFit(encoded, key, 'format/csv', maxBytes - emitted - chunks.size, rows === 0);
        chunks.raw(encoded, taken, (bytes) => {
          emitted += bytes.byteLength;
          controller.enqueue(bytes);
        });
        rows += taken;
        if (taken < encoded.ends.length) {
          full = true;
          refused = batch.length - taken;
        } else if (encoded.error) throw rowFailed(rows + 1, new Error(encoded.error.message));
        return;
      }
      for (let n = 0; n < batch.length; n++) {
        const row = batch[n]!;
        const mark = chunks.mark();
        rows++;
        try {
          chunks.write(row);
        } catch (error) {
          throw rowFailed(rows, error);
        }
        if (emitted + chunks.size > maxBytes && rows > 1) {
          chunks.rollback(mark);
          rows--;
          full = true;
          refused = batch.length - n;
          return;
        }
        if (chunks.full) {
          const bytes = chunks.take();
          emitted += bytes.byteLength;
          controller.enqueue(bytes);
        }
      }
    },
    flush(controller) {
      if (!chunks.empty) controller.enqueue(chunks.take());
    },
  });
  return withByteLimit(
    stream,
    (limit) => {
      maxBytes = limit;
    },
    () => refused,
  );
}

/** UTF-8: rows written straight into byte chunks. */
function utf8Chunks(ctx: FormatContext, config: CsvConfig, header: boolean): RowChunks {
  const writer = rowWriter(ctx.schema, config);
  const out = new Utf8Chunks(CHUNK_BYTES);
  if (header) out.text(writer.header);
  return {
    write: (row) => writer.write(row, out),
    raw: (encoded, count, emit) => appendEncoded(out, encoded, count, emit),
    get full() {
      return out.full;
    },
    get empty() {
      return out.pos === 0;
    },
    get size() {
      return out.pos;
    },
    mark: () => out.pos,
    rollback(mark) {
      out.pos = mark;
    },
    take: () => out.take(),
  };
}

/** UTF-16: rows gathered as text, encoded by code unit. */
function textChunks(ctx: FormatContext, config: CsvConfig, codec: TextCodec, header: boolean): RowChunks {
  const flushAt = Math.ceil(CHUNK_BYTES / codec.minBytesPerUnit);
  const { header: names, encode } = rowEncoder(ctx.schema, config);
  let buffer = codec.bom + (header ? names : '');
  return {
    write(row) {
      buffer += encode(row);
    },
    raw() {
      throw new Error('format/csv: rows encoded elsewhere are UTF-8, this file is not');
    },
    get full() {
      return buffer.length >= flushAt;
    },
    get empty() {
      return buffer.length === 0;
    },
    // UTF-16 output is exactly two bytes per code unit (the BOM included).
    get size() {
      return 2 * buffer.length;
    },
    mark: () => buffer.length,
    rollback(mark) {
      buffer = buffer.slice(0, mark);
    },
    take() {
      const bytes = codec.encode(buffer);
      buffer = '';
      return bytes;
    },
  };
}

export const plugin = definePlugin({
  name: 'format/csv',
  description:
    "CSV with Spark's writer options: delimiter, quote, escape, nullValue/emptyValue, UTF-8/UTF-16, …",
  options: v.optional(csvOptions, {}),
  create: (options) => csv(options),
});
