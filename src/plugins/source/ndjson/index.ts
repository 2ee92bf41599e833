import * as v from 'valibot';
import { ExportError } from '../../../core/errors.ts';
import { definePlugin } from '../../../core/plugin.ts';
import { lines } from '../../../core/streams.ts';
import type { Row, SourceStage } from '../../../core/types.ts';

/**
 * Newline-delimited JSON rows. Blank lines are skipped; a line that is not a JSON object fails the
 * export with its line number (nothing is published for a run whose source is bad).
 */
export function ndjsonSource(): SourceStage {
  return {
    kind: 'source',
    name: 'ndjson',
    async open(_ctx, input) {
      const bytes = input instanceof Blob ? input.stream() : input;
      let line = 0;
      const rows = bytes.pipeThrough(lines()).pipeThrough(
        new TransformStream<string, Row>({
          transform(text, controller) {
            line++;
            if (text.trim() === '') return;
            let value: unknown;
            try {
              value = JSON.parse(text);
            } catch (error) {
              throw new ExportError('SOURCE_INVALID', `NDJSON line ${line}: not valid JSON (${(error as Error).message})`, {
                plugin: 'source/ndjson',
                stage: 'source',
                details: { line },
              });
            }
            if (value === null || typeof value !== 'object' || Array.isArray(value)) {
              throw new ExportError('SOURCE_INVALID', `NDJSON line ${line}: expected a JSON object`, {
                plugin: 'source/ndjson',
                stage: 'source',
                details: { line },
              });
            }
            controller.enqueue(value as Row);
          },
        }),
      );
      return { rows };
    },
  };
}

export const plugin = definePlugin({
  name: 'source/ndjson',
  description: 'Reads newline-delimited JSON objects',
  options: v.optional(v.strictObject({}), {}),
  create: () => ndjsonSource(),
});
