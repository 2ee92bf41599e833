/** Batches small text pieces into ~64 KiB byte chunks: one TextEncoder call per chunk, not per row. */
export const CHUNK_CHARS = 64 * 1024;

/**
 * A row-to-text TransformStream: `encode` turns one row into its text; output is batched bytes.
 * `prefix`/`suffix` frame the file (a header line, a closing bracket).
 */
export function textEncoderStream<R>(
  encode: (row: R) => string,
  options: { prefix?: string; suffix?: string; encodeText?: (text: string) => Uint8Array } = {},
): TransformStream<R, Uint8Array> {
  const encodeText = options.encodeText ?? ((text: string) => new TextEncoder().encode(text));
  let buffer = options.prefix ?? '';
  return new TransformStream<R, Uint8Array>(
    {
      transform(row, controller) {
        buffer += encode(row);
        if (buffer.length >= CHUNK_CHARS) {
          controller.enqueue(encodeText(buffer));
          buffer = '';
        }
      },
      flush(controller) {
        buffer += options.suffix ?? '';
        if (buffer.length > 0) controller.enqueue(encodeText(buffer));
      },
    },
    { highWaterMark: 256 },
    { highWaterMark: 4 },
  );
}
