/**
 * Batch ingestion bodies: NDJSON (one JSON object per line) or CSV (a header row, then records),
 * read as a stream, each record validated, and every bad record reported with its line. A batch is
 * all-or-nothing: the route writes only when no record is bad.
 */
import * as v from 'valibot';
import { quote, toConfigIssues } from '../core/validate.ts';
import { CsvParser, type CsvRecord, CsvSyntaxError } from '../core/csv-parser.ts';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../core/json-depth.ts';
import { lineSplitter } from '../core/streams.ts';
import { ApiError, payloadTooLarge } from './errors.ts';

const DEPTH_MESSAGE = `nested deeper than ${MAX_JSON_DEPTH} levels of objects and lists`;
const tooDeep = (value: unknown) => jsonDepthExceeds(value, MAX_JSON_DEPTH);

/** Most records one request may carry; larger loads are sent as several batches. */
export const MAX_BATCH_RECORDS = 10_000;
/**
 * Most bytes one batch body may hold (16 MiB, 1.6 KB a record at 10,000 records): a batch is checked
 * whole before anything is written, so it is held in memory, and a Worker has 128 MB.
 */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;
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
    `Content-Type: expected application/x-ndjson or text/csv, received ${type ? quote(type) : '(none)'}`,
  );
}

/**
 * Records of an NDJSON or CSV body, in order, streamed. CSV rows become `{header: cell}` objects.
 * Stops with a 413 as soon as more than `maxBytes` have arrived, whatever the body holds.
 */
export async function* readRecords(
  body: ReadableStream<Uint8Array>,
  kind: BodyKind,
  maxBytes: number = MAX_BATCH_BYTES,
): AsyncGenerator<RawRecord> {
  const bytes = bounded(body, maxBytes);
  yield* kind === 'ndjson' ? ndjsonRecords(bytes) : csvRecords(decodeText(bytes));
}

/** The body's chunks, counted: a 413 once more than `maxBytes` arrived (the rest is never read). */
async function* bounded(body: ReadableStream<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      size += value.byteLength;
      // The rest is left unread (not cancelled: see limitBodies in http.ts).
      if (size > maxBytes) throw payloadTooLarge(maxBytes);
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function* decodeText(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of chunks) yield decoder.decode(chunk, { stream: true });
  yield decoder.decode();
}

/** One JSON value per line; lines are split by the core's linear splitter, however long they are. */
async function* ndjsonRecords(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<RawRecord> {
  const split = lineSplitter();
  let line = 0;
  const parse = (text: string): RawRecord | undefined => {
    line++;
    const trimmed = text.trim();
    if (trimmed === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      return { line, error: `not valid JSON: ${(error as Error).message}` };
    }
    return tooDeep(value) ? { line, error: DEPTH_MESSAGE } : { line, value };
  };
  try {
    for await (const chunk of chunks) {
      for (const text of split(chunk)) {
        const record = parse(text);
        if (record) yield record;
      }
    }
    for (const text of split(null)) {
      const record = parse(text);
      if (record) yield record;
    }
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    yield { line: line + 1, error: 'the body is not valid UTF-8' };
  }
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
    return toConfigIssues(result.issues, '', schema).map((i) => ({ line, path: i.path, message: i.message }));
  };
}

/**
 * Reads and checks a whole batch; throws a 400 listing every bad line (the first MAX_LISTED_ERRORS)
 * when any record is bad, so nothing is written, and a 413 as soon as the body passes `maxBytes`.
 */
export async function readBatch<T>(
  body: ReadableStream<Uint8Array> | null,
  kind: BodyKind,
  check: Check<T>,
  maxBytes: number = MAX_BATCH_BYTES,
): Promise<T[]> {
  const items: T[] = [];
  const errors: LineError[] = [];
  let errorCount = 0;
  if (body) {
    for await (const raw of readRecords(body, kind, maxBytes)) {
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
