/** Messages between the parallel engine (engine.ts) and its worker threads (worker.ts). */
import type { EncodedRows } from '../../core/encoded.ts';
import type { Schema } from '../../core/types.ts';

/** Source plugins a worker can read with, and format plugins it can encode with (built-in ones). */
export const PARALLEL_SOURCES = ['source/ndjson', 'source/csv', 'source/parquet'] as const;
export const PARALLEL_FORMATS = ['format/csv', 'format/json'] as const;
export type ParallelSource = (typeof PARALLEL_SOURCES)[number];
export type ParallelFormat = (typeof PARALLEL_FORMATS)[number];

/** What every worker is started with (`workerData`). */
export interface WorkerInit {
  /** The input file (a Parquet source's worker opens it to read its row groups). */
  readonly path: string;
  readonly source: { readonly use: ParallelSource; readonly options?: unknown };
  readonly format: { readonly use: ParallelFormat; readonly options?: unknown };
  readonly schema: Schema;
}

/**
 * A piece of the input to read and encode: `bytes` of a text file (`header`, a CSV header record, is
 * read before them), or row group `group` of a Parquet file.
 */
export type PieceMessage =
  | { readonly seq: number; readonly header?: Uint8Array; readonly bytes: Uint8Array }
  | { readonly seq: number; readonly group: number };

/** A piece done: its rows encoded, or why it could not be read. */
export type PieceResult =
  | { readonly seq: number; readonly encoded: EncodedRows }
  | { readonly seq: number; readonly failure: string };
