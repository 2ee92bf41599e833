/**
 * A worker thread of the parallel engine (engine.ts): reads each piece of the input it is given with
 * the run's source plugin and encodes the rows with the run's format (`FormatStage.rowEncoder`),
 * one piece after the other, and posts the bytes back (transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { webPlatform } from '../../core/platform.ts';
import { openAsBlob } from 'node:fs';
import type { FileMetaData } from 'hyparquet';
import type { FormatContext, FormatStage, RowBatch, SourceStage } from '../../core/types.ts';
import { parse } from '../../core/validate.ts';
import { csv } from '../../plugins/format/csv/index.ts';
import { json } from '../../plugins/format/json/index.ts';
import { csvSource } from '../../plugins/source/csv/index.ts';
import { ndjsonSource } from '../../plugins/source/ndjson/index.ts';
import type { PieceMessage, PieceResult, ParallelFormat, ParallelSource, WorkerInit } from './protocol.ts';

const SOURCES: Record<Exclude<ParallelSource, 'source/parquet'>, (options: never) => SourceStage> = {
  'source/ndjson': () => ndjsonSource(),
  'source/csv': (options) => csvSource(options),
};
const FORMATS: Record<ParallelFormat, (options: never) => FormatStage> = {
  'format/csv': (options) => csv(options),
  'format/json': (options) => json(options),
};

const init = workerData as WorkerInit;
const port = parentPort!;
const source = init.source.use === 'source/parquet' ? undefined : SOURCES[init.source.use](init.source.options as never);
let parquet: { file: Blob; metadata?: FileMetaData } | undefined;

/** The rows of a piece: its bytes read by the text source, or its row group read from the Parquet file. */
async function rowsOf(message: PieceMessage): Promise<ReadableStream<RowBatch>> {
  if ('group' in message) {
    // Imported here: a worker reading text never loads the Parquet reader.
    const { openGroups, parquetSourceOptions } = await import('../../plugins/source/parquet/index.ts');
    parquet ??= { file: await openAsBlob(init.path) };
    const options = parse(parquetSourceOptions, init.source.options ?? {}, 'source/parquet options');
    // The footer is read for the first group only.
    const opened = await openGroups(parquet.file, options, message.group, message.group + 1, parquet.metadata);
    parquet.metadata = opened.metadata;
    return opened.rows;
  }
  const { header, bytes } = message;
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      if (header) controller.enqueue(header);
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return (await source!.open(ctx, input)).rows;
}
const format = FORMATS[init.format.use](init.format.options as never);
const ctx: FormatContext = { ...webPlatform(), runId: 'parallel', scheduledTime: new Date(0), schema: init.schema, fileIndex: 1 };
const encoder = format.rowEncoder?.(ctx);

async function piece(message: PieceMessage): Promise<void> {
  const { seq } = message;
  let result: PieceResult;
  try {
    if (!encoder) throw new Error(`${init.format.use} cannot encode rows on a worker with these options`);
    const reader = (await rowsOf(message)).getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      if (!encoder.write(next.value)) {
        await reader.cancel();
        break;
      }
    }
    result = { seq, encoded: encoder.take() };
  } catch (error) {
    encoder?.take();
    result = { seq, failure: error instanceof Error ? error.message : String(error) };
  }
  if ('encoded' in result) port.postMessage(result, [result.encoded.bytes.buffer as ArrayBuffer, result.encoded.ends.buffer as ArrayBuffer]);
  else port.postMessage(result);
}

// One piece at a time, in the order given (a piece's reads must not interleave with the next's).
let queue = Promise.resolve();
port.on('message', (message: PieceMessage) => {
  queue = queue.then(() => piece(message));
});
