import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { SinkStage } from '../../../core/types.ts';

/**
 * Reads every byte and keeps none: `--dry-run` runs the whole pipeline (keys, row counts, sizes,
 * checksums) without uploading, and benchmarks measure the pipeline alone.
 */
export function discard(): SinkStage {
  return {
    kind: 'sink',
    name: 'discard',
    async write(_ctx, file) {
      let size = 0;
      const reader = file.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        size += value.byteLength;
      }
      return { key: file.key, size, location: `dry-run:${file.key}` };
    },
  };
}

export const plugin = definePlugin({
  name: 'sink/discard',
  description: 'Consumes files without storing them (dry runs, benchmarks)',
  options: v.optional(v.strictObject({}), {}),
  create: () => discard(),
});
