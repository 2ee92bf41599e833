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
import { baseFileName, fileNameOptions, folderPath, joinKey, renderFolder, splitFileName } from './naming.ts';
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
  const base = baseFileName(output.fileName, ctx) + (job.kind ? `_${job.kind}` : '');
  const reader = job.rows.getReader();
  const published: ExportedFile[] = [];
  try {
    const rows = new BatchReader(reader);
    const schema = job.schema ?? inferSchema(await rows.peek());
    const progress: ExportProgress = { rows: 0, bytes: 0, files: 0 };
    const { onProgress } = job;
    let index = job.firstFileIndex ?? 1;
    // A series that goes on from an earlier invocation writes no file when nothing came.
    const nothing = job.skipEmpty === true && (await rows.done());
    while (!nothing) {
      const name = splitFileName(base, extensionsOf(pipeline), index);
      const file = await writeFile(pipeline, sink, ctx, { folder, name, schema, index, rows, split: output.split, progress, onProgress });
      published.push(job.kind ? { ...file, kind: job.kind } : file);
      progress.files++;
      onProgress?.(progress);
      index++;
      if (await rows.done()) break;
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

interface FilePlan {
  folder: string;
  name: string;
  schema: Schema;
  index: number;
  rows: BatchReader;
  split: { maxRows: number; maxBytes?: number | undefined };
  progress: ExportProgress;
  onProgress: ((progress: ExportProgress) => void) | undefined;
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

/**
 * A reader of row batches with look-ahead: the current batch stays until taken, so a split can tell
 * "file full" from "source done" (no empty trailing file) and the schema can come from the first row.
 * Every `YIELD_ROWS` rows taken, `fill()` first yields to the event loop.
 */
class BatchReader {
  readonly #reader: ReadableStreamDefaultReader<RowBatch>;
  #batch: RowBatch = [];
  #offset = 0;
  #ended = false;
  #sinceYield = 0;

  constructor(reader: ReadableStreamDefaultReader<RowBatch>) {
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
    return start === 0 && end === this.#batch.length ? this.#batch : this.#batch.slice(start, end);
  }

  async done(): Promise<boolean> {
    return !(await this.fill());
  }
}
