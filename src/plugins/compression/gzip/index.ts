import { Gzip } from 'fflate';
import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { CompressionStage } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { compressionLevel } from '../level.ts';

/** Options of `compression/gzip`: the zlib level, the same on every host. */
export const gzipOptions = v.optional(
  v.strictObject({
    /**
     * zlib level 0–9. Absent: the host's fastest gzip — native zlib at level 1 where the host has it
     * (Node, Deno), else the web-standard CompressionStream (its fixed level, zlib's default 6).
     */
    level: v.optional(compressionLevel('zlib', 0, 9)),
  }),
  {},
);
export type GzipOptions = v.InferInput<typeof gzipOptions>;

/** What gzip takes from the host: a native streaming gzip at a level (see Platform.gzip). */
export interface GzipHost {
  gzip?(level: number): ReadableWritablePair<Uint8Array, Uint8Array>;
}

/** Level of the host's native gzip when none is chosen: ~4.5× faster than CompressionStream. */
export const NATIVE_DEFAULT_LEVEL = 1;

/**
 * Gzip (`.gz`, Content-Encoding gzip): the host's native zlib when it has one, else the
 * web-standard CompressionStream, or — for an explicit level on a host without native zlib —
 * fflate's streaming deflate in JavaScript. Every path writes standard gzip members.
 *
 * @example gzip({ level: 6 }, platform).open(ctx) // { writable, readable }
 */
export function gzip(input: GzipOptions = {}, host: GzipHost = {}): CompressionStage {
  const { level } = parse(gzipOptions, input, 'compression/gzip options');
  const open = (): ReadableWritablePair<Uint8Array, Uint8Array> => {
    if (host.gzip) return host.gzip(level ?? NATIVE_DEFAULT_LEVEL);
    if (level === undefined) return new CompressionStream('gzip') as ReadableWritablePair<Uint8Array, Uint8Array>;
    return fflateGzip(level);
  };
  return Object.freeze({
    kind: 'compression',
    name: 'gzip',
    extension: 'gz',
    contentEncoding: 'gzip',
    open,
  });
}

/** fflate's streaming gzip at `level`, as a TransformStream. */
function fflateGzip(level: number): TransformStream<Uint8Array, Uint8Array> {
  let deflate: Gzip;
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      deflate = new Gzip({ level: level as 0 }, (chunk) => {
        if (chunk.byteLength > 0) controller.enqueue(chunk);
      });
    },
    transform(chunk) {
      deflate.push(chunk);
    },
    flush() {
      deflate.push(new Uint8Array(0), true);
    },
  });
}

export const plugin = definePlugin({
  name: 'compression/gzip',
  description: 'Gzip compression (.gz, Content-Encoding: gzip): native zlib where the host has it, else CompressionStream.',
  options: gzipOptions,
  create: (options, platform) => gzip(options, platform),
});
