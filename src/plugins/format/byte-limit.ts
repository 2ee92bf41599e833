/** Lets a format's rows-to-bytes pair be cut at a byte limit row by row (core/pipeline.ts). */
import type { ByteLimitedFormat } from '../../core/pipeline.ts';

/**
 * `pair`, also a `ByteLimitedFormat`: `limit` receives the limit, `refused` reports the rows of the
 * last batch the file did not take.
 */
export function withByteLimit<T extends object>(
  pair: T,
  limit: (maxBytes: number) => void,
  refused: () => number,
): T & ByteLimitedFormat {
  return Object.defineProperties(pair, {
    limitBytes: { value: limit },
    refused: { get: refused },
  }) as T & ByteLimitedFormat;
}
