import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { Column, ColumnType, FormatContext, FormatStage, Row, RowBatch } from '../../../core/types.ts';
import { encodedOf, encodedRowsThatFit } from '../../../core/encoded.ts';
import { appendEncoded, utf8RowEncoder } from '../encoded-rows.ts';
import { canonical } from '../../../core/data/fingerprint.ts';
import {
  type TimestampScratch,
  isoTimestamp,
  localTimeIsUtc,
  readTimestampText,
  timestampParts,
} from '../../../core/data/model.ts';
import { withByteLimit } from '../byte-limit.ts';
import { Utf8Chunks } from '../utf8.ts';
import { jsonText } from '../values.ts';

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
 * Newline-delimited JSON: one object per row, keys in schema order. Integers (bigints too) are
 * written as exact digits; doubles as the shortest round-trip decimal, -0 as `-0.0`, NaN and
 * ±Infinity as the strings "NaN", "Infinity", "-Infinity"; timestamps ISO-8601 UTC (microseconds
 * when present), dates `YYYY-MM-DD`, bytes base64; lone surrogates become U+FFFD (docs/VALUES.md).
 */
export function json(options: JsonOptions = {}): FormatStage {
  const includeNulls = options.includeNulls ?? true;
  return {
    kind: 'format',
    name: 'json',
    extension: 'json',
    contentType: 'application/x-ndjson',
    rowEncoder(ctx) {
      return utf8RowEncoder(encodingKey(includeNulls, ctx), lineWriter(ctx.schema, includeNulls));
    },
    open(ctx) {
      const key = encodingKey(includeNulls, ctx);
      const write = lineWriter(ctx.schema, includeNulls);
      const out = new Utf8Chunks(CHUNK_BYTES);
      // With a byte limit, a line that takes the file past it is taken back and refused, with
      // the rest of its batch (the first line of a file always stays).
      let emitted = 0;
      let lines = 0;
      let maxBytes = Number.POSITIVE_INFINITY;
      let refused = 0;
      let full = false;
      const stream = new TransformStream<RowBatch, Uint8Array>({
        transform(batch, controller) {
          refused = full ? batch.length : 0;
          if (full) return;
          const encoded = encodedOf(batch);
          if (encoded) {
            // The JSON writer refuses no value: an encoded batch never carries an error.
            const taken = encodedRowsThatFit(encoded, key, 'format/json', maxBytes - emitted - out.pos, lines === 0);
            appendEncoded(out, encoded, taken, (bytes) => {
              emitted += bytes.byteLength;
              controller.enqueue(bytes);
            });
            lines += taken;
            if (taken < encoded.ends.length) {
              full = true;
              refused = batch.length - taken;
            }
            return;
          }
          for (let n = 0; n < batch.length; n++) {
            const mark = out.pos;
            write(batch[n]!, out);
            lines++;
            if (emitted + out.pos > maxBytes && lines > 1) {
              out.pos = mark;
              lines--;
              full = true;
              refused = batch.length - n;
              return;
            }
            if (out.full) {
              const bytes = out.take();
              emitted += bytes.byteLength;
              controller.enqueue(bytes);
            }
          }
        },
        flush(controller) {
          if (out.pos > 0) controller.enqueue(out.take());
        },
      });
      return withByteLimit(
        stream,
        (limit) => {
          maxBytes = limit;
        },
        () => refused,
      );
    },
  };
}

/** What the bytes of a JSON line depend on: the option and the columns. */
const encodingKey = (includeNulls: boolean, ctx: FormatContext) => `format/json ${includeNulls} ${canonical(ctx.schema)}`;

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

/**
 * A JSON string: printable ASCII is copied byte by byte, `"` and `\` escaped with a backslash (as
 * JSON.stringify does); a string with anything else (control characters, non-ASCII) via `jsonText`.
 */
function stringValue(s: string, out: Utf8Chunks): void {
  const n = s.length;
  out.reserve(2 * n + 2);
  const buf = out.buf;
  const start = out.pos;
  let p = start;
  buf[p++] = 34;
  for (let i = 0; i < n; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 0x20 || ch >= 0x7f) {
      out.text(jsonText(s));
      return;
    }
    if (ch === 34 || ch === 92) buf[p++] = 92;
    buf[p++] = ch;
  }
  buf[p++] = 34;
  out.pos = p;
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
    case 'integer':
      return (v, out) => {
        if (typeof v === 'number' && Number.isSafeInteger(v)) out.int(v);
        else if (typeof v === 'bigint') out.text(v.toString());
        else if (!(typeof v === 'string' && digitsValue(v, out))) return general(v, out);
        return true;
      };
    case 'double':
      return (v, out) => {
        const x = typeof v === 'string' ? numberText(v) : v;
        if (!(typeof x === 'number' && Number.isFinite(x))) return general(v, out);
        out.double(x);
        return true;
      };
    case 'boolean':
      return (v, out) => {
        const b = v === true || v === 'true' ? true : v === false || v === 'false' ? false : null;
        if (b === null) return general(v, out);
        out.bytes(b ? TRUE : FALSE);
        return true;
      };
    case 'timestamp':
    case 'date': {
      // Timestamp text of the common shapes is read without a Date (`readTimestampText`).
      const localUtc = localTimeIsUtc();
      const t: TimestampScratch = { ms: 0, micros: 0, nanos: 0 };
      const timestamp = type === 'timestamp';
      return (v, out) => {
        const isDate = v instanceof Date;
        if (!isDate && !(typeof v === 'string' && readTimestampText(v, localUtc, t))) return general(v, out);
        const mark = out.pos;
        out.byte(34);
        const ms = isDate ? v.getTime() : t.ms;
        if (!(timestamp ? out.isoMicros(ms, isDate ? 0 : t.micros) : out.isoMs(ms, 10))) {
          out.pos = mark;
          return general(v, out);
        }
        out.byte(34);
        return true;
      };
    }
    default:
      return general;
  }
}

const TRUE = encoder.encode('true');
const FALSE = encoder.encode('false');

/**
 * An integer column's text of 1–15 ASCII digits, with an optional `-` (what CSV sources give), written
 * as `toJsonValue` + `jsonText` write it (leading zeros and the sign of zero dropped); false, and
 * nothing written, for any other text.
 */
function digitsValue(s: string, out: Utf8Chunks): boolean {
  const n = s.length;
  const negative = n > 1 && s.charCodeAt(0) === 45;
  const start = negative ? 1 : 0;
  if (n === 0 || n - start > 15) return false;
  let value = 0;
  for (let i = start; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    value = value * 10 + d;
  }
  out.int(negative && value !== 0 ? -value : value);
  return true;
}

/** A double column's number for a text, as `toJsonValue` reads it; null where it would not give a finite number. */
function numberText(s: string): number | null {
  const x = Number(s);
  // Number('') and Number('  ') are 0, which toJsonValue refuses.
  return Number.isFinite(x) && (x !== 0 || s.trim() !== '') ? x : null;
}

/** The JSON text of a value of a column type (`null` for a missing or unusable one). */
function valueText(type: ColumnType): (value: unknown) => string {
  return (v) => jsonText(toJsonValue(v, type));
}

function toJsonObject(row: Row, columns: readonly Column[], includeNulls: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of columns) {
    const value = toJsonValue(row[column.name], column.type);
    if (value !== null || includeNulls) out[column.name] = value;
  }
  return out;
}

/**
 * Converts one value to what its JSON text is made from (`jsonText`), according to the column type:
 * integers stay numbers or bigints (written as exact digits), doubles keep -0, NaN and ±Infinity
 * (NaN and the infinities are written as strings), timestamps become ISO 8601 UTC strings with
 * microseconds when they have any, dates `YYYY-MM-DD`, bytes base64. Null for what the type
 * cannot use.
 */
export function toJsonValue(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  if (typeof type === 'object') {
    if ('list' in type)
      return Array.isArray(value) ? value.map((item) => toJsonValue(item, type.list)) : null;
    if (value === null || typeof value !== 'object') return null;
    return toJsonObject(value as Row, type.struct, true);
  }
  switch (type) {
    case 'timestamp': {
      const t = timestampParts(typeof value === 'bigint' ? Number(value) : value);
      return t ? isoTimestamp(t) : null;
    }
    case 'date':
      return toDate(value)?.toISOString().slice(0, 10) ?? null;
    case 'integer':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) {
        const big = BigInt(value.trim());
        return big >= -MAX_SAFE && big <= MAX_SAFE ? Number(big) : big;
      }
      return plusZero(finite(toNumber(value)));
    case 'double':
      return typeof value === 'bigint' ? Number(value) : toNumber(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : null;
    default:
      if (value instanceof Uint8Array) return btoa(String.fromCharCode(...value));
      if (value instanceof Date) return toDate(value)?.toISOString() ?? null;
      return typeof value === 'object' ? jsonText(value) : String(value);
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const NON_FINITE = /^\s*[-+]?(NaN|Infinity)\s*$/;

/** Integers have no negative zero. */
function plusZero(n: number | null): number | null {
  return n === null ? null : n + 0;
}

function finite(n: number | null): number | null {
  return n !== null && Number.isFinite(n) ? n : null;
}

/** A number, or a numeric string (NaN and ±Infinity spelled as JS spells them); null otherwise. */
function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const n = Number(value);
  return Number.isNaN(n) && !NON_FINITE.test(value) ? null : n;
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
