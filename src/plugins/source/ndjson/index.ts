import * as v from 'valibot';
import { ExportError } from '../../../core/errors.ts';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../../../core/json-depth.ts';
import { definePlugin } from '../../../core/plugin.ts';
import { lineReader, pipeThrough } from '../../../core/streams.ts';
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
      // Lines are parsed as the chunk is split (no array of lines in between, no stream stage).
      const read = lineReader();
      let line = 0;
      let batch: Row[] = [];
      let controller!: TransformStreamDefaultController<RowBatch>;
      const onLine = (text: string): void => {
        line++;
        // A line starting with `{` is not blank; anything else may be (whitespace only).
        if (text.charCodeAt(0) !== 123 && text.trim() === '') return;
        batch.push(parseLine(text, line));
        if (batch.length >= MAX_BATCH_ROWS) {
          controller.enqueue(batch);
          batch = [];
        }
      };
      const rows = pipeThrough(
        bytes,
        new TransformStream<Uint8Array, RowBatch>({
          transform(chunk, c) {
            controller = c;
            read(chunk, onLine);
            if (batch.length > 0) c.enqueue(batch);
            batch = [];
          },
          flush(c) {
            controller = c;
            read(null, onLine);
            if (batch.length > 0) c.enqueue(batch);
            batch = [];
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
