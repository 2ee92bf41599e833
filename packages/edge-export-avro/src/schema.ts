/**
 * The Avro schema of an export's columns, and the writer of one row in it (docs in ../README.md,
 * "Type mapping"). Each column becomes a record field; a nullable column (the default) is the union
 * `["null", T]` with default null, so a missing or unusable value is written as null. A value a
 * non-nullable column cannot use stops the file with an error naming the column.
 */
import type { Column, ColumnType, Row, Schema } from 'edge-export/plugin';
import type { AvroWriter } from './binary.ts';

/** An Avro schema as JSON (the `avro.schema` metadata of the file). */
export type AvroSchema = string | { readonly [key: string]: unknown } | readonly AvroSchema[];

/** Writes a value of its type; false (nothing written) when the value is not one it can use. */
type ValueWriter = (w: AvroWriter, value: unknown) => boolean;

export interface RowCodec {
  readonly schema: AvroSchema;
  /** Writes one row; throws when a non-nullable column gets a value it cannot use. */
  write(w: AvroWriter, row: Row): void;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `email address` → `email_address`, `1st` → `_1st`: the Avro name a column is written under. */
export function avroName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_');
  return NAME.test(cleaned) ? cleaned : `_${cleaned}`;
}

/**
 * The record schema of `columns` and the writer of its rows.
 *
 * @example rowCodec([{ name: 'id', type: 'string', nullable: false }], { name: 'Row' }).schema
 */
export function rowCodec(columns: Schema, options: { name: string; namespace?: string }): RowCodec {
  const names = new Set<string>();
  const record = recordOf(columns, options.name, names);
  const schema = options.namespace ? { ...record.schema, namespace: options.namespace } : record.schema;
  return { schema, write: (w, row) => record.write(w, row) };
}

interface RecordCodec {
  readonly schema: { readonly [key: string]: unknown };
  write(w: AvroWriter, row: Row): void;
}

function recordOf(columns: readonly Column[], name: string, names: Set<string>): RecordCodec {
  const recordName = unique(name, names);
  const used = new Set<string>();
  const fields = columns.map((column) => {
    const fieldName = unique(avroName(column.name), used);
    const type = typeOf(column.type, `${recordName}_${fieldName}`, names);
    const nullable = column.nullable !== false;
    return {
      source: column.name,
      schema: {
        name: fieldName,
        ...(fieldName !== column.name && { doc: `column "${column.name}"` }),
        ...(nullable ? { type: ['null', type.schema], default: null } : { type: type.schema }),
      },
      write: nullable ? orNull(type.write) : required(type.write, column.name),
    };
  });
  return {
    schema: { type: 'record', name: recordName, fields: fields.map((f) => f.schema) },
    write(w, row) {
      for (const field of fields) field.write(w, row[field.source]);
    },
  };
}

/** `["null", T]`: branch 1 and the value, or branch 0 when the value is missing or unusable. */
function orNull(write: ValueWriter): (w: AvroWriter, value: unknown) => void {
  return (w, value) => {
    if (value !== null && value !== undefined) {
      const mark = w.pos;
      w.byte(2); // zig-zag 1: the second branch
      if (write(w, value)) return;
      w.pos = mark;
    }
    w.byte(0);
  };
}

function required(write: ValueWriter, column: string): (w: AvroWriter, value: unknown) => void {
  return (w, value) => {
    if (!write(w, value)) {
      throw new TypeError(
        `format/avro: column "${column}" is not nullable, and ${describe(value)} is not a value of its type`,
      );
    }
  };
}

function typeOf(
  type: ColumnType,
  name: string,
  names: Set<string>,
): { schema: AvroSchema; write: ValueWriter } {
  if (typeof type === 'object') {
    if ('list' in type) {
      const item = typeOf(type.list, `${name}_item`, names);
      const writeItem = orNull(item.write);
      return {
        schema: { type: 'array', items: ['null', item.schema] },
        write: (w, value) => {
          if (!Array.isArray(value)) return false;
          if (value.length > 0) {
            w.long(value.length);
            for (const element of value) writeItem(w, element);
          }
          w.byte(0);
          return true;
        },
      };
    }
    const record = recordOf(type.struct, name, names);
    return {
      schema: record.schema,
      write: (w, value) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date)
          return false;
        record.write(w, value as Row);
        return true;
      },
    };
  }
  return PRIMITIVES[type];
}

const PRIMITIVES: Record<Exclude<ColumnType, object>, { schema: AvroSchema; write: ValueWriter }> = {
  string: {
    schema: 'string',
    write: (w, value) => {
      const text = textOf(value);
      if (text === undefined) return false;
      w.string(text);
      return true;
    },
  },
  integer: {
    schema: 'long',
    write: (w, value) => {
      const n = integerOf(value);
      if (n === undefined) return false;
      if (typeof n === 'number') w.long(n);
      else w.bigLong(n);
      return true;
    },
  },
  double: {
    schema: 'double',
    write: (w, value) => {
      const x =
        typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : numberText(value);
      if (x === undefined) return false;
      w.double(x);
      return true;
    },
  },
  boolean: {
    schema: 'boolean',
    write: (w, value) => {
      const b = value === true || value === 'true' ? 1 : value === false || value === 'false' ? 0 : -1;
      if (b < 0) return false;
      w.byte(b);
      return true;
    },
  },
  timestamp: {
    schema: { type: 'long', logicalType: 'timestamp-micros' },
    write: (w, value) => {
      const micros = microsOf(value);
      if (micros === undefined) return false;
      w.bigLong(micros);
      return true;
    },
  },
  date: {
    schema: { type: 'int', logicalType: 'date' },
    write: (w, value) => {
      const ms =
        value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(ms)) return false;
      w.long(Math.floor(ms / 86_400_000));
      return true;
    },
  },
};

/** Strings as they are; numbers, booleans and bigints as their text; dates ISO 8601; nested values JSON. */
function textOf(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return undefined;
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
      return JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item));
    default:
      return undefined;
  }
}

function integerOf(value: unknown): number | bigint | undefined {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    return Number.isInteger(value) ? BigInt(value) : undefined;
  }
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) return BigInt(value.trim());
  return undefined;
}

function numberText(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const x = Number(value);
  return Number.isNaN(x) && value.trim() !== 'NaN' ? undefined : x;
}

const FRACTION = /\d{2}:\d{2}:\d{2}[.,](\d+)/;

/** Microseconds since the epoch of a Date, epoch milliseconds, or a string Date.parse reads (µs kept). */
function microsOf(value: unknown): bigint | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : BigInt(ms) * 1000n;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    const ms = Math.floor(value);
    return BigInt(ms) * 1000n + BigInt(Math.min(999, Math.round((value - ms) * 1000)));
  }
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  const digits = FRACTION.exec(value)?.[1] ?? '';
  return BigInt(ms) * 1000n + BigInt(digits.slice(3, 6).padEnd(3, '0'));
}

function unique(name: string, used: Set<string>): string {
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) candidate = `${name}_${n}`;
  used.add(candidate);
  return candidate;
}

/** What a refused value is, never the value itself (rows carry personal data). */
function describe(value: unknown): string {
  if (value === null || value === undefined) return 'a missing value';
  return Array.isArray(value) ? 'a list' : `a ${typeof value} value`;
}
