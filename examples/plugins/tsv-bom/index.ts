/**
 * A third-party format plugin: tab-separated values with a UTF-8 byte-order mark, the shape Excel
 * opens without an import wizard. It lives outside `src/` and reaches the engine only through a
 * plugin manifest's `modules` list: `{ "modules": ["./examples/plugins/tsv-bom/index.ts"],
 * "plugins": [{ "use": "acme/tsv-bom" }] }`.
 *
 * It uses only the public contracts (`definePlugin`, `FormatStage`) — a published package would
 * import their types from `edge-export/plugin` (see packages/edge-export-avro and docs/PLUGINS.md).
 */
import * as v from 'valibot';
import { definePlugin } from '../../../src/core/plugin.ts';
import type { FormatStage, RowBatch } from '../../../src/core/types.ts';

const ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\' };

/** Escapes tab, CR, LF and backslash the way PostgreSQL's text COPY format does; null is `\N`. */
export function escapeTsv(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/[\t\n\r\\]/g, (c) => ESCAPES[c]!);
}

export function tsvBom(options: { header: boolean }): FormatStage {
  return {
    kind: 'format',
    name: 'tsv-bom',
    extension: 'tsv',
    contentType: 'text/tab-separated-values; charset=utf-8',
    open(ctx) {
      const names = ctx.schema.map((c) => c.name);
      const encoder = new TextEncoder();
      return new TransformStream<RowBatch, Uint8Array>({
        start(controller) {
          const head = options.header ? `${names.map(escapeTsv).join('\t')}\n` : '';
          controller.enqueue(encoder.encode(`\uFEFF${head}`));
        },
        transform(batch, controller) {
          let text = '';
          for (const row of batch) text += `${names.map((n) => escapeTsv(row[n])).join('\t')}\n`;
          if (text) controller.enqueue(encoder.encode(text));
        },
      });
    },
  };
}

export default definePlugin({
  name: 'acme/tsv-bom',
  description: 'Tab-separated values with a UTF-8 BOM (third-party example)',
  options: v.optional(v.strictObject({ header: v.optional(v.boolean(), true) }), {}),
  create: (options) => tsvBom({ header: options.header ?? true }),
});
