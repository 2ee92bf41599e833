import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { Column, ColumnType, FormatStage, Row, RowBatch } from '../../../core/types.ts';
import { formatDouble, Utf8Chunks } from '../utf8.ts';

/** Bytes per emitted chunk, about. */
const CHUNK_BYTES = 64 * 1024;

export const jsonOptions = v.optional(
  v.strictObject({
    /** Write `null` for missing values (true) or leave the key out (false). */
    includeNulls: v.optional(v.boolean(), true),
  }),
  {},
);
export type JsonOptions = v.InferInput<typeof jsonOptions>;

/**
 * Newline-delimited JSON: one object per row, keys in schema order. Timestamps become ISO-8601 UTC,
 * dates `YYYY-MM-DD`, bigints numbers when safe (strings otherwise), bytes base64.
 */
export function json(options: JsonOptions = {}): FormatStage {
  const includeNulls = options.includeNulls ?? true;
  return {
    kind: 'format',
    name: 'json',
    extension: 'json',
    contentType: 'application/x-ndjson',
    open(ctx) {
      const write = lineWriter(ctx.schema, includeNulls);
      const out = new Utf8Chunks(CHUNK_BYTES);
      return new TransformStream<RowBatch, Uint8Array>({
        transform(batch, controller) {
          for (const row of batch) {
            write(row, out);
            if (out.full) controller.enqueue(out.take());
          }
        },
        flush(controller) {
          if (out.pos > 0) controller.enqueue(out.take());
        },
      });
    },
  };
}

/** Writes a value's JSON text; false (and nothing written) when the value is JSON null. */
type ValueWriter = (value: unknown, out: Utf8Chunks) => boolean;

const encoder = new TextEncoder();
const NULL = encoder.encode('null');

/**
 * One row as a JSON line in UTF-8, written field by field (keys in schema order, even
 * numeric-looking ones) instead of building an object for JSON.stringify: plain ASCII strings,
 * numbers and timestamps are written byte by byte; other values go through `valueText`.
 */
export function lineWriter(
  columns: readonly Column[],
  includeNulls: boolean,
): (row: Row, out: Utf8Chunks) => void {
  const keys = columns.map((column) => encoder.encode(`,${JSON.stringify(column.name)}:`));
  const firstKeys = keys.map((key) => key.subarray(1));
  const writers = columns.map((column) => valueWriter(column.type));
  const names = columns.map((column) => column.name);
  return (row, out) => {
    out.byte(123); // {
    let first = true;
    for (let i = 0; i < names.length; i++) {
      const mark = out.pos;
      out.bytes(first ? firstKeys[i]! : keys[i]!);
      if (!writers[i]!(row[names[i]!], out)) {
        if (!includeNulls) {
          out.pos = mark;
          continue;
        }
        out.bytes(NULL);
      }
      first = false;
    }
    out.byte(125); // }
    out.byte(10);
  };
}

/** A JSON string: ASCII with nothing to escape is copied byte by byte, anything else via JSON.stringify. */
function stringValue(s: string, out: Utf8Chunks): void {
  const n = s.length;
  out.reserve(n + 2);
  const buf = out.buf;
  const start = out.pos;
  buf[start] = 34;
  for (let i = 0; i < n; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 0x20 || ch >= 0x7f || ch === 34 || ch === 92) {
      out.text(JSON.stringify(s));
      return;
    }
    buf[start + 1 + i] = ch;
  }
  buf[start + n + 1] = 34;
  out.pos = start + n + 2;
}

function valueWriter(type: ColumnType): ValueWriter {
  const text = valueText(type);
  const general: ValueWriter = (v, out) => {
    const t = text(v);
    if (t === 'null') return false;
    out.text(t);
    return true;
  };
  switch (type) {
    case 'string':
      return (v, out) => {
        if (typeof v !== 'string') return general(v, out);
        stringValue(v, out);
        return true;
      };
    case 'double':
    case 'integer':
      return (v, out) => {
        if (!(typeof v === 'number' && Number.isFinite(v))) return general(v, out);
        out.double(v);
        return true;
      };
    case 'timestamp':
      return (v, out) => {
        if (!(v instanceof Date)) return general(v, out);
        const mark = out.pos;
        out.byte(34);
        if (!out.iso(v, 24)) {
          out.pos = mark;
          return general(v, out);
        }
        out.byte(34);
        return true;
      };
    default:
      return general;
  }
}

/** The JSON text of a value of a column type (`null` for a missing or unusable one). */
function valueText(type: ColumnType): (value: unknown) => string {
  if (type === 'string')
    return (v) => (typeof v === 'string' ? JSON.stringify(v) : jsonText(toJsonValue(v, type)));
  if (type === 'double' || type === 'integer') {
    return (v) =>
      typeof v === 'number' && Number.isFinite(v) ? formatDouble(v) : jsonText(toJsonValue(v, type));
  }
  if (type === 'boolean')
    return (v) => (v === true ? 'true' : v === false ? 'false' : jsonText(toJsonValue(v, type)));
  if (type === 'timestamp')
    return (v) =>
      v instanceof Date && !Number.isNaN(v.getTime())
        ? `"${v.toISOString()}"`
        : jsonText(toJsonValue(v, type));
  return (v) => jsonText(toJsonValue(v, type));
}

function jsonText(value: unknown): string {
  return value === null ? 'null' : (JSON.stringify(value) ?? 'null');
}

function toJsonObject(row: Row, columns: readonly Column[], includeNulls: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of columns) {
    const value = toJsonValue(row[column.name], column.type);
    if (value !== null || includeNulls) out[column.name] = value;
  }
  return out;
}

/** Converts one value to its JSON form according to the column type. */
export function toJsonValue(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  if (typeof type === 'object') {
    if ('list' in type)
      return Array.isArray(value) ? value.map((item) => toJsonValue(item, type.list)) : null;
    if (value === null || typeof value !== 'object') return null;
    return toJsonObject(value as Row, type.struct, true);
  }
  switch (type) {
    case 'timestamp':
      return toDate(value)?.toISOString() ?? null;
    case 'date':
      return toDate(value)?.toISOString().slice(0, 10) ?? null;
    case 'integer':
      if (typeof value === 'bigint')
        return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
      return toNumber(value);
    case 'double':
      return toNumber(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : null;
    default:
      if (value instanceof Uint8Array) return btoa(String.fromCharCode(...value));
      if (value instanceof Date) return toDate(value)?.toISOString() ?? null;
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

function toNumber(value: unknown): number | null {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

function toDate(value: unknown): Date | null {
  const date =
    value instanceof Date
      ? value
      : typeof value === 'string' || typeof value === 'number'
        ? new Date(value)
        : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

export const plugin = definePlugin({
  name: 'format/json',
  description: 'Newline-delimited JSON objects (.json)',
  options: jsonOptions,
  create: (options) => json(options),
});
