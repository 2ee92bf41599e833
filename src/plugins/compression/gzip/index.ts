import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { CompressionStage } from '../../../core/types.ts';

/** Options of `compression/gzip`: CompressionStream has no level, so there is nothing to choose. */
export const gzipOptions = v.optional(v.strictObject({}), {});

/**
 * Gzip through the web-standard CompressionStream, so it runs unchanged in Workers, Deno and Node.
 * Node hosts may substitute the faster `nodeGzip()` from `src/node/gzip.ts` (same stage shape).
 *
 * @example gzip() // { extension: 'gz', contentEncoding: 'gzip', open: () => CompressionStream }
 */
export function gzip(): CompressionStage {
  return Object.freeze({
    kind: 'compression',
    name: 'gzip',
    extension: 'gz',
    contentEncoding: 'gzip',
    open: () => new CompressionStream('gzip') as ReadableWritablePair<Uint8Array, Uint8Array>,
  });
}

export const plugin = definePlugin({
  name: 'compression/gzip',
  description: 'Gzip compression (.gz, Content-Encoding: gzip) via the web-standard CompressionStream.',
  options: gzipOptions,
  create: () => gzip(),
});
