/**
 * Our column types as Parquet schema elements, and the per-column converters that turn row values
 * into the physical values hyparquet-writer encodes (bigint for INT64, day numbers for DATE, …).
 */
import type { SchemaElement } from 'hyparquet';
import { timestampParts } from '../../../core/data/model.ts';
import type { Column, ColumnType, Schema } from '../../../core/types.ts';

export type TimestampUnit = 'millis' | 'micros';

/** Raised by converters; the writer adds the row number and wraps it in an ExportError. */
export class ValueError extends Error {}

/** Converts one value of a column (never called with null/undefined). */
type Convert = (value: unknown) => unknown;

const DAY_MS = 86_400_000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The flat, depth-first schema element list hyparquet-writer expects (root first). */
export function toSchemaElements(schema: Schema, unit: TimestampUnit): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'root', num_children: schema.length }];
  for (const column of schema) pushElements(out, column.name, column.type, column.nullable !== false, unit);
  return out;
}

function pushElements(
  out: SchemaElement[],
  name: string,
  type: ColumnType,
  nullable: boolean,
  unit: TimestampUnit,
) {
  const repetition_type = nullable ? 'OPTIONAL' : 'REQUIRED';
  if (typeof type === 'string') {
    out.push({ name, repetition_type, ...primitive(type, unit) });
  } else if ('list' in type) {
    out.push({
      name,
      repetition_type,
      converted_type: 'LIST',
      logical_type: { type: 'LIST' },
      num_children: 1,
    });
    out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
    pushElements(out, 'element', type.list, true, unit);
  } else {
    out.push({ name, repetition_type, num_children: type.struct.length });
    for (const field of type.struct)
      pushElements(out, field.name, field.type, field.nullable !== false, unit);
  }
}

function primitive(type: Exclude<ColumnType, object>, unit: TimestampUnit): Omit<SchemaElement, 'name'> {
  switch (type) {
    case 'string':
      return { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'integer':
      return { type: 'INT64' };
    case 'double':
      return { type: 'DOUBLE' };
    case 'boolean':
      return { type: 'BOOLEAN' };
    case 'date':
      return { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'timestamp':
      return {
        type: 'INT64',
        converted_type: unit === 'millis' ? 'TIMESTAMP_MILLIS' : 'TIMESTAMP_MICROS',
        logical_type: {
          type: 'TIMESTAMP',
          isAdjustedToUTC: true,
          unit: unit === 'millis' ? 'MILLIS' : 'MICROS',
        },
      };
  }
}

/**
 * A converter for a whole column: null stays null (refused when the column is not nullable),
 * anything else becomes the value hyparquet-writer encodes for the type.
 */
export function converterFor(column: Column, unit: TimestampUnit): Convert {
  return nullable(column.name, column.nullable !== false, converterOf(column.type, unit));
}

function nullable(name: string, allowNull: boolean, convert: Convert): Convert {
  return (value) => {
    if (value === null || value === undefined) {
      if (allowNull) return null;
      throw new ValueError(`column "${name}" is not nullable but the value is ${value}`);
    }
    return convert(value);
  };
}

function converterOf(type: ColumnType, unit: TimestampUnit): Convert {
  if (typeof type === 'string') return scalar[type](unit);
  if ('list' in type) {
    const element = nullable('element', true, converterOf(type.list, unit));
    return (value) => {
      if (!Array.isArray(value)) throw new ValueError(`expected a list, got ${describe(value)}`);
      return value.map(element);
    };
  }
  const fields = type.struct.map(
    (f) => [f.name, nullable(f.name, f.nullable !== false, converterOf(f.type, unit))] as const,
  );
  return (value) => {
    if (typeof value !== 'object' || Array.isArray(value) || value instanceof Date) {
      throw new ValueError(`expected a struct (object), got ${describe(value)}`);
    }
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [name, convert] of fields) out[name] = convert(source[name]);
    return out;
  };
}

const scalar: Record<Exclude<ColumnType, object>, (unit: TimestampUnit) => Convert> = {
  string: () => toText,
  integer: () => toInt64,
  double: () => toDouble,
  boolean: () => toBoolean,
  date: () => toDays,
  timestamp: (unit) => (unit === 'millis' ? toMillis : toMicros),
};

function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value instanceof Date) return value.toISOString();
  throw new ValueError(`expected a string, got ${describe(value)}`);
}

function toInt64(value: unknown): bigint {
  let out: bigint | undefined;
  if (typeof value === 'bigint') out = value;
  else if (typeof value === 'number' && Number.isInteger(value)) out = BigInt(value);
  else if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) out = BigInt(value.trim());
  if (out === undefined) throw new ValueError(`expected an integer, got ${describe(value)}`);
  if (out < INT64_MIN || out > INT64_MAX) throw new ValueError(`integer ${out} does not fit in 64 bits`);
  return out;
}

function toDouble(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (!Number.isNaN(n) || value.trim() === 'NaN') return n;
  }
  throw new ValueError(`expected a number, got ${describe(value)}`);
}

function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ValueError(`expected a boolean, got ${describe(value)}`);
}

function toDays(value: unknown): number {
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new ValueError(`expected a date (Date or ISO string), got ${describe(value)}`);
  return Math.floor(ms / DAY_MS);
}

/**
 * Epoch microseconds: ISO strings keep the sub-millisecond digits `Date` would drop (digits past the
 * microsecond are cut: the mapping refuses those values before they get here), numbers and bigints
 * are epoch milliseconds.
 */
function toMicros(value: unknown): bigint {
  const t = timestampParts(typeof value === 'bigint' ? Number(value) : value);
  if (!t)
    throw new ValueError(
      `expected a timestamp (Date, ISO string or epoch milliseconds), got ${describe(value)}`,
    );
  return BigInt(t.ms) * 1000n + BigInt(t.micros);
}

/** Epoch milliseconds, sub-millisecond digits cut (towards the past, as the calendar text reads). */
function toMillis(value: unknown): bigint {
  const micros = toMicros(value);
  const ms = micros / 1000n;
  return micros < 0n && ms * 1000n !== micros ? ms - 1n : ms;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value instanceof Date) return 'an invalid Date';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
