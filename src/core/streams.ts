/** Small Web Streams helpers shared by stages and tests. Web-standard only. */

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
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let carry = '';
  return new TransformStream<Uint8Array, string>({
    transform(chunk, controller) {
      const text = carry + decoder.decode(chunk, { stream: true });
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        controller.enqueue(text.slice(start, end));
        start = nl + 1;
      }
      carry = text.slice(start);
    },
    flush(controller) {
      const rest = carry + decoder.decode();
      if (rest.length > 0) controller.enqueue(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
    },
  });
}
