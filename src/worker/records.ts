/**
 * Turning ingested records into profiles and dataset records: CSV rows by header convention, every
 * value checked against the model's schemas (and a dataset's own column types), every problem named
 * with its line and path.
 */
import * as v from 'valibot';
import { quote } from '../core/validate.ts';
import { datasetRecordSchema, idSchema, profileSchema } from '../core/data/model.ts';
import type { ColumnType, Schema } from '../core/types.ts';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../core/json-depth.ts';
import { type Check, type LineError, schemaCheck } from './ingest.ts';

const TOO_DEEP = `nested deeper than ${MAX_JSON_DEPTH} levels of objects and lists`;

/** A profile as ingested: `updatedAt` defaults to the time of the write. */
export const profileInputSchema = v.object({
  ...profileSchema.entries,
  identities: v.optional(profileSchema.entries.identities, {}),
  attributes: v.optional(profileSchema.entries.attributes, {}),
  updatedAt: v.optional(profileSchema.entries.updatedAt),
});
export type ProfileInput = v.InferOutput<typeof profileInputSchema>;

const checkProfile = schemaCheck(profileInputSchema);
const ATTRIBUTE_TYPES = ['string', 'number', 'boolean', 'json'] as const;

/**
 * Profiles from NDJSON objects, or from CSV rows with columns `id`, `updatedAt`, `identities.<namespace>`
 * (several values separated by `|`) and `attributes.<path>[:string|number|boolean|json]`; an empty
 * cell leaves the field out.
 */
export function profileCheck(kind: 'ndjson' | 'csv'): Check<ProfileInput> {
  if (kind === 'ndjson') return checkProfile;
  return (raw, line) => {
    const row = raw as Record<string, string>;
    const profile: {
      id?: string;
      updatedAt?: string;
      identities: Record<string, string[]>;
      attributes: object;
    } = { identities: {}, attributes: {} };
    const errors: LineError[] = [];
    for (const [column, cell] of Object.entries(row)) {
      if (cell === '') continue;
      if (column === 'id' || column === 'updatedAt') profile[column] = cell;
      else if (column.startsWith('identities.'))
        profile.identities[column.slice(11)] = cell
          .split('|')
          .map((s) => s.trim())
          .filter(Boolean);
      else if (column.startsWith('attributes.')) {
        const [path, type = 'string'] = column.slice(11).split(':') as [string, string?];
        const value = attributeValue(cell, type);
        if (value instanceof Error)
          errors.push({ line, path: column, message: `${column}: ${value.message}` });
        else setPath(profile.attributes as Record<string, unknown>, path, value);
      } else
        errors.push({
          line,
          path: column,
          message: `${column}: unknown column; expected id, updatedAt, identities.<namespace> or attributes.<path>[:type]`,
        });
    }
    if (errors.length > 0) return errors;
    return checkProfile(profile, line);
  };
}

function attributeValue(cell: string, type: string): unknown {
  switch (type) {
    case 'string':
      return cell;
    case 'number': {
      const n = Number(cell);
      return cell.trim() !== '' && Number.isFinite(n)
        ? n
        : new Error(`expected a number, received ${quote(cell)}`);
    }
    case 'boolean':
      return cell === 'true'
        ? true
        : cell === 'false'
          ? false
          : new Error(`expected true or false, received ${quote(cell)}`);
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(cell);
      } catch {
        return new Error(`expected JSON, received ${quote(cell)}`);
      }
      return jsonDepthExceeds(value) ? new Error(TOO_DEEP) : value;
    }
    default:
      return new Error(`unknown type "${type}"; expected ${ATTRIBUTE_TYPES.join(', ')}`);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

export interface RecordInput {
  readonly id: string;
  readonly updatedAt: string;
  readonly values: Record<string, unknown>;
}

const checkRecord = schemaCheck(datasetRecordSchema);
const recordCsvHead = v.object({ id: idSchema, updatedAt: datasetRecordSchema.entries.updatedAt });

/**
 * Dataset records from NDJSON `{id, updatedAt, values}` or CSV rows `id,updatedAt,<column>…` (cells
 * converted by the column's type; empty = null); values must fit the dataset's schema.
 */
export function recordCheck(kind: 'ndjson' | 'csv', schema: Schema): Check<RecordInput> {
  const columns = new Map(schema.map((c) => [c.name, c]));
  return (raw, line) => {
    let record: RecordInput | LineError[];
    if (kind === 'ndjson') record = checkRecord(raw, line);
    else {
      const { id, updatedAt, ...cells } = raw as Record<string, string>;
      const head = schemaCheck(recordCsvHead)({ id, updatedAt }, line);
      if (Array.isArray(head)) return head;
      const values: Record<string, unknown> = {};
      const deep: LineError[] = [];
      for (const [name, cell] of Object.entries(cells)) {
        const column = columns.get(name);
        values[name] = column && cell !== '' ? fromCell(cell, column.type) : cell === '' ? null : cell;
        if (jsonDepthExceeds(values[name])) deep.push({ line, path: `values.${name}`, message: `values.${name}: ${TOO_DEEP}` });
      }
      if (deep.length > 0) return deep;
      record = { ...head, values };
    }
    if (Array.isArray(record)) return record;
    const errors = valueErrors(record.values, schema, line);
    return errors.length > 0 ? errors : record;
  };
}

function fromCell(cell: string, type: ColumnType): unknown {
  if (type === 'integer' || type === 'double') return cell.trim() === '' ? cell : Number(cell);
  if (type === 'boolean') return cell === 'true' ? true : cell === 'false' ? false : cell;
  if (typeof type === 'object') {
    try {
      return JSON.parse(cell);
    } catch {
      return cell;
    }
  }
  return cell;
}

/** Every value that does not fit its column, and every field the schema does not declare. */
export function valueErrors(values: Record<string, unknown>, schema: Schema, line: number): LineError[] {
  const errors: LineError[] = [];
  const declared = new Set(schema.map((c) => c.name));
  for (const name of Object.keys(values))
    if (!declared.has(name))
      errors.push({ line, path: `values.${name}`, message: `values.${name}: not a column of the dataset` });
  for (const column of schema) {
    const value = values[column.name];
    const path = `values.${column.name}`;
    if (value === undefined || value === null) {
      if (column.nullable === false) errors.push({ line, path, message: `${path}: required (not nullable)` });
      continue;
    }
    const problem = typeProblem(value, column.type);
    if (problem)
      errors.push({ line, path, message: `${path}: ${problem}, received ${quote(value)}` });
  }
  return errors;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function typeProblem(value: unknown, type: ColumnType): string | undefined {
  if (type === 'string') return typeof value === 'string' ? undefined : 'expected a string';
  if (type === 'integer') return Number.isSafeInteger(value) ? undefined : 'expected an integer';
  if (type === 'double')
    return typeof value === 'number' && Number.isFinite(value) ? undefined : 'expected a number';
  if (type === 'boolean') return typeof value === 'boolean' ? undefined : 'expected true or false';
  if (type === 'date')
    return typeof value === 'string' && ISO_DATE.test(value) ? undefined : 'expected a date YYYY-MM-DD';
  if (type === 'timestamp')
    return typeof value === 'string' && !Number.isNaN(Date.parse(value)) && value.includes('T')
      ? undefined
      : 'expected an ISO-8601 timestamp';
  if ('list' in type) {
    if (!Array.isArray(value)) return 'expected a list';
    const bad = value.find((item) => item !== null && typeProblem(item, type.list));
    return bad === undefined ? undefined : `list item: ${typeProblem(bad, type.list)}`;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return 'expected an object';
  for (const field of type.struct) {
    const inner = (value as Record<string, unknown>)[field.name];
    if (inner === undefined || inner === null) continue;
    const problem = typeProblem(inner, field.type);
    if (problem) return `${field.name}: ${problem}`;
  }
  return undefined;
}
