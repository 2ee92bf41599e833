import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { CompressionStage } from '../../../core/types.ts';

/** Options of `compression/none`: there are none. */
export const noneOptions = v.optional(v.strictObject({}), {});

/**
 * The identity compression: no extension, no Content-Encoding, no transform in the chain.
 *
 * @example none().open(ctx) // null: the pipeline passes bytes through untouched
 */
export function none(): CompressionStage {
  return Object.freeze({
    kind: 'compression',
    name: 'none',
    extension: '',
    open: () => null,
  });
}

export const plugin = definePlugin({
  name: 'compression/none',
  description: 'No compression: files keep the format extension and content type.',
  options: noneOptions,
  create: () => none(),
});
