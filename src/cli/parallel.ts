/**
 * When the CLI reads a plain file export's source with worker threads (src/hosts/parallel): a local
 * NDJSON or CSV file (UTF-8, with a header) of more than one piece, or a Parquet file of more than one
 * row group, exported as CSV (UTF-8) or NDJSON by the built-in plugins, without partitions. Anything
 * else — an audience or a mapping, a snapshot, Parquet output, partitions, third-party plugins —
 * reads on one thread, as before. The files are the same either way (test/parallel.test.ts compares
 * them byte for byte).
 */
import { openAsBlob } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { inferSchema } from '../core/schema.ts';
import type { RunContext, Schema, SourceRows, SourceStage } from '../core/types.ts';
import { PIECE_BYTES, parallelRows, workerScript } from '../hosts/parallel/engine.ts';
import { type CsvBytes, CsvRecordEnds, headerEnd, lastLineEnd } from '../hosts/parallel/pieces.ts';
import { PARALLEL_FORMATS, PARALLEL_SOURCES } from '../hosts/parallel/protocol.ts';
import { type CsvSourceOptions, parserOptionsOf } from '../plugins/source/csv/index.ts';
import { openGroups, parquetSourceOptions } from '../plugins/source/parquet/index.ts';
import { parse } from '../core/validate.ts';
import type { LoadedConfig } from './load.ts';

export interface ParallelOptions {
  /** Worker threads; 0 reads on this thread. */
  readonly threads: number;
  /** Bytes of input per piece (default PIECE_BYTES); a file of one piece or less reads on this thread. */
  readonly pieceBytes?: number | undefined;
  /** Filled in when the source is read by worker threads: how many, and the pieces they were given. */
  readonly report?: ParallelReport | undefined;
}

/** What the export summary says of a run read by worker threads (`"parallel"`). */
export interface ParallelReport {
  threads: number;
  pieces: number;
  /** Why a run that could have used worker threads read on this thread instead. */
  unavailable?: string;
}

interface Candidate extends ParallelOptions {
  readonly path: string;
  readonly source: SourceStage;
  readonly sourceUse: string | undefined;
}

/** Bytes at the start of the file read on this thread to learn the columns (the header, or the first row). */
const PROBE_BYTES = 1024 * 1024;

/** The source's rows read by worker threads, or undefined when this run reads on one thread. */
export async function parallelSource(loaded: LoadedConfig, c: Candidate): Promise<SourceRows | undefined> {
  const { config, definition, platform } = loaded;
  const pieceBytes = c.pieceBytes ?? PIECE_BYTES;
  if (c.threads < 1 || config.output.partitionBy) return undefined;
  const plugins = definition.manifest.plugins;
  const format = plugins.find((p) => p.use.startsWith('format/'));
  const source = plugins.find((p) => p.use.startsWith('source/')) ?? { use: c.sourceUse, options: config.source.options };
  const sourceUse = source.use;
  if (!format || !isOneOf(PARALLEL_FORMATS, format.use) || !isOneOf(PARALLEL_SOURCES, sourceUse)) return undefined;
  const csv = sourceUse === 'source/csv' ? csvBytesOf(c.source) : undefined;
  if (csv === null) return undefined;
  if (sourceUse !== 'source/parquet' && (await stat(c.path)).size <= pieceBytes) return undefined;
  const stage = loaded.service.registry.create(format, platform, 'format').find((s) => s.kind === 'format');
  if (!stage?.rowEncoder?.({ ...platform, runId: 'source', scheduledTime: new Date(0), schema: [], fileIndex: 1 })) return undefined;
  const sourceCtx: RunContext = { ...platform, runId: 'source', scheduledTime: new Date(0) };
  // Parquet: the footer says the columns and the row groups, which are the pieces.
  const parquet = sourceUse === 'source/parquet' ? await openGroups(await openAsBlob(c.path), parse(parquetSourceOptions, source.options ?? {}, 'source/parquet options')) : undefined;
  if (parquet && parquet.groups < 2) return undefined;
  const schema = config.schema ?? parquet?.schema ?? (await probedSchema(c, sourceCtx, csv ?? undefined));
  if (!schema) return undefined;
  // The worker script (bundled once on Node): a run that cannot have it reads on this thread.
  try {
    await workerScript();
  } catch (error) {
    // esbuild's message lists each of its errors, often the same one: the first says why.
    const message = error instanceof Error ? error.message : String(error);
    if (c.report) c.report.unavailable = (message.split('\n').find((line) => line.startsWith('error: ')) ?? message).replace(/^error: /, '');
    return undefined;
  }
  if (c.report) c.report.threads = c.threads;
  const rows = parallelRows({
    path: c.path,
    ...(c.report && { report: c.report }),
    threads: c.threads,
    pieceBytes,
    source: { use: sourceUse, options: source.options },
    format: { use: format.use, options: format.options },
    schema,
    ...(csv && { csv }),
    ...(parquet && { rowGroups: parquet.groups }),
    reread: async () => (await c.source.open(sourceCtx, await openAsBlob(c.path))).rows,
  });
  return { schema, rows };
}

function isOneOf<T extends string>(list: readonly T[], value: string | undefined): value is T {
  return list.includes(value as T);
}

/**
 * The schema the single-threaded run would use when none is declared: the CSV header's columns, or
 * the first row's (as the pipeline infers it) — read by the source from the start of the file, cut at
 * a record end. Undefined when no row starts there (the run then reads on one thread).
 */
async function probedSchema(c: Candidate, ctx: RunContext, csv: CsvBytes | undefined): Promise<Schema | undefined> {
  const file = await open(c.path, 'r');
  let head: Uint8Array<ArrayBuffer>;
  try {
    const buffer = new Uint8Array(PROBE_BYTES);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
  const end = csv ? headerEnd(head, csv) : lastLineEnd(head, head.length);
  if (end <= 0) return undefined;
  const { schema, rows } = await c.source.open(ctx, new Blob([head.slice(0, end)]));
  if (schema) return schema;
  const reader = rows.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    if (next.value.length > 0) return inferSchema(next.value[0]);
  }
  return undefined;
}

/** A CSV source's special characters when its files can be cut byte by byte (UTF-8, a header); null when not. */
function csvBytesOf(source: SourceStage): CsvBytes | null {
  const o = (source as { options?: CsvSourceOptions }).options;
  if (o?.encoding !== 'UTF-8' || !o.header) return null;
  const bytes = parserOptionsOf(o);
  return CsvRecordEnds.supports(bytes) ? bytes : null;
}
