/**
 * Native Parquet page compressors for Node hosts: snappy (the C++ library, via napi-rs) is ~3× the
 * pure-JavaScript one, and zlib's gzip beats fflate. Both write the standard formats (raw snappy
 * blocks, gzip members), so any reader takes the pages.
 */
import { gzipSync } from 'node:zlib';
import { compressSync } from 'snappy';
import type { HostCodecs } from '../plugins/format/parquet/index.ts';

export const nodeParquetCodecs: HostCodecs = Object.freeze({
  snappy: (input: Uint8Array) => new Uint8Array(compressSync(input)),
  gzip: (input: Uint8Array, level: number) => new Uint8Array(gzipSync(input, { level })),
});
