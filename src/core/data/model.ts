/**
 * What is exported: profiles (identities + nested attributes), datasets (records under a declared
 * schema) and audiences (a rule over profiles, or an uploaded member list). Each type has a valibot
 * schema so the API can validate input and report every problem with its path.
 */
import * as v from 'valibot';
import type { Column, ColumnType, Row, Schema } from '../types.ts';

/** Identity namespaces known out of the box; hosts may configure more. */
export const DEFAULT_NAMESPACES: readonly string[] = ['email', 'phone', 'crmId', 'ecid'];

/** A customer profile. `updatedAt` is an ISO-8601 UTC timestamp set by the store on every write. */
export interface Profile {
  readonly id: string;
  /** Identity values by namespace: `{ email: ['a@x.com'], crmId: ['42'] }`. */
  readonly identities: Readonly<Record<string, readonly string[]>>;
  /** Nested attributes: `{ person: { name: 'Ada' }, loyalty: { tier: 'gold' } }`. */
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly updatedAt: string;
}

/** A named collection of records with a declared schema (used by Parquet and CSV formatting). */
export interface Dataset {
  readonly id: string;
  readonly name: string;
  readonly schema: Schema;
}

/** One record of a dataset; `updatedAt` drives incremental dataset exports. */
export interface DatasetRecord {
  readonly id: string;
  readonly updatedAt: string;
  readonly values: Row;
}

/** A rule-based audience: a segment definition evaluated over profiles. */
export interface RuleAudience {
  readonly id: string;
  readonly name: string;
  readonly kind: 'rule';
  readonly rule: string;
}

/** A custom-upload audience: its members are stored separately (see `UploadMember`). */
export interface UploadAudience {
  readonly id: string;
  readonly name: string;
  readonly kind: 'upload';
}

export type Audience = RuleAudience | UploadAudience;

/** One uploaded member: an identity plus optional attributes from the extra CSV columns. */
export interface UploadMember {
  readonly namespace: string;
  readonly value: string;
  readonly attributes: Readonly<Record<string, string>>;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;

/** Ids used as keys and in object paths: 1–128 of `A-Z a-z 0-9 _ . : @ -`, starting alphanumeric. */
export const idSchema = v.pipe(
  v.string('id: expected a string'),
  v.regex(ID, 'id: 1–128 characters of A-Z a-z 0-9 _ . : @ -, starting with a letter or digit'),
);

const isoTime = (field: string) =>
  v.pipe(
    v.string(`${field}: expected an ISO-8601 timestamp string`),
    v.isoTimestamp(`${field}: expected an ISO-8601 timestamp such as 2026-01-31T12:00:00Z`),
  );

/** A JSON object; lists are refused (valibot's record would turn them into objects). */
const plainObject = (field: string) =>
  v.custom<Record<string, unknown>>(
    (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
    (issue) =>
      `${field}: expected an object, received ${Array.isArray(issue.input) ? 'a list' : issue.received}`,
  );

const name = v.pipe(
  v.string('name: expected a string'),
  v.trim(),
  v.minLength(1, 'name: must not be empty'),
  v.maxLength(256, 'name: at most 256 characters'),
);

export const profileSchema = v.object({
  id: idSchema,
  identities: v.record(
    v.pipe(
      v.string(),
      v.regex(
        /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
        'identities: namespace must be 1–64 of A-Z a-z 0-9 _, starting with a letter',
      ),
    ),
    v.array(
      v.pipe(
        v.string('identities: expected string values'),
        v.minLength(1, 'identities: values must not be empty'),
      ),
      'identities: expected an array of strings per namespace',
    ),
    'identities: expected an object of namespace → string[]',
  ),
  attributes: plainObject('attributes'),
  updatedAt: isoTime('updatedAt'),
});

/** Column types, recursively (lists and structs). */
export const columnTypeSchema: v.GenericSchema<ColumnType> = v.union(
  [
    v.picklist(['string', 'integer', 'double', 'boolean', 'timestamp', 'date']),
    v.strictObject({ list: v.lazy(() => columnTypeSchema) }),
    v.strictObject({ struct: v.array(v.lazy(() => columnSchema)) }),
  ],
  'type: expected string, integer, double, boolean, timestamp, date, {list: type} or {struct: columns}',
);

export const columnSchema: v.GenericSchema<Column> = v.object({
  name: v.pipe(v.string('column name: expected a string'), v.minLength(1, 'column name: must not be empty')),
  type: columnTypeSchema,
  nullable: v.optional(v.boolean('nullable: expected true or false')),
});

export const datasetSchema = v.object({
  id: idSchema,
  name,
  schema: v.pipe(
    v.array(columnSchema, 'schema: expected an array of columns'),
    v.minLength(1, 'schema: declare at least one column'),
    v.check(
      (cols) => new Set(cols.map((c) => c.name)).size === cols.length,
      'schema: column names must be unique',
    ),
  ),
});

export const datasetRecordSchema = v.object({
  id: idSchema,
  updatedAt: isoTime('updatedAt'),
  values: plainObject('values'),
});

export const audienceSchema = v.variant(
  'kind',
  [
    v.object({
      id: idSchema,
      name,
      kind: v.literal('rule'),
      rule: v.pipe(v.string('rule: expected a string'), v.trim(), v.minLength(1, 'rule: must not be empty')),
    }),
    v.object({ id: idSchema, name, kind: v.literal('upload') }),
  ],
  'kind: expected "rule" or "upload"',
);

/** Missing means absent, null, an empty string or an empty list — the one definition used everywhere. */
export function isMissing(value: unknown): boolean {
  return (
    value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
  );
}

/** True when a string holds no lone surrogate, so UTF-8 can carry it as it is. */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed?: () => boolean }).isWellFormed?.() ?? !LONE_SURROGATE.test(s);
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The parts of an instant finer than `Date` holds: milliseconds since the epoch, plus 0–999 µs. */
export interface TimestampParts {
  readonly ms: number;
  readonly micros: number;
  /** Nanoseconds beyond the microsecond (0–999), for callers that refuse what they would drop. */
  readonly nanos: number;
}

/** The fraction of seconds of an ISO 8601 time, where `Date.parse` keeps only three digits. */
const FRACTION = /\d{2}:\d{2}:\d{2}[.,](\d+)/;

/**
 * A timestamp as epoch milliseconds plus the microseconds (and nanoseconds) `Date` would drop: a
 * `Date`, epoch milliseconds (a fractional number keeps its microseconds), or a string `Date.parse`
 * reads, whose fraction digits beyond the third are kept. Null when it is none of these.
 *
 * @example timestampParts('2024-01-02T03:04:05.123456Z') // { ms: 1704164645123, micros: 456, nanos: 0 }
 */
export function timestampParts(value: unknown): TimestampParts | null {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? null : { ms, micros: 0, nanos: 0 };
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const ms = Math.floor(value);
    if (!(Math.abs(ms) <= 8.64e15)) return null;
    return { ms, micros: Math.min(999, Math.round((value - ms) * 1000)), nanos: 0 };
  }
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return null;
  const digits = FRACTION.exec(value)?.[1];
  if (!digits || digits.length <= 3) return { ms, micros: 0, nanos: 0 };
  const sub = digits.slice(3, 9).padEnd(6, '0');
  const nanos = Number(sub.slice(3)) || (/[1-9]/.test(digits.slice(9)) ? 1 : 0);
  return { ms, micros: Number(sub.slice(0, 3)), nanos };
}

/**
 * ISO 8601 in UTC with as many fraction digits as the instant needs: three (as `toISOString`), or
 * six when it has microseconds.
 *
 * @example isoTimestamp({ ms: 0, micros: 5, nanos: 0 }) // '1970-01-01T00:00:00.000005Z'
 */
export function isoTimestamp(t: TimestampParts): string {
  const iso = new Date(t.ms).toISOString();
  return t.micros === 0 ? iso : `${iso.slice(0, -1)}${String(t.micros).padStart(3, '0')}Z`;
}
