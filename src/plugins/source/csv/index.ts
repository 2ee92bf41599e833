/**
 * source/csv — reads a CSV file or byte stream into rows of strings, streaming: memory holds one
 * chunk and its records, whatever the file size. Rows come in one batch per input chunk (capped at
 * MAX_BATCH_ROWS). Options use Spark's reader names.
 *
 * - Records end at LF, CRLF or CR (a custom writer `lineSep` such as `|` is not understood).
 * - Inside quotes, `escape` + quote is a quote, and a doubled quote is accepted whatever `escape`
 *   is, so both Spark-style (`\"`) and RFC 4180 (`""`) files read with the defaults.
 * - Only unquoted fields equal to `nullValue` are null: `""` stays an empty string.
 * - Blank lines are skipped, except in one-column files where they are empty (or null) values.
 * - Text after a closing quote is kept (lenient, like Spark); an unterminated quote or a record with
 *   the wrong number of fields is SOURCE_INVALID with its line number.
 */
import * as v from 'valibot';
import { ExportError } from '../../../core/errors.ts';
import { definePlugin } from '../../../core/plugin.ts';
import type { Row, RowBatch, RunContext, Schema, SourceInput, SourceRows, SourceStage } from '../../../core/types.ts';
import { utf8Decoder } from '../../../core/streams.ts';
import { parse } from '../../../core/validate.ts';
import { charOrNone, oneChar } from '../../format/csv/options.ts';
import { type CsvRecord, CsvParser, CsvSyntaxError, type ParserOptions } from '../../../core/csv-parser.ts';

const ENCODINGS = {
  'UTF-8': 'utf-8',
  'UTF-16': 'utf-16',
  'UTF-16LE': 'utf-16le',
  'UTF-16BE': 'utf-16be',
} as const;

const sourceFields = v.strictObject(
  {
    delimiter: v.optional(oneChar('delimiter'), ','),
    /** '' disables quoting. */
    quote: v.optional(charOrNone('quote'), '"'),
    /** Spark's reader default `\`; a doubled quote inside quotes is always accepted as well. */
    escape: v.optional(oneChar('escape'), '\\'),
    charToEscapeQuoteEscaping: v.optional(charOrNone('charToEscapeQuoteEscaping')),
    /** First record holds the column names; without it columns are `_c0`, `_c1`, … (Spark's names). */
    header: v.optional(v.boolean('header must be true or false'), true),
    /** Unquoted fields equal to this are null; unset, every value stays a string. */
    nullValue: v.optional(v.string('nullValue must be a string')),
    /** `UTF-16` detects the byte order from the BOM (little-endian without one). */
    encoding: v.optional(
      v.picklist(Object.keys(ENCODINGS) as (keyof typeof ENCODINGS)[], (issue) => {
        return `encoding must be one of ${Object.keys(ENCODINGS).join(', ')}, got ${issue.received}`;
      }),
      'UTF-8',
    ),
  },
  (issue) =>
    issue.expected === 'never' ? `unknown CSV source option ${issue.received}` : 'options must be an object',
);
type SourceFields = v.InferOutput<typeof sourceFields>;
const differ = (a: 'quote' | 'escape', message: string) =>
  v.forward(
    v.check((o: SourceFields) => o[a] !== o.delimiter, message),
    [a],
  );

/** Spark reader option names; cross-field checks name the field to change. */
export const csvSourceOptions = v.pipe(
  sourceFields,
  differ('quote', 'quote must differ from the delimiter'),
  differ('escape', 'escape must differ from the delimiter'),
  v.forward(
    v.check((o: SourceFields) => !/[\r\n]/.test(o.delimiter), 'delimiter must not be a line break'),
    ['delimiter'],
  ),
);
export type CsvSourceOptionsInput = v.InferInput<typeof csvSourceOptions>;
export type CsvSourceOptions = v.InferOutput<typeof csvSourceOptions>;

const PLUGIN = 'source/csv';
/** Most rows per batch: the records of one input chunk make one batch unless they are this many. */
export const MAX_BATCH_ROWS = 4096;

function invalid(message: string, line?: number, cause?: unknown): ExportError {
  return new ExportError('SOURCE_INVALID', `${PLUGIN}: ${message}`, {
    plugin: PLUGIN,
    stage: 'source',
    cause,
    ...(line !== undefined && { details: { line } }),
  });
}

/**
 * Decodes bytes to text; `UTF-16` waits for two bytes to read the BOM before choosing an order.
 * UTF-8 goes through `utf8Decoder` (no streaming decode: Node's is several times slower).
 */
function textDecoder(encoding: CsvSourceOptions['encoding']): (bytes: Uint8Array | null) => string {
  const decode = encoding === 'UTF-8' ? utf8Decoder() : utf16Decoder(encoding);
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      throw invalid(`the bytes are not valid ${encoding}`, undefined, error);
    }
  };
}

function utf16Decoder(encoding: Exclude<CsvSourceOptions['encoding'], 'UTF-8'>): (bytes: Uint8Array | null) => string {
  let decoder: TextDecoder | null = null;
  let head = new Uint8Array(0);
  return (bytes) => {
    if (!decoder) {
      const joined = new Uint8Array(head.length + (bytes?.length ?? 0));
      joined.set(head);
      if (bytes) joined.set(bytes, head.length);
      if (encoding === 'UTF-16' && joined.length < 2 && bytes) {
        head = joined;
        return '';
      }
      const label =
        encoding !== 'UTF-16'
          ? ENCODINGS[encoding]
          : joined[0] === 0xfe && joined[1] === 0xff
            ? 'utf-16be'
            : 'utf-16le';
      decoder = new TextDecoder(label, { fatal: true });
      bytes = joined;
    }
    return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
  };
}

/** Column names from the header record: empty names become `_c<i>`, duplicates are refused. */
function headerNames(record: CsvRecord): string[] {
  const names = record.fields.map((f, i) => (f === null || f === '' ? `_c${i}` : f));
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name))
      throw invalid(`duplicate column name ${JSON.stringify(name)} in the header`, record.line);
    seen.add(name);
  }
  return names;
}

/** The parser's options for a CSV source's (Spark's default for the escape's escape resolved). */
export function parserOptionsOf(o: CsvSourceOptions): ParserOptions {
  return {
    delimiter: o.delimiter,
    quote: o.quote,
    escape: o.escape,
    escapeEscape: o.charToEscapeQuoteEscaping ?? (o.escape === o.quote ? '' : o.escape),
    ...(o.nullValue !== undefined && { nullValue: o.nullValue }),
  };
}

/** Turns a byte stream into parsed records, pulling input only when asked. */
function recordReader(input: SourceInput, o: CsvSourceOptions) {
  const reader = (input instanceof Blob ? input.stream() : input).getReader();
  const decode = textDecoder(o.encoding);
  const parser = new CsvParser(parserOptionsOf(o));
  let pending: CsvRecord[] = [];
  let done = false;
  const parsed = (fn: () => CsvRecord[]) => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof CsvSyntaxError) throw invalid(error.message, error.line, error);
      throw error;
    }
  };
  return {
    /** Next batch of records (at least one), or null at the end of the input. */
    async next(): Promise<CsvRecord[] | null> {
      while (pending.length === 0 && !done) {
        const { value, done: end } = await reader.read();
        if (end) {
          done = true;
          const tail = decode(null);
          pending = parsed(() => [...parser.push(tail), ...parser.end()]);
        } else pending = parsed(() => parser.push(decode(value)));
      }
      const out = pending;
      pending = [];
      return out.length > 0 ? out : null;
    },
    cancel: (reason?: unknown) => reader.cancel(reason),
  };
}

/**
 * A CSV source: the header (or first record) is read when opened, so the schema is known up front.
 *
 * @example const { schema, rows } = await csvSource({ delimiter: ';' }).open(ctx, file);
 */
export function csvSource(options: CsvSourceOptionsInput = {}): SourceStage {
  const o = parse(csvSourceOptions, options, 'source/csv options');
  return Object.freeze({
    kind: 'source' as const,
    name: 'csv',
    options: o,
    async open(_ctx: RunContext, input: SourceInput): Promise<SourceRows> {
      const records = recordReader(input, o);
      let batch: CsvRecord[] = [];
      let first: CsvRecord | undefined;
      while (!first) {
        const next = await records.next();
        if (!next) break;
        batch = next.slice(
          Math.max(
            0,
            next.findIndex((r) => !r.blank),
          ),
        );
        first = batch.find((r) => !r.blank);
      }
      if (!first) return { schema: [], rows: new ReadableStream<RowBatch>({ start: (c) => c.close() }) };
      const names = o.header ? headerNames(first) : first.fields.map((_, i) => `_c${i}`);
      if (o.header) batch = batch.slice(1);
      const schema: Schema = names.map((name) => ({ name, type: 'string' as const }));
      return { schema, rows: rowStream(names, batch, records) };
    },
  });
}

function toRow(names: readonly string[], record: CsvRecord): Row {
  if (record.fields.length !== names.length) {
    throw invalid(
      `line ${record.line}: expected ${names.length} fields, found ${record.fields.length}`,
      record.line,
    );
  }
  const row: Row = {};
  for (let i = 0; i < names.length; i++) row[names[i]!] = record.fields[i];
  return row;
}

function rowStream(
  names: readonly string[],
  firstBatch: CsvRecord[],
  records: ReturnType<typeof recordReader>,
) {
  let batch: CsvRecord[] | null = firstBatch;
  let offset = 0;
  const keepBlank = names.length === 1;
  return new ReadableStream<RowBatch>({
    async pull(controller) {
      try {
        for (;;) {
          while (batch && offset >= batch.length) {
            batch = await records.next();
            offset = 0;
          }
          if (!batch) return controller.close();
          const rows: Row[] = [];
          const end = Math.min(batch.length, offset + MAX_BATCH_ROWS);
          for (let i = offset; i < end; i++) if (keepBlank || !batch[i]!.blank) rows.push(toRow(names, batch[i]!));
          offset = end;
          if (rows.length > 0) return controller.enqueue(rows);
        }
      } catch (error) {
        // Release the input: nothing more will be read from it.
        await records.cancel(error).catch(() => {});
        throw error;
      }
    },
    cancel: (reason) => records.cancel(reason),
  });
}

export const plugin = definePlugin({
  name: PLUGIN,
  description:
    'Reads CSV files or streams (quotes, escapes, CRLF, header, nullValue, UTF-8/UTF-16) into rows',
  options: v.optional(csvSourceOptions, {}),
  create: (options) => csvSource(options),
});
