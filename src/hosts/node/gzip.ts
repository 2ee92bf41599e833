/** Streaming gzip over node:zlib, for the Node and Deno platforms (`Platform.gzip`). */
import { Duplex } from 'node:stream';
import { createGzip } from 'node:zlib';

/**
 * Node 20's Duplex.toWeb counts the zlib stream's highWaterMark (16,384 by default) in chunks, so with
 * default buffers up to 16,384 × 64 KiB of input queue ahead of a slower gzip (bench/memory.ts).
 * Stream options zlib passes on to its Transform, missing from the ZlibOptions type.
 */
const SMALL_BUFFERS = { writableHighWaterMark: 4, readableHighWaterMark: 4 } as object;

/**
 * A native gzip stream at a zlib level (1 is ~4.5× faster than CompressionStream).
 *
 * @example fromIterable(chunks).pipeThrough(zlibGzip(6))
 */
export function zlibGzip(level: number): ReadableWritablePair<Uint8Array, Uint8Array> {
  return Duplex.toWeb(createGzip({ level, chunkSize: 256 * 1024, ...SMALL_BUFFERS })) as ReadableWritablePair<Uint8Array, Uint8Array>;
}
