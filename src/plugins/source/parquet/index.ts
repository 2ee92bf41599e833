/**
 * source/parquet — rows of a Parquet file, read one row group at a time with hyparquet over
 * `blob.slice().arrayBuffer()`, so memory holds one group's decoded columns whatever the file size;
 * rows are built from them in batches of at most MAX_BATCH_ROWS (group.ts). The file's schema
 * is reported as ours. Parquet keeps its index at the end of the file, so the input must be a Blob
 * (random access); a one-pass stream is refused rather than spooled into memory.
 */
import { decompressSync } from 'fflate';
import { decompress as zstdDecompress } from 'fzstd';
import type { AsyncBuffer, Compressors, FileMetaData } from 'hyparquet';
import { parquetMetadataAsync, parquetSchema } from 'hyparquet/src/index.js';
import * as v from 'valibot';
import { ExportError } from '../../../core/errors.ts';
import { definePlugin } from '../../../core/plugin.ts';
import type { RowBatch, RunContext, Schema, SourceInput, SourceRows, SourceStage } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { DecodedGroup } from './group.ts';
import { fromParquetSchema, normalizerFor } from './schema.ts';

const PLUGIN = 'source/parquet';
/** Most rows per batch: a row group is handed on in slices of at most this many rows. */
export const MAX_BATCH_ROWS = 4096;

export const parquetSourceOptions = v.strictObject({
  /** Read only these columns (all when omitted), in this order. */
  columns: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1))),
});
export type ParquetSourceOptions = v.InferOutput<typeof parquetSourceOptions>;

/** Decompressors for the codecs other writers use; snappy is built into hyparquet. */
export const compressors: Compressors = {
  GZIP: (input, size) => decompressSync(input, { out: new Uint8Array(size) }),
  ZSTD: (input, size) => zstdDecompress(input, new Uint8Array(size)),
};

/**
 * Reads a Parquet Blob row group by row group.
 *
 * @example const { schema, rows } = await parquetSource().open(ctx, await openAsBlob('data.parquet'))
 */
export function parquetSource(input: v.InferInput<typeof parquetSourceOptions> = {}): SourceStage {
  const options = parse(parquetSourceOptions, input, 'source/parquet options');
  return Object.freeze({
    kind: 'source',
    name: 'parquet',
    options,
    async open(_ctx: RunContext, source: SourceInput): Promise<SourceRows> {
      if (!(source instanceof Blob)) {
        throw new ExportError(
          'SOURCE_INVALID',
          'Parquet needs random access to its footer: give the source a Blob or file, not a stream',
          { plugin: PLUGIN, stage: 'source' },
        );
      }
      return openGroups(source, options);
    },
  });
}

/**
 * The rows of row groups `first` … `end − 1` of a Parquet file (all of them by default), as the
 * source reads them: a worker thread of the Node and Deno hosts reads one group of a file this way
 * (src/hosts/parallel). `groups` is the file's number of row groups, `metadata` its footer (give it
 * back as `known` to read another group without reading the footer again).
 */
export async function openGroups(
  source: Blob,
  options: ParquetSourceOptions,
  first = 0,
  end?: number,
  known?: FileMetaData,
): Promise<SourceRows & { groups: number; metadata: FileMetaData }> {
  const file = blobBuffer(source);
  // `known`: the footer an earlier call read (a worker reading group after group of one file).
  const metadata = known ?? (await guard(() => parquetMetadataAsync(file), 'the file is not valid Parquet'));
  const schema = selectColumns(fromParquetSchema(parquetSchema(metadata)), options.columns);
  const groups = metadata.row_groups.length;
  return { schema, rows: readGroups(file, metadata, schema, first, Math.min(end ?? groups, groups)), groups, metadata };
}

function blobBuffer(blob: Blob): AsyncBuffer {
  return { byteLength: blob.size, slice: (start, end) => blob.slice(start, end).arrayBuffer() };
}

function selectColumns(schema: Schema, names: readonly string[] | undefined): Schema {
  if (!names) return schema;
  return names.map((name) => {
    const column = schema.find((c) => c.name === name);
    if (!column) {
      const known = schema.map((c) => c.name).join(', ');
      throw new ExportError('SOURCE_INVALID', `Parquet file has no column "${name}" (it has: ${known})`, {
        plugin: PLUGIN,
        stage: 'source',
        details: { column: name },
      });
    }
    return column;
  });
}

/**
 * A stream of the file's rows: a row group's columns are decoded once, when the previous group has
 * been read, and its rows are built and handed on MAX_BATCH_ROWS at a time, so memory holds one
 * group's decoded columns and one batch of row objects.
 */
function readGroups(file: AsyncBuffer, metadata: FileMetaData, schema: Schema, first: number, end: number): ReadableStream<RowBatch> {
  const columns = schema.map((c) => [c.name, normalizerFor(c.type)] as const);
  let group = first;
  let rowStart = metadata.row_groups.slice(0, first).reduce((n, g) => n + Number(g.num_rows), 0);
  let decoded: DecodedGroup | undefined;
  return new ReadableStream<RowBatch>(
    {
      async pull(controller) {
        // An empty row group enqueues nothing: go on to the next, or the reader would wait forever.
        while (!decoded || decoded.remaining === 0) {
          const rowGroup = group < end ? metadata.row_groups[group++] : undefined;
          if (!rowGroup) return controller.close();
          const rowEnd = rowStart + Number(rowGroup.num_rows);
          const range = { group: group - 1, rowStart, rowEnd };
          decoded = await guard(
            () => DecodedGroup.read({ file, metadata, columns, ...range, compressors }),
            `row group ${group} could not be read`,
          );
          rowStart = rowEnd;
        }
        controller.enqueue(decoded.take(MAX_BATCH_ROWS));
        if (decoded.remaining === 0 && group >= end) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

async function guard<T>(read: () => Promise<T>, what: string): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ExportError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ExportError('SOURCE_INVALID', `Parquet: ${what}: ${reason}`, {
      plugin: PLUGIN,
      stage: 'source',
      cause: error,
    });
  }
}

export const plugin = definePlugin({
  name: 'source/parquet',
  description: 'Rows of a Parquet file (a Blob), read row group by row group, with the file’s schema',
  options: v.optional(parquetSourceOptions, {}),
  create: (options) => parquetSource(options),
});
