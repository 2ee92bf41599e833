/**
 * A Parquet file's schema as our `Schema`, and the value normalisation that goes with it: INT64
 * values become numbers when they are safe integers (bigint otherwise), so JSON and CSV can write them.
 */
import type { SchemaTree } from 'hyparquet';
import { ExportError } from '../../../core/errors.ts';
import type { Column, ColumnType, Schema } from '../../../core/types.ts';

const PLUGIN = 'source/parquet';

/** Maps the children of the root of a Parquet schema tree to our columns. */
export function fromParquetSchema(root: SchemaTree): Schema {
  return root.children.map(toColumn);
}

function toColumn(node: SchemaTree): Column {
  return {
    name: node.element.name,
    type: typeOf(node),
    nullable: node.element.repetition_type !== 'REQUIRED',
  };
}

function typeOf(node: SchemaTree): ColumnType {
  const { element } = node;
  if (element.repetition_type === 'REPEATED') {
    // A bare repeated field (legacy two-level list) reads as a list of its element.
    return { list: elementType({ ...node, element: { ...element, repetition_type: 'REQUIRED' } }) };
  }
  return elementType(node);
}

function elementType(node: SchemaTree): ColumnType {
  const { element, children } = node;
  if (element.converted_type === 'MAP' || element.logical_type?.type === 'MAP') unsupported(node, 'MAP');
  if (element.converted_type === 'LIST' || element.logical_type?.type === 'LIST') {
    const repeated = children[0];
    if (!repeated) unsupported(node, 'LIST without element');
    // Three-level list: repeated group with one child is the wrapper; otherwise it is the element.
    const item =
      repeated.children.length === 1 && repeated.element.num_children ? repeated.children[0]! : repeated;
    return { list: item === repeated ? elementType(repeated) : typeOf(item) };
  }
  if (children.length > 0) return { struct: children.map(toColumn) };
  return primitiveType(node);
}

function primitiveType(node: SchemaTree): ColumnType {
  const { type, converted_type: converted, logical_type: logical } = node.element;
  if (converted === 'DATE' || logical?.type === 'DATE') return 'date';
  if (
    converted === 'TIMESTAMP_MILLIS' ||
    converted === 'TIMESTAMP_MICROS' ||
    logical?.type === 'TIMESTAMP' ||
    type === 'INT96'
  ) {
    return 'timestamp';
  }
  if (converted === 'DECIMAL' || logical?.type === 'DECIMAL') return 'double';
  switch (type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
    case 'INT64':
      return 'integer';
    case 'FLOAT':
    case 'DOUBLE':
      return 'double';
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY':
      return 'string';
    default:
      return unsupported(node, String(type));
  }
}

function unsupported(node: SchemaTree, what: string): never {
  throw new ExportError(
    'SOURCE_INVALID',
    `Parquet column "${node.element.name}" has type ${what}, which edge-export does not read`,
    { plugin: PLUGIN, stage: 'source', details: { column: node.element.name } },
  );
}

/**
 * Normalises one value of `type`: missing values (hyparquet gives `undefined` for some nested
 * nulls) become null, and integers become numbers when they are safe.
 */
export function normalizerFor(type: ColumnType): (value: unknown) => unknown {
  if (type === 'integer') return safeInteger;
  if (typeof type === 'string') return orNull;
  if ('list' in type) {
    const inner = normalizerFor(type.list);
    return (value) => (Array.isArray(value) ? value.map(inner) : orNull(value));
  }
  const fields = type.struct.map((f) => [f.name, normalizerFor(f.type)] as const);
  return (value) => {
    if (value === null || typeof value !== 'object') return orNull(value);
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [name, normalize] of fields) out[name] = normalize(source[name]);
    return out;
  };
}

function orNull(value: unknown): unknown {
  return value === undefined ? null : value;
}

function safeInteger(value: unknown): unknown {
  if (typeof value !== 'bigint') return orNull(value);
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}
