/** Messages between the parallel engine (engine.ts) and its worker threads (worker.ts). */
import type { EncodedRows } from '../../core/encoded.ts';
import type { Schema } from '../../core/types.ts';

/** Source plugins a worker can read with, and format plugins it can encode with (built-in ones). */
export const PARALLEL_SOURCES = ['source/ndjson', 'source/csv'] as const;
export const PARALLEL_FORMATS = ['format/csv', 'format/json'] as const;
export type ParallelSource = (typeof PARALLEL_SOURCES)[number];
export type ParallelFormat = (typeof PARALLEL_FORMATS)[number];

/** What every worker is started with (`workerData`). */
export interface WorkerInit {
  readonly source: { readonly use: ParallelSource; readonly options?: unknown };
  readonly format: { readonly use: ParallelFormat; readonly options?: unknown };
  readonly schema: Schema;
}

/** A piece of the input to read and encode: `header` (a CSV header record) is read before `bytes`. */
export interface PieceMessage {
  readonly seq: number;
  readonly header?: Uint8Array;
  readonly bytes: Uint8Array;
}

/** A piece done: its rows encoded, or why it could not be read. */
export type PieceResult =
  | { readonly seq: number; readonly encoded: EncodedRows }
  | { readonly seq: number; readonly failure: string };
