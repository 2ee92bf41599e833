import * as v from 'valibot';
import type { Column, ColumnType, Row, Schema } from './types.ts';

/**
 * Infers columns from one row: numbers → double (one row cannot prove a column integral), bigints →
 * integer, booleans, Dates → timestamp, everything else → string (objects as JSON text).
 */
export function inferSchema(row: Row | undefined): Schema {
  if (!row) return [];
  return Object.entries(row).map(([name, value]) => ({ name, type: inferType(value) }));
}

function inferType(value: unknown): ColumnType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return 'double';
  if (value instanceof Date) return 'timestamp';
  return 'string';
}

const primitive = v.picklist(['string', 'integer', 'double', 'boolean', 'timestamp', 'date']);

/** A column type as written in JSON configs: `"string"`, `{"list": "integer"}`, `{"struct": [...]}`. */
export const columnType: v.GenericSchema<ColumnType> = v.union(
  [
    primitive,
    v.strictObject({ list: v.lazy(() => columnType) }),
    v.strictObject({ struct: v.array(v.lazy(() => column)) }),
  ],
  'expected "string" | "integer" | "double" | "boolean" | "timestamp" | "date" | {list} | {struct}',
);

export const column: v.GenericSchema<Column> = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1, 'a column needs a name')),
  type: columnType,
  nullable: v.optional(v.boolean()),
});

/** A schema: columns with unique names. */
export const schema = v.pipe(
  v.array(column),
  v.check((cols) => new Set(cols.map((c) => c.name)).size === cols.length, 'column names must be unique'),
);
