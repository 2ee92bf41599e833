/**
 * Native Parquet page compressors for Node hosts: snappy (the C++ library, via napi-rs) is ~3× the
 * pure-JavaScript one, and zlib's gzip beats fflate. Both write the standard formats (raw snappy
 * blocks, gzip members), so any reader takes the pages.
 */
import { gzipSync } from 'node:zlib';
import { compressSync } from 'snappy';
import type { PageCodecs } from '../../core/platform.ts';

export const nodeParquetCodecs: PageCodecs = Object.freeze({
  // Buffers are Uint8Arrays: the page is copied into the file's buffer at once, so no copy here.
  snappy: (input: Uint8Array) => compressSync(input),
  gzip: (input: Uint8Array, level: number) => gzipSync(input, { level }),
});
