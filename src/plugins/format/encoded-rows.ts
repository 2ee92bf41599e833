/** Row encoders of the UTF-8 text formats (CSV, NDJSON): their per-row writers, out of the file's stream. */
import type { EncodedRows, RowEncoder } from '../../core/encoded.ts';
import type { Row, RowBatch } from '../../core/types.ts';
import { Utf8Chunks } from './utf8.ts';

/** Bytes an encoder's buffer starts with (it grows as rows need). */
const START_BYTES = 1024 * 1024;

/**
 * A `RowEncoder` over a format's row writer (`write` appends one row's bytes, or throws having
 * written nothing): rows into one growing buffer, with where each ends.
 */
export function utf8RowEncoder(key: string, write: (row: Row, out: Utf8Chunks) => void): RowEncoder {
  let out = new Utf8Chunks(START_BYTES);
  let ends: number[] = [];
  let error: EncodedRows['error'];
  return {
    key,
    write(rows: RowBatch): boolean {
      if (error) return false;
      for (let n = 0; n < rows.length; n++) {
        try {
          write(rows[n]!, out);
        } catch (cause) {
          error = { index: ends.length, message: (cause as Error).message };
          return false;
        }
        ends.push(out.pos);
      }
      return true;
    },
    take(): EncodedRows {
      const encoded: EncodedRows = { key, bytes: out.buf.subarray(0, out.pos), ends: Uint32Array.from(ends), ...(error && { error }) };
      out = new Utf8Chunks(START_BYTES);
      ends = [];
      error = undefined;
      return encoded;
    },
  };
}

/**
 * Appends the first `count` rows of an encoded batch to a format's output, handing on a chunk
 * (`emit`) after each row that makes it a chunk's worth — where the format's own row loop does — so
 * the stream's chunks, and not only its bytes, are those of rows encoded here (a compression or
 * encryption stage may cut its output by them).
 */
export function appendEncoded(out: Utf8Chunks, encoded: EncodedRows, count: number, emit: (chunk: Uint8Array) => void): void {
  const { bytes, ends } = encoded;
  const size = out.chunkBytes;
  let from = 0;
  for (let n = 0; n < count; n++) {
    const end = ends[n]!;
    if (out.pos + (end - from) >= size) {
      out.bytes(bytes.subarray(from, end));
      emit(out.take());
      from = end;
    }
  }
  if (count > 0) out.bytes(bytes.subarray(from, ends[count - 1]));
}
