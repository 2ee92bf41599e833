/** Small Web Streams helpers shared by stages and tests. Web-standard only. */
import type { Row, RowBatch } from './types.ts';

/** Rows per batch when a helper has to choose: a stream operation per row costs more than encoding it. */
export const BATCH_ROWS = 512;

/** A readable stream over the values of an (async) iterable. */
export function fromIterable<T>(items: Iterable<T> | AsyncIterable<T>): ReadableStream<T> {
  const iterator =
    Symbol.asyncIterator in items
      ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator]();
  return new ReadableStream<T>({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

/** Groups rows into batches of `size` (the last one may be shorter), for producers that make one row at a time. */
export function batchRows(size = BATCH_ROWS): TransformStream<Row, RowBatch> {
  let batch: Row[] = [];
  return new TransformStream<Row, RowBatch>({
    transform(row, controller) {
      batch.push(row);
      if (batch.length >= size) {
        controller.enqueue(batch);
        batch = [];
      }
    },
    flush(controller) {
      if (batch.length > 0) controller.enqueue(batch);
    },
  });
}

/**
 * A stream of row batches over an (async) iterable of rows. A synchronous iterable fills a batch
 * without awaiting per row; one batch is made per pull, so memory holds about two batches.
 */
export function fromRows(rows: Iterable<Row> | AsyncIterable<Row>, batchSize = BATCH_ROWS): ReadableStream<RowBatch> {
  const sync = !(Symbol.asyncIterator in rows);
  const iterator = sync ? (rows as Iterable<Row>)[Symbol.iterator]() : (rows as AsyncIterable<Row>)[Symbol.asyncIterator]();
  return new ReadableStream<RowBatch>(
    {
      async pull(controller) {
        const batch: Row[] = [];
        let done = false;
        while (batch.length < batchSize) {
          const next = sync ? (iterator as Iterator<Row>).next() : await iterator.next();
          if (next.done) {
            done = true;
            break;
          }
          batch.push(next.value);
        }
        if (batch.length > 0) controller.enqueue(batch);
        if (done) controller.close();
      },
      async cancel(reason) {
        await iterator.return?.(reason);
      },
    },
    { highWaterMark: 1 },
  );
}

/** Reads a stream of row batches into one array of rows (tests and small exports only). */
export async function collectRows(stream: ReadableStream<RowBatch>): Promise<Row[]> {
  return (await collect(stream)).flat();
}

/** Reads a whole stream into an array (tests and small bodies only). */
export async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

/** Concatenates byte chunks. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const c of chunks) length += c.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Reads a whole byte stream into one buffer (tests and small bodies only). */
export async function collectBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return concatBytes(await collect(stream));
}

/**
 * `source.pipeThrough(pair)` as a read/write loop. workerd's pipeTo (1.20260426) keeps about 100
 * bytes per chunk until the pipe ends, so an export's heap grew with its row count; this keeps
 * nothing per chunk. Errors travel both ways as with pipeTo: a failed source aborts the pair, a
 * failed or cancelled pair cancels the source.
 */
export function pipeThrough<I, O>(
  source: ReadableStream<I>,
  pair: ReadableWritablePair<O, I>,
): ReadableStream<O> {
  const reader = source.getReader();
  const writer = pair.writable.getWriter();
  writer.closed.catch((error: unknown) => reader.cancel(error).catch(() => {}));
  const pump = async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        await writer.ready;
        writer.write(value).catch(() => {});
      }
      await writer.close();
    } catch (error) {
      await writer.abort(error).catch(() => {});
      await reader.cancel(error).catch(() => {});
    }
  };
  void pump();
  return pair.readable;
}

/** Async iteration over a ReadableStream (not every runtime implements it natively). */
export async function* iterate<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Splits a byte stream into text lines (LF or CRLF), decoding UTF-8 across chunk boundaries.
 * The last line is emitted even without a trailing newline.
 */
export function lines(): TransformStream<Uint8Array, string> {
  const split = lineSplitter();
  return new TransformStream<Uint8Array, string>({
    transform(chunk, controller) {
      for (const line of split(chunk)) controller.enqueue(line);
    },
    flush(controller) {
      for (const line of split(null)) controller.enqueue(line);
    },
  });
}

/** Like `lines()`, but one array of lines per input chunk (none when a chunk completes no line). */
export function lineBatches(): TransformStream<Uint8Array, string[]> {
  const split = lineSplitter();
  return new TransformStream<Uint8Array, string[]>({
    transform(chunk, controller) {
      const found = split(chunk);
      if (found.length > 0) controller.enqueue(found);
    },
    flush(controller) {
      const found = split(null);
      if (found.length > 0) controller.enqueue(found);
    },
  });
}

/**
 * A line splitter over byte chunks: each call returns the lines the chunk completes, `null` ends the
 * input and returns the unterminated rest (see `lineReader`).
 *
 * @example const split = lineSplitter(); split(bytes); split(null)
 */
export function lineSplitter(): (chunk: Uint8Array | null) => string[] {
  const read = lineReader();
  return (chunk) => {
    const out: string[] = [];
    read(chunk, (line) => {
      out.push(line);
    });
    return out;
  };
}

/**
 * A line reader over byte chunks: each call hands `onLine` the lines the chunk completes, in order
 * (LF or CRLF, UTF-8 decoded across chunk boundaries); `null` ends the input and hands on the
 * unterminated rest. Linear in the input however long a line is: a chunk is searched once, and the
 * pieces of an unfinished line are kept apart and joined once, when its newline comes (carrying
 * them as one growing string re-scanned it with every chunk: one 64 MiB line cost 37 s of CPU).
 * Readers that parse each line at once (source/ndjson) use it directly: no array of lines per chunk.
 *
 * @example const read = lineReader(); read(bytes, (line) => rows.push(JSON.parse(line))); read(null, …)
 */
export function lineReader(): (chunk: Uint8Array | null, onLine: (line: string) => void) => void {
  const decode = utf8Decoder();
  let pieces: string[] = [];
  const finish = (tail: string): string => {
    const line = pieces.length === 0 ? tail : pieces.join('') + tail;
    pieces = [];
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  };
  return (chunk, onLine) => {
    const text = decode(chunk);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      onLine(finish(text.slice(start, nl)));
      start = nl + 1;
    }
    if (start < text.length) pieces.push(start === 0 ? text : text.slice(start));
    if (chunk === null && pieces.length > 0) onLine(finish(''));
  };
}

/**
 * UTF-8 text of a byte stream, chunk by chunk: what `TextDecoder('utf-8', { fatal: true })` gives
 * with `decode(chunk, { stream: true })` and a final `decode()` (a BOM dropped at the start only,
 * TypeError on invalid bytes), but each chunk's complete characters are decoded in one call without
 * `stream` — Node 20 takes a path about 4 times slower for streaming decodes (≈ 0.25 s of CPU per
 * 200 MB). The bytes of a character cut by the chunk's end (at most 3) wait for the next chunk;
 * `null` ends the input. Invalid bytes throw in the chunk that holds them, or at the latest in the
 * next one (a cut sequence is only judged once it is complete or the input ends).
 *
 * @example const decode = utf8Decoder(); decode(new Uint8Array([0xc3])); decode(new Uint8Array([0xa9])) // '', 'é'
 */
export function utf8Decoder(): (chunk: Uint8Array | null) => string {
  const atStart = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  const later = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let started = false;
  let carry: Uint8Array | null = null;
  return (chunk) => {
    let bytes = chunk ?? new Uint8Array(0);
    if (carry !== null) {
      const joined = new Uint8Array(carry.length + bytes.length);
      joined.set(carry);
      joined.set(bytes, carry.length);
      bytes = joined;
      carry = null;
    }
    const end = chunk === null ? bytes.length : completeUtf8Length(bytes);
    if (end < bytes.length) carry = bytes.slice(end);
    if (end === 0) return '';
    const text = (started ? later : atStart).decode(end === bytes.length ? bytes : bytes.subarray(0, end));
    started = true;
    return text;
  };
}

/**
 * How many leading bytes end on a character boundary: all of them, unless the last 1–3 bytes are the
 * start of a multi-byte sequence that needs more bytes than are there (then the decoder judges it
 * with the next chunk). Anything that is not such a start is left to the decoder to accept or refuse.
 */
function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = bytes[n - k]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 1;
    return need > k ? n - k : n;
  }
  return n;
}
