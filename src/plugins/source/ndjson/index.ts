import * as v from 'valibot';
import { ExportError } from '../../../core/errors.ts';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../../../core/json-depth.ts';
import { definePlugin } from '../../../core/plugin.ts';
import { lineBatches, pipeThrough } from '../../../core/streams.ts';
import type { Row, RowBatch, SourceStage } from '../../../core/types.ts';

/** Most rows per batch: one input chunk makes one batch unless its lines are this many. */
export const MAX_BATCH_ROWS = 4096;

/**
 * Newline-delimited JSON rows. Blank lines are skipped; a line that is not a JSON object fails the
 * export with its line number (nothing is published for a run whose source is bad). Rows come in
 * one batch per input chunk (split beyond MAX_BATCH_ROWS).
 */
export function ndjsonSource(): SourceStage {
  return {
    kind: 'source',
    name: 'ndjson',
    async open(_ctx, input) {
      const bytes = input instanceof Blob ? input.stream() : input;
      let line = 0;
      const parse = (text: string): Row | undefined => {
        line++;
        return text.trim() === '' ? undefined : parseLine(text, line);
      };
      const rows = pipeThrough(
        pipeThrough(bytes, lineBatches()),
        new TransformStream<string[], RowBatch>({
          transform(texts, controller) {
            let batch: Row[] = [];
            for (const text of texts) {
              const row = parse(text);
              if (row === undefined) continue;
              batch.push(row);
              if (batch.length >= MAX_BATCH_ROWS) {
                controller.enqueue(batch);
                batch = [];
              }
            }
            if (batch.length > 0) controller.enqueue(batch);
          },
        }),
      );
      return { rows };
    },
  };
}

/** One non-blank line as a row, or SOURCE_INVALID naming the line. */
function parseLine(text: string, line: number): Row {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ExportError(
      'SOURCE_INVALID',
      `NDJSON line ${line}: not valid JSON (${(error as Error).message})`,
      {
        plugin: 'source/ndjson',
        stage: 'source',
        details: { line },
      },
    );
  }
  if (jsonDepthExceeds(value, MAX_JSON_DEPTH)) {
    throw new ExportError('SOURCE_INVALID', `NDJSON line ${line}: nested deeper than ${MAX_JSON_DEPTH} levels of objects and lists`, {
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
  return value as Row;
}

export const plugin = definePlugin({
  name: 'source/ndjson',
  description: 'Reads newline-delimited JSON objects',
  options: v.optional(v.strictObject({}), {}),
  create: () => ndjsonSource(),
});
