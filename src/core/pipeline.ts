/**
 * Runs one export: rows → format → compression → encryption → sink, file after file, then the
 * manifest. Memory stays constant: each file is a chain of Web Streams with backpressure.
 *
 * Rows move in batches (`RowBatch`): one stream read and one write per batch, never per row. A file
 * holds exactly `maxRows` rows at most (a batch that straddles the limit is sliced). With `maxBytes`,
 * a format that can cut at a row (`ByteLimitedFormat`: CSV, JSON, Parquet) is told the limit
 * and refuses the first row that would take the file past it; the rows it refused start the next
 * file. For other formats the limit is checked between writes of at most `BYTES_STEP` rows. The
 * loop yields to the event loop every `YIELD_ROWS` rows, so a host serving requests in the same
 * isolate is not starved by a long export.
 *
 * A run publishes all of its files or none: when any step fails, files this run already published
 * are removed (where the sink can), and the manifest — written last — never appears.
 */
import * as v from 'valibot';
import { credentialProvider } from './auth.ts';
import { ExportError, leftoversOf, withLeftovers, wrapError } from './errors.ts';
import { decodeValue, encodeValue, ExternalSorter, memorySpill, type SpillStore } from './data/spill.ts';
import { renderTemplate } from './name-template.ts';
import { baseFileName, fileNameOptions, folderPath, joinKey, renderFolder, splitFileName } from './naming.ts';
import { partitionColumnIssues, partitionOf, partitionOptions, tooManyPartitions } from './partition.ts';
import type { Pipeline } from './registry.ts';
import { inferSchema } from './schema.ts';
import { createSha256 } from './sha256.ts';
import type {
  DestinationInfo,
  ExportedFile,
  NamingContext,
  Row,
  RowBatch,
  RunContext,
  Runtime,
  Schema,
  SinkResult,
  SinkStage,
} from './types.ts';
import { fromIterable, pipeThrough } from './streams.ts';
import { sliceBatch } from './encoded.ts';
import { parse } from './validate.ts';

/** Where and how files are written: the destination half of an export job (validated). */
export const outputOptions = v.strictObject({
  folderPath: v.optional(folderPath, ''),
  fileName: v.optional(fileNameOptions, {}),
  split: v.optional(
    v.strictObject({
      /** Rows per file before a new file starts (reference default: 5,000,000). */
      maxRows: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 5_000_000),
      /**
       * Limit on a file's formatted (uncompressed) bytes. CSV, JSON and Parquet cut a file before
       * the row that would pass it (a file holds at least one row, so only a single row larger than
       * the limit makes a file exceed it); Parquet counts a bound on the bytes its buffered row
       * group will take, so its files stay under the limit. Formats that cannot cut at a row
       * (third-party ones) close a file at the first write boundary (≤ 256 rows) after the bytes
       * they emitted reach the limit, so they can pass it by what they buffer.
       */
      maxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024))),
    }),
    {},
  ),
  /** Write the run manifest (when the pipeline has a manifest stage). */
  manifest: v.optional(v.boolean(), true),
  /** One file set per value of one or two output columns, under Hive-style `column=value/` folders. */
  partitionBy: v.optional(partitionOptions),
});
export type OutputOptions = v.InferInput<typeof outputOptions>;

/** Rows per write while a `maxBytes` limit is set and the format cannot cut at a row. */
export const BYTES_STEP = 256;

/**
 * What the pair a format's `open()` returns may also be, so that a file can be cut at a byte limit
 * row by row: the pipeline calls `limitBytes` once before the first write, awaits each write, then
 * reads `refused`. Formats that are not are cut between writes of `BYTES_STEP` rows.
 */
export interface ByteLimitedFormat {
  /**
   * Take no row that would make the file's bytes (all of them, as if it were closed now) pass
   * `maxBytes`; the first row of a file is always taken.
   */
  limitBytes(maxBytes: number): void;
  /** Rows of the batch last written that the file did not take; once positive the file is full. */
  readonly refused: number;
}

function byteLimited(pair: object): ByteLimitedFormat | undefined {
  return typeof (pair as Partial<ByteLimitedFormat>).limitBytes === 'function'
    ? (pair as ByteLimitedFormat)
    : undefined;
}

/** Rows written between two yields to the event loop (timers and I/O callbacks get their turn). */
export const YIELD_ROWS = 16_384;

export interface ExportJob {
  readonly runId?: string;
  /** Drives file names and date macros; defaults to `now()`. */
  readonly scheduledTime?: Date;
  readonly destination: DestinationInfo;
  readonly output?: OutputOptions;
  readonly audience?: { readonly id: string; readonly name: string };
  readonly dataset?: { readonly id: string };
  /** Columns in output order; inferred from the first row when absent. */
  readonly schema?: Schema;
  /** The rows, in batches of any size (see `fromRows`/`batchRows` in streams.ts). */
  readonly rows: ReadableStream<RowBatch>;
  readonly signal?: AbortSignal;
  /** Called as rows are written and bytes produced (for progress displays); must not throw. */
  readonly onProgress?: (progress: ExportProgress) => void;
  /** Index of the first file (`name_<index>`), for a series an earlier invocation began; default 1. */
  readonly firstFileIndex?: number;
  /** Write no file at all when there are no rows (default: one file, even empty). */
  readonly skipEmpty?: boolean;
  /** Where a partitioned export sorts its rows by partition (memory by default; D1 on a Worker, files in the CLI). */
  readonly spill?: SpillStore;
  /** Heap bytes of rows a partitioned export sorts in memory before it spills a run (default 16 MiB). */
  readonly sortBudget?: number;
  /**
   * Partition folders written so far by the run this export is part of (its other subjects): the
   * bound `partitionBy.maxPartitions` holds for the whole run. This export adds its own.
   */
  readonly partitions?: Set<string>;
  /**
   * What the rows are in a diff export (`added`, `changed`, `removed`): file names end with
   * `_<kind>` (before a split index: `name_added_2.csv`) and each file, in the manifest too, says it.
   */
  readonly kind?: string;
}

/** Running totals of an export in progress. */
export interface ExportProgress {
  /** Rows handed to the format so far. */
  rows: number;
  /** Bytes of finished output (after compression and encryption) so far. */
  bytes: number;
  /** Files completely published so far. */
  files: number;
}

export interface ExportResult {
  readonly runId: string;
  readonly scheduledTime: string;
  readonly files: readonly ExportedFile[];
  readonly manifest?: SinkResult;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
}

/** Exports `job.rows` through `pipeline` into `sink` (or the pipeline's own sink). */
export async function runExport(pipeline: Pipeline, job: ExportJob, runtime: Runtime, sink = pipeline.sink): Promise<ExportResult> {
  if (!sink) throw new ExportError('CONFIG_INVALID', 'No sink: add a sink plugin to the plugin manifest');
  const output = parse(outputOptions, job.output ?? {}, 'output options', 'output');
  const started = Date.now();
  const scheduledTime = job.scheduledTime ?? runtime.now();
  const run: NamingContext = {
    ...runtime,
    runId: job.runId ?? runtime.uuid(),
    scheduledTime,
    destination: job.destination,
    ...(job.audience && { audience: job.audience }),
    ...(job.dataset && { dataset: job.dataset }),
    ...(job.signal && { signal: job.signal }),
  };
  // Auth stages sign for the sink: the first that applies wins.
  const ctx: NamingContext = pipeline.auth.length > 0 ? { ...run, credentials: credentialProvider(pipeline.auth, run) } : run;
  const folder = renderFolder(output.folderPath, pipeline.macros, ctx);
  const template = output.fileName.template;
  const named = template === undefined ? baseFileName(output.fileName, ctx) : renderTemplate(template, pipeline.macros, ctx);
  const base = named + (job.kind ? `_${job.kind}` : '');
  const reader = job.rows.getReader();
  const published: ExportedFile[] = [];
  try {
    const rows = new BatchReader(reader);
    const schema = job.schema ?? inferSchema(await rows.peek());
    const progress: ExportProgress = { rows: 0, bytes: 0, files: 0 };
    const series = { pipeline, sink, ctx, base, split: output.split, progress, onProgress: job.onProgress, published, kind: job.kind };
    const first = job.firstFileIndex ?? 1;
    if (output.partitionBy) {
      await writePartitions(series, { folder, schema, rows, first, job, options: output.partitionBy });
    } else if (!(job.skipEmpty === true && (await rows.done()))) {
      // A series that goes on from an earlier invocation writes no file when nothing came.
      await writeSeries(series, { folder, schema, rows, first });
    }
    const manifest = output.manifest && pipeline.manifest ? await writeManifest(pipeline, sink, ctx, folder, published) : undefined;
    return {
      runId: ctx.runId,
      scheduledTime: scheduledTime.toISOString(),
      files: published,
      ...(manifest && { manifest }),
      rows: published.reduce((n, f) => n + f.rows, 0),
      bytes: published.reduce((n, f) => n + f.size, 0),
      durationMs: Date.now() - started,
    };
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    await unpublish(sink, ctx, published);
    throw error;
  }
}

/** What every file of an export shares: where, how, and the list of files published so far. */
interface Series {
  pipeline: Pipeline;
  sink: SinkStage;
  ctx: NamingContext;
  base: string;
  split: { maxRows: number; maxBytes?: number | undefined };
  progress: ExportProgress;
  onProgress: ((progress: ExportProgress) => void) | undefined;
  published: ExportedFile[];
  /** A diff export's kind of rows, said by each file. */
  kind: string | undefined;
}

/** Writes `rows` as `base.ext`, `base_2.ext`, … into `folder` (at least one file, even empty). */
async function writeSeries(
  series: Series,
  part: { folder: string; schema: Schema; rows: BatchReader; first: number; partition?: Record<string, string | null> },
): Promise<void> {
  const { pipeline, sink, ctx, progress, onProgress } = series;
  for (let index = part.first; ; index++) {
    const name = splitFileName(series.base, extensionsOf(pipeline), index);
    const plan = { folder: part.folder, name, schema: part.schema, index, rows: part.rows, split: series.split, progress, onProgress };
    const file = await writeFile(pipeline, sink, ctx, plan);
    series.published.push({ ...file, ...(part.partition && { partition: part.partition }), ...(series.kind && { kind: series.kind }) });
    progress.files++;
    onProgress?.(progress);
    if (await part.rows.done()) return;
  }
}

/** A row on its way through the partition sort: its partition folder and values, and its place in the input. */
interface PartitionedRow {
  path: string;
  values: (string | null)[];
  seq: number;
  row: Row;
}

const partitionCodec = {
  encode: (item: PartitionedRow) => encodeValue([item.path, item.values, item.seq, item.row]),
  decode: (line: string): PartitionedRow => {
    const [path, values, seq, row] = decodeValue(line) as [string, (string | null)[], number, Row];
    return { path, values, seq, row };
  },
  // Partition folder, then input order: rows of a partition keep their order.
  key: (item: PartitionedRow) => `${item.path}\u0000${item.seq.toString(36).padStart(11, '0')}`,
};

/**
 * Writes one file series per partition, one partition after the other: the rows are first sorted by
 * partition folder through an external sorter (memory bounded by its budget; the rest spills to
 * the store), so only one file is open at a time, however many partitions there are. Nothing is
 * written before every row is sorted, so a run past its partition bound publishes nothing.
 */
async function writePartitions(
  series: Series,
  input: { folder: string; schema: Schema; rows: BatchReader; first: number; job: ExportJob; options: v.InferOutput<typeof partitionOptions> },
): Promise<void> {
  const { columns, maxPartitions } = input.options;
  const [issue] = partitionColumnIssues(columns, input.schema.map((c) => c.name), 'partitionBy');
  if (issue) throw new ExportError('CONFIG_INVALID', issue.message, { stage: 'naming' });
  // Hive-style: a partition column's value is in the folder name, not in the file.
  const schema = input.schema.filter((c) => !columns.includes(c.name));
  const seen = input.job.partitions ?? new Set<string>();
  const store = input.job.spill ?? memorySpill();
  const sorter = new ExternalSorter<PartitionedRow>(store, partitionCodec, input.job.sortBudget ?? 16 * 1024 * 1024);
  try {
    let seq = 0;
    while (await untilAborted(input.rows.fill(), series.ctx.signal)) {
      for (const row of input.rows.take(Number.POSITIVE_INFINITY)) {
        const { values, path } = partitionOf(row, columns);
        const key = input.folder ? `${input.folder}/${path}` : path;
        if (!seen.has(key)) {
          if (seen.size >= maxPartitions) throw tooManyPartitions(maxPartitions);
          seen.add(key);
        }
        if (sorter.push({ path, values, seq: seq++, row })) await sorter.spill();
      }
    }
    const groups = new SortedGroups(sorter.sortedBatches());
    for (let head = await groups.head(); head; head = await groups.head()) {
      const partition = Object.fromEntries(columns.map((c, i) => [c, head!.values[i]!]));
      const folder = joinKey(input.folder, head.path);
      await writeSeries(series, { folder, schema, rows: new BatchReader(groups.reader(head.path)), first: input.first, partition });
    }
  } finally {
    await store.drop().catch(() => {});
  }
}

/** Sorted partitioned rows, read one partition at a time as row batches. */
class SortedGroups {
  readonly #batches: AsyncIterator<PartitionedRow[]>;
  #batch: PartitionedRow[] = [];
  #at = 0;

  constructor(batches: AsyncIterator<PartitionedRow[]>) {
    this.#batches = batches;
  }

  /** The next row not read yet, or undefined at the end. */
  async head(): Promise<PartitionedRow | undefined> {
    while (this.#at >= this.#batch.length) {
      const next = await this.#batches.next();
      if (next.done) return undefined;
      this.#batch = next.value;
      this.#at = 0;
    }
    return this.#batch[this.#at];
  }

  /** A reader of the rows of partition `path` (those at the head), ending where the next partition starts. */
  reader(path: string): RowSource {
    return {
      read: async () => {
        const first = await this.head();
        if (first?.path !== path) return { done: true, value: undefined };
        const rows: Row[] = [];
        while (this.#at < this.#batch.length && this.#batch[this.#at]!.path === path) rows.push(this.#batch[this.#at++]!.row);
        return { done: false, value: rows };
      },
    };
  }
}

/** `promise`, or the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** File extensions contributed by the stages, in order: `csv`, `gz`, `gpg`. */
export function extensionsOf(pipeline: Pipeline): string[] {
  return [pipeline.format.extension, pipeline.compression?.extension ?? '', pipeline.encryption?.extension ?? ''].filter(Boolean);
}

/** Content-Type and Content-Encoding of the objects, derived from the stages chosen. */
export function contentHeadersOf(pipeline: Pipeline): { contentType: string; contentEncoding?: string } {
  if (pipeline.encryption) return { contentType: pipeline.encryption.contentType };
  const encoding = pipeline.compression?.contentEncoding;
  return { contentType: pipeline.format.contentType, ...(encoding && { contentEncoding: encoding }) };
}

/** One file of a series: its folder, name and index, the rows it takes from, and the series' limits and totals. */
interface FilePlan extends Pick<Series, 'split' | 'progress' | 'onProgress'> {
  folder: string;
  name: string;
  schema: Schema;
  index: number;
  rows: BatchReader;
}

async function writeFile(pipeline: Pipeline, sink: SinkStage, ctx: NamingContext, plan: FilePlan): Promise<ExportedFile> {
  const key = joinKey(plan.folder, plan.name);
  const formatted = pipeline.format.open({ ...ctx, schema: plan.schema, fileIndex: plan.index });
  const formattedBytes = { n: 0 };
  let body = pipeThrough(formatted.readable, tap((chunk) => (formattedBytes.n += chunk.byteLength)));
  const compression = pipeline.compression?.open(ctx);
  if (compression) body = pipeThrough(body, compression);
  if (pipeline.encryption) {
    body = pipeThrough(body, await pipeline.encryption.open(ctx).catch((e) => Promise.reject(wrapError(e, 'ENCRYPTION_FAILED', pipeline.encryption!.name, 'encryption'))));
  }
  const hash = ctx.sha256?.() ?? createSha256();
  let size = 0;
  body = pipeThrough(
    body,
    tap((chunk) => {
      hash.update(chunk);
      size += chunk.byteLength;
      plan.progress.bytes += chunk.byteLength;
    }),
  );

  const upload = sink.write(ctx, { key, ...contentHeadersOf(pipeline), body });
  // A rejected upload must stop the row loop even if nothing else propagates the failure.
  const orUploadFailure = untilRejected(upload);
  const writer = formatted.writable.getWriter();
  // Why the format's side failed (a value it refused): reported rather than the TypeError a write
  // or close on the errored stream gives.
  let formatError: { error: unknown } | undefined;
  writer.closed.catch((error: unknown) => {
    formatError ??= { error };
  });
  let rows = 0;
  try {
    const { maxRows, maxBytes } = plan.split;
    const limited = maxBytes === undefined ? undefined : byteLimited(formatted);
    limited?.limitBytes(maxBytes!);
    const step = maxBytes === undefined || limited ? Number.POSITIVE_INFINITY : BYTES_STEP;
    while (rows < maxRows && (maxBytes === undefined || limited || formattedBytes.n < maxBytes)) {
      // Waiting for rows is where a run spends its time: an abort (Ctrl-C in the CLI) ends it there.
      if (!(await untilAborted(plan.rows.fill(), ctx.signal))) break;
      const batch = plan.rows.take(Math.min(maxRows - rows, step));
      await orUploadFailure(writer.ready);
      let taken = batch.length;
      if (limited) {
        await orUploadFailure(writer.write(batch));
        taken -= limited.refused;
        plan.rows.giveBack(limited.refused);
      } else writer.write(batch).catch(() => {});
      rows += taken;
      plan.progress.rows += taken;
      plan.onProgress?.(plan.progress);
      if (taken < batch.length) break;
    }
    await orUploadFailure(writer.close());
  } catch (error) {
    await writer.abort(error).catch(() => {});
    // The upload's own failure may name uploads it could not remove: keep them on the error thrown.
    const uploadFailure = await upload.then(() => undefined, (e: unknown) => e);
    const thrown = formatError && error instanceof TypeError ? formatError.error : error;
    throw uploadFailure === thrown ? thrown : withLeftovers(thrown, leftoversOf(uploadFailure));
  }
  const result = await upload;
  return {
    key,
    sinkPath: plan.folder,
    name: plan.name,
    size,
    rows,
    sha256: await hash.digestHex(),
    location: result.location,
    ...(result.replaced && { replaced: true }),
  };
}

/** Writes a run's manifest into `folder`, after every file of the run. */
export async function writeManifest(
  pipeline: Pipeline,
  sink: SinkStage,
  ctx: NamingContext,
  folder: string,
  files: readonly ExportedFile[],
): Promise<SinkResult> {
  const manifest = pipeline.manifest!;
  const { body, contentType } = manifest.render(ctx, files);
  const key = joinKey(folder, manifest.fileName(ctx));
  return sink.write(ctx, { key, contentType, size: body.byteLength, body: fromIterable([body]) });
}

/**
 * Removes what a failed run published (where the sink can), so a failed run leaves nothing behind.
 * A file that replaced an earlier object is left: removing it would lose the earlier export as well,
 * and the run's retry writes the same key again.
 */
export async function unpublish(
  sink: SinkStage,
  ctx: RunContext,
  files: readonly { readonly key: string; readonly replaced?: boolean }[],
): Promise<void> {
  if (!sink.remove) return;
  for (const file of files) {
    if (file.replaced) {
      ctx.log?.('warn', 'a failed run leaves a file that replaced an earlier one', { key: file.key });
      continue;
    }
    await sink.remove(ctx, file.key).catch((error: unknown) => {
      ctx.log?.('warn', 'could not remove a file of a failed run', { key: file.key, error: String(error) });
    });
  }
}

/**
 * `wait`, or a rejection as soon as `watched` rejects. A `Promise.race([wait, watched])` per row
 * batch would leave a reaction on the still-pending `watched` each time, a heap that grows with rows.
 */
function untilRejected(watched: Promise<unknown>): <T>(wait: Promise<T>) => Promise<T> {
  let failure: { error: unknown } | undefined;
  let rejectWaiting: ((error: unknown) => void) | undefined;
  watched.catch((error: unknown) => {
    failure = { error };
    rejectWaiting?.(error);
  });
  return <T>(wait: Promise<T>) =>
    failure
      ? Promise.reject(failure.error)
      : new Promise<T>((resolve, reject) => {
          rejectWaiting = reject;
          wait.then(resolve, reject);
        });
}

function tap(observe: (chunk: Uint8Array) => void): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      observe(chunk);
      controller.enqueue(chunk);
    },
  });
}

/** Gives timers and I/O callbacks a turn (a macrotask); web-standard, unlike `setImmediate`. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Where a BatchReader reads: a stream's reader, or one partition of sorted rows. */
interface RowSource {
  read(): Promise<ReadableStreamReadResult<RowBatch>>;
}

/**
 * A reader of row batches with look-ahead: the current batch stays until taken, so a split can tell
 * "file full" from "source done" (no empty trailing file) and the schema can come from the first row.
 * Every `YIELD_ROWS` rows taken, `fill()` first yields to the event loop.
 */
class BatchReader {
  readonly #reader: RowSource;
  #batch: RowBatch = [];
  #offset = 0;
  #ended = false;
  #sinceYield = 0;

  constructor(reader: RowSource) {
    this.#reader = reader;
  }

  /** Reads until a row is available; false once the source is exhausted. */
  async fill(): Promise<boolean> {
    if (this.#sinceYield >= YIELD_ROWS) {
      this.#sinceYield = 0;
      await yieldToEventLoop();
    }
    while (this.#offset >= this.#batch.length) {
      if (this.#ended) return false;
      const { value, done } = await this.#reader.read();
      if (done) this.#ended = true;
      else {
        this.#batch = value;
        this.#offset = 0;
      }
    }
    return true;
  }

  async peek(): Promise<Row | undefined> {
    return (await this.fill()) ? this.#batch[this.#offset] : undefined;
  }

  /** Puts back the last `count` rows taken (a file refused them): the next `take` starts with them. */
  giveBack(count: number): void {
    this.#offset -= count;
    this.#sinceYield -= count;
  }

  /** Up to `max` rows of the current batch (call after `fill()` returned true); the batch itself when whole. */
  take(max: number): RowBatch {
    const start = this.#offset;
    const end = Math.min(this.#batch.length, start + max);
    this.#offset = end;
    this.#sinceYield += end - start;
    return start === 0 && end === this.#batch.length ? this.#batch : sliceBatch(this.#batch, start, end);
  }

  async done(): Promise<boolean> {
    return !(await this.fill());
  }
}
