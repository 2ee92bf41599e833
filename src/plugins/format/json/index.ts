import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { Column, ColumnType, FormatStage, Row, RowBatch } from '../../../core/types.ts';
import { formatDouble } from '../csv/encoder.ts';

/** Characters of text gathered before one TextEncoder call: bytes leave in chunks of about 64 KiB. */
const CHUNK_CHARS = 64 * 1024;

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
      const line = lineEncoder(ctx.schema, includeNulls);
      const encoder = new TextEncoder();
      let buffer = '';
      return new TransformStream<RowBatch, Uint8Array>({
        transform(batch, controller) {
          for (const row of batch) {
            buffer += line(row);
            if (buffer.length >= CHUNK_CHARS) {
              controller.enqueue(encoder.encode(buffer));
              buffer = '';
            }
          }
        },
        flush(controller) {
          if (buffer.length > 0) controller.enqueue(encoder.encode(buffer));
        },
      });
    },
  };
}

/**
 * One row as a JSON line, written field by field (keys in schema order, even numeric-looking ones)
 * instead of building an object for JSON.stringify: numbers go through the fast `formatDouble`.
 */
export function lineEncoder(columns: readonly Column[], includeNulls: boolean): (row: Row) => string {
  const keys = columns.map((column, i) => `${i === 0 ? '' : ','}${JSON.stringify(column.name)}:`);
  const values = columns.map((column) => valueText(column.type));
  return (row) => {
    let line = '{';
    let first = true;
    for (let i = 0; i < columns.length; i++) {
      const text = values[i]!(row[columns[i]!.name]);
      if (text === 'null' && !includeNulls) continue;
      const key = keys[i]!;
      line += first && i > 0 ? key.slice(1) : key;
      line += text;
      first = false;
    }
    return `${line}}\n`;
  };
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
