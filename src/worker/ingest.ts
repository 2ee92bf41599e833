/**
 * Batch ingestion bodies: NDJSON (one JSON object per line) or CSV (a header row, then records),
 * read as a stream, each record validated, and every bad record reported with its line. A batch is
 * all-or-nothing: the route writes only when no record is bad.
 */
import * as v from 'valibot';
import { toConfigIssues } from '../core/validate.ts';
import { CsvParser, type CsvRecord, CsvSyntaxError } from '../core/csv-parser.ts';
import { ApiError } from './errors.ts';

/** Most records one request may carry; larger loads are sent as several batches. */
export const MAX_BATCH_RECORDS = 10_000;
/** Most bad records listed in an error response (all are counted). */
export const MAX_LISTED_ERRORS = 100;

export interface LineError {
  /** Physical line (1-based) where the record starts; a CSV header is line 1. */
  readonly line: number;
  readonly path?: string;
  readonly message: string;
}

export type BodyKind = 'ndjson' | 'csv';

/** A raw record of the body: the parsed NDJSON object, or a CSV row keyed by header name. */
export type RawRecord = { line: number; value: unknown } | { line: number; error: string };

/** The body kind named by Content-Type; anything else is refused with 415-like 400. */
export function bodyKind(contentType: string | undefined): BodyKind {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl')
    return 'ndjson';
  if (type === 'text/csv') return 'csv';
  throw new ApiError(
    400,
    'BAD_REQUEST',
    `Content-Type: expected application/x-ndjson or text/csv, received ${JSON.stringify(type || '(none)')}`,
  );
}

/** Records of an NDJSON or CSV body, in order, streamed. CSV rows become `{header: cell}` objects. */
export async function* readRecords(
  body: ReadableStream<Uint8Array>,
  kind: BodyKind,
): AsyncGenerator<RawRecord> {
  const text = decodeText(body);
  yield* kind === 'ndjson' ? ndjsonRecords(text) : csvRecords(text);
}

async function* decodeText(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield decoder.decode(value, { stream: true });
    }
    yield decoder.decode();
  } finally {
    reader.releaseLock();
  }
}

async function* ndjsonRecords(chunks: AsyncGenerator<string>): AsyncGenerator<RawRecord> {
  let line = 0;
  let rest = '';
  const parse = (text: string): RawRecord | undefined => {
    line++;
    const trimmed = text.trim();
    if (trimmed === '') return undefined;
    try {
      return { line, value: JSON.parse(trimmed) };
    } catch (error) {
      return { line, error: `not valid JSON: ${(error as Error).message}` };
    }
  };
  try {
    for await (const chunk of chunks) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const part of parts) {
        const record = parse(part);
        if (record) yield record;
      }
    }
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    yield { line: line + 1, error: 'the body is not valid UTF-8' };
    return;
  }
  const last = parse(rest);
  if (last) yield last;
}

async function* csvRecords(chunks: AsyncGenerator<string>): AsyncGenerator<RawRecord> {
  const parser = new CsvParser({ delimiter: ',', quote: '"', escape: '"', escapeEscape: '' });
  let header: string[] | undefined;
  const toRecord = (record: CsvRecord): RawRecord | undefined => {
    if (record.blank) return undefined;
    const fields = record.fields.map((f) => f ?? '');
    if (!header) {
      header = fields.map((f) => f.trim());
      return undefined;
    }
    if (fields.length !== header.length)
      return { line: record.line, error: `expected ${header.length} fields, found ${fields.length}` };
    return { line: record.line, value: Object.fromEntries(header.map((name, i) => [name, fields[i]!])) };
  };
  try {
    for await (const chunk of chunks) {
      for (const record of parser.push(chunk)) {
        const raw = toRecord(record);
        if (raw) yield raw;
      }
    }
    for (const record of parser.end()) {
      const raw = toRecord(record);
      if (raw) yield raw;
    }
  } catch (error) {
    if (error instanceof CsvSyntaxError)
      yield { line: error.line, error: error.message.replace(/^line \d+: /, '') };
    else if (error instanceof TypeError) yield { line: 0, error: 'the body is not valid UTF-8' };
    else throw error;
  }
}

/** What a batch route does with one raw record: a value to store, or the problems with it. */
export type Check<T> = (raw: unknown, line: number) => T | LineError[];

/** Validates a raw record with a valibot schema, reporting every issue with its path. */
export function schemaCheck<S extends v.GenericSchema>(schema: S): Check<v.InferOutput<S>> {
  return (raw, line) => {
    const result = v.safeParse(schema, raw);
    if (result.success) return result.output;
    return toConfigIssues(result.issues).map((i) => ({ line, path: i.path, message: i.message }));
  };
}

/**
 * Reads and checks a whole batch; throws a 400 listing every bad line (the first MAX_LISTED_ERRORS)
 * when any record is bad, so nothing is written.
 */
export async function readBatch<T>(
  body: ReadableStream<Uint8Array> | null,
  kind: BodyKind,
  check: Check<T>,
): Promise<T[]> {
  const items: T[] = [];
  const errors: LineError[] = [];
  let errorCount = 0;
  if (body) {
    for await (const raw of readRecords(body, kind)) {
      if (items.length + errorCount >= MAX_BATCH_RECORDS)
        throw new ApiError(400, 'BAD_REQUEST', `A batch holds at most ${MAX_BATCH_RECORDS} records`);
      const result = 'error' in raw ? [{ line: raw.line, message: raw.error }] : check(raw.value, raw.line);
      if (Array.isArray(result)) {
        errorCount++;
        errors.push(...result.slice(0, Math.max(0, MAX_LISTED_ERRORS - errors.length)));
      } else items.push(result);
    }
  }
  if (errorCount > 0) {
    throw new ApiError(
      400,
      'ROWS_INVALID',
      `${errorCount} record${errorCount === 1 ? ' is' : 's are'} invalid; nothing was stored`,
      { errorCount, errors },
    );
  }
  return items;
}
