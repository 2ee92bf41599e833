/**
 * Custom-upload audiences: a CSV of `namespace,value[,column…]` with a header row. Every row is
 * validated and every bad row is reported with its line and reason; when any row is bad nothing
 * is imported (the store's staged writer is aborted, the previous members stay).
 *
 * The CSV is parsed as a stream (source/csv's parser, RFC 4180 quoting). Valid members are written
 * to the staged writer in batches, so memory holds one batch plus one entry per distinct identity
 * (duplicate detection needs it: O(members) strings, not rows).
 */
import { ExportError } from '../errors.ts';
import { CsvParser, type CsvRecord, CsvSyntaxError } from '../csv-parser.ts';
import { DEFAULT_NAMESPACES, type UploadMember } from './model.ts';
import type { DataStore } from './store.ts';

export interface UploadOptions {
  /** Accepted identity namespaces; defaults to email, phone, crmId, ecid. */
  readonly namespaces?: readonly string[];
  /** How many bad rows to list (all are counted); default 1000. */
  readonly maxErrors?: number;
  /** Members per staged write; default 500. */
  readonly batchSize?: number;
}

export interface UploadRowError {
  /** Physical line (1-based) where the row starts; the header is line 1. */
  readonly line: number;
  readonly reason: string;
}

export interface UploadResult {
  readonly ok: boolean;
  /** Members now stored (0 when any row was bad). */
  readonly imported: number;
  /** Data rows read. */
  readonly rows: number;
  /** Bad rows, in file order (at most `maxErrors`). */
  readonly errors: readonly UploadRowError[];
  readonly errorCount: number;
}

export type UploadInput = string | Blob | ReadableStream<Uint8Array>;

type Parsed = { line: number; member: UploadMember } | { line: number; error: string };

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE = /^\+?[0-9][0-9 ().-]{4,30}$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Imports an upload audience's members all-or-nothing.
 *
 * @example const result = await importUpload(store, 'aud-1', file); if (!result.ok) show(result.errors);
 */
export async function importUpload(
  store: DataStore,
  audienceId: string,
  input: UploadInput,
  options: UploadOptions = {},
): Promise<UploadResult> {
  const audience = await store.getAudience(audienceId);
  if (audience?.kind !== 'upload') {
    throw new ExportError(
      'CONFIG_INVALID',
      `Audience ${audienceId} ${audience ? 'is not a custom-upload audience' : 'does not exist'}`,
    );
  }
  const maxErrors = options.maxErrors ?? 1000;
  const batchSize = options.batchSize ?? 500;
  const writer = await store.writeUploadMembers(audienceId);
  const errors: UploadRowError[] = [];
  let errorCount = 0;
  let rows = 0;
  let batch: UploadMember[] = [];
  try {
    for await (const item of readUpload(input, options)) {
      if (item.line > 1) rows++;
      if ('error' in item) {
        errorCount++;
        if (errors.length < maxErrors) errors.push({ line: item.line, reason: item.error });
        batch = [];
      } else if (errorCount === 0) {
        batch.push(item.member);
        if (batch.length >= batchSize) await writer.add(batch.splice(0));
      }
    }
    if (errorCount > 0) {
      await writer.abort();
      return { ok: false, imported: 0, rows, errors, errorCount };
    }
    await writer.add(batch);
    return { ok: true, imported: await writer.commit(), rows, errors, errorCount };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Validated members (or positioned errors) of an upload CSV, in file order, streamed. */
export async function* readUpload(input: UploadInput, options: UploadOptions = {}): AsyncGenerator<Parsed> {
  const namespaces = new Set(options.namespaces ?? DEFAULT_NAMESPACES);
  const seen = new Map<string, number>();
  let columns: string[] | undefined;
  for await (const record of records(input)) {
    if ('error' in record) {
      yield record;
      return;
    }
    if (record.blank) continue;
    if (!columns) {
      const header = checkHeader(record);
      if (typeof header === 'string') {
        yield { line: record.line, error: header };
        return;
      }
      columns = header;
      continue;
    }
    const member = checkRow(record, columns, namespaces);
    if (typeof member === 'string') {
      yield { line: record.line, error: member };
      continue;
    }
    const key = `${member.namespace}\u0000${member.value}`;
    const first = seen.get(key);
    if (first !== undefined)
      yield { line: record.line, error: `duplicate of line ${first} (${member.namespace} ${member.value})` };
    else {
      seen.set(key, record.line);
      yield { line: record.line, member };
    }
  }
  if (!columns)
    yield { line: 1, error: 'the file is empty: expected a header row namespace,value[,column…]' };
}

function checkHeader(record: CsvRecord): string[] | string {
  const names = record.fields.map((f) => (f ?? '').trim());
  if (names[0]?.toLowerCase() !== 'namespace' || names[1]?.toLowerCase() !== 'value') {
    return `header: expected the first columns to be "namespace,value", found "${names.slice(0, 2).join(',')}"`;
  }
  const extra = names.slice(2);
  const bad = extra.find((n) => !COLUMN.test(n));
  if (bad !== undefined)
    return `header: column name "${bad}" must be 1–64 of A-Z a-z 0-9 _, starting with a letter or _`;
  const dup = extra.find((n, i) => extra.indexOf(n) !== i || n === 'namespace' || n === 'value');
  if (dup !== undefined) return `header: column "${dup}" appears twice`;
  return extra;
}

function checkRow(
  record: CsvRecord,
  columns: readonly string[],
  namespaces: ReadonlySet<string>,
): UploadMember | string {
  const fields = record.fields.map((f) => (f ?? '').trim());
  if (fields.length !== columns.length + 2)
    return `expected ${columns.length + 2} fields, found ${fields.length}`;
  const [namespace, value] = fields as [string, string];
  if (!namespaces.has(namespace))
    return `unknown namespace "${namespace}"; expected one of ${[...namespaces].join(', ')}`;
  if (value === '') return 'value is empty';
  if (namespace === 'email' && !EMAIL.test(value)) return `"${value}" is not an email address`;
  if (namespace === 'phone' && !PHONE.test(value)) return `"${value}" is not a phone number`;
  const attributes: Record<string, string> = {};
  columns.forEach((name, i) => {
    attributes[name] = fields[i + 2]!;
  });
  return { namespace, value, attributes };
}

/** Parsed CSV records, streamed; a syntax or encoding error ends the stream as an error item. */
async function* records(input: UploadInput): AsyncGenerator<CsvRecord | { line: number; error: string }> {
  const parser = new CsvParser({ delimiter: ',', quote: '"', escape: '"', escapeEscape: '' });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  try {
    if (typeof input === 'string') {
      yield* parser.push(input);
    } else {
      const reader = (input instanceof Blob ? input.stream() : input).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const text = decoder.decode(value, { stream: true });
          yield* parser.push(text);
          // Physical lines decoded so far: where an encoding error is reported.
          for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) line++;
        }
      } finally {
        reader.releaseLock();
      }
      yield* parser.push(decoder.decode());
    }
    yield* parser.end();
  } catch (error) {
    if (error instanceof CsvSyntaxError)
      yield { line: error.line, error: error.message.replace(/^line \d+: /, '') };
    else if (error instanceof TypeError) yield { line, error: 'the file is not valid UTF-8' };
    else throw error;
  }
}
