/**
 * A source plugin for tests (loaded through a plugin manifest's `modules`): it gives `rows` rows (each
 * with a `note` of `pad` characters), then
 * waits for more that never come, as a slow upstream would, until the export cancels it. It holds the
 * event loop open while it waits, so a CLI process stays mid-export until a signal ends it.
 */
import * as v from 'valibot';
import { definePlugin } from '../../src/core/plugin.ts';
import type { RowBatch, SourceStage } from '../../src/core/types.ts';

export function stallingSource(rows: number, pad = 0): SourceStage {
  return {
    kind: 'source',
    name: 'stalling',
    async open() {
      let sent = false;
      let timer: ReturnType<typeof setInterval> | undefined;
      const stream = new ReadableStream<RowBatch>({
        pull(controller) {
          if (!sent) {
            sent = true;
            const note = 'x'.repeat(pad);
            controller.enqueue(Array.from({ length: rows }, (_, i) => ({ id: `p${i}`, value: i, note })));
            return;
          }
          timer ??= setInterval(() => {}, 60_000);
          return new Promise<void>(() => {});
        },
        cancel() {
          clearInterval(timer);
        },
      });
      return { rows: stream };
    },
  };
}

export default definePlugin({
  name: 'test/stalling',
  description: 'Gives some rows, then stalls until cancelled (tests only)',
  options: v.optional(
    v.strictObject({ rows: v.optional(v.number(), 1000), pad: v.optional(v.number(), 0) }),
    {},
  ),
  create: (options) => stallingSource(options.rows ?? 1000, options.pad ?? 0),
});
