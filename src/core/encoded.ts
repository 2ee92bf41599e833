/**
 * Rows already encoded by a format, elsewhere (a worker thread of the Node or Deno host): a row
 * batch that carries the bytes its rows make in that format instead of the rows themselves.
 *
 * A format whose file is a prefix then one independent run of bytes per row (CSV, NDJSON) offers a
 * `RowEncoder` (`FormatStage.rowEncoder`). A batch it encoded is handed to the pipeline like any other
 * (`encodedBatch`): its length is its row count, the pipeline slices it at a split like any batch
 * (`sliceBatch`), and the format's own stream, seeing its key, copies the bytes instead of encoding
 * rows — so a file is byte for byte the file the rows would have made. Only the format can read one:
 * anything else that needs the rows themselves (partitioning, schema inference) is not given such a
 * batch (see src/hosts/parallel).
 */
import type { Row, RowBatch } from './types.ts';

/** The bytes of a run of rows in one format's encoding. */
export interface EncodedRows {
  /** The encoding: formats with equal keys write equal bytes for equal rows. */
  readonly key: string;
  /** The rows' bytes, one after the other. */
  readonly bytes: Uint8Array;
  /** `ends[i]`: where row i's bytes end in `bytes` (row i starts where row i−1 ends). */
  readonly ends: Uint32Array;
  /**
   * A row the encoder refused: rows before `index` are encoded; the format reports `message` for
   * row `index` as it reports a row it refuses itself (with the row's number in the file).
   */
  readonly error?: { readonly index: number; readonly message: string };
}

/** What a format offers to encode rows out of its own stream (see `FormatStage.rowEncoder`). */
export interface RowEncoder {
  readonly key: string;
  /**
   * Encodes `rows` after those written since the last `take`. A row the format refuses is not
   * thrown: it ends the run (`EncodedRows.error`), and `write` returns false (write nothing more).
   */
  write(rows: RowBatch): boolean;
  /** Everything written since the last `take`. */
  take(): EncodedRows;
}

/**
 * How many of an encoded batch's rows a file takes when `room` more bytes fit in it (all of them
 * without a limit): a row is taken while its bytes fit, and the first row of a file (`first`) always.
 * Throws when the batch was encoded for another key than the file's.
 */
export function encodedRowsThatFit(encoded: EncodedRows, key: string, name: string, room: number, first: boolean): number {
  if (encoded.key !== key) throw new Error(`${name}: rows encoded for another format, options or schema were given to this file`);
  const { ends } = encoded;
  if (ends.length === 0 || ends[ends.length - 1]! <= room) return ends.length;
  let taken = 0;
  while (taken < ends.length && ends[taken]! <= room) taken++;
  return taken === 0 && first ? 1 : taken;
}

const ENCODED = Symbol.for('edge-export.encoded-rows');

type EncodedBatch = RowBatch & { readonly [ENCODED]: EncodedRows };

/** A row batch of `encoded.ends.length` rows (plus the refused one, if any) that carries their bytes. */
export function encodedBatch(encoded: EncodedRows): RowBatch {
  const count = encoded.ends.length + (encoded.error ? 1 : 0);
  // Holes: nothing may read these rows, only the format that can read the bytes.
  const batch = new Array<Row>(count) as Row[] & { [ENCODED]?: EncodedRows };
  batch[ENCODED] = encoded;
  return batch;
}

/** The bytes a batch carries, when it is an encoded one. */
export function encodedOf(batch: RowBatch): EncodedRows | undefined {
  return (batch as Partial<EncodedBatch>)[ENCODED];
}

/** Rows `start` … `end − 1` of a batch, encoded or not. */
export function sliceBatch(batch: RowBatch, start: number, end: number): RowBatch {
  const encoded = encodedOf(batch);
  if (!encoded) return batch.slice(start, end);
  const rows = encoded.ends.length;
  const at = (n: number) => (Math.min(n, rows) === 0 ? 0 : encoded.ends[Math.min(n, rows) - 1]!);
  const from = at(start);
  const ends = encoded.ends.slice(Math.min(start, rows), Math.min(end, rows)).map((e) => e - from);
  const error = encoded.error && encoded.error.index >= start && encoded.error.index < end
    ? { index: encoded.error.index - start, message: encoded.error.message }
    : undefined;
  return encodedBatch({ key: encoded.key, bytes: encoded.bytes.subarray(from, at(end)), ends, ...(error && { error }) });
}
