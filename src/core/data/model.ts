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

/** Zone names under which local time is UTC at every instant. */
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'Etc/Universal', 'Etc/Zulu', 'UCT', 'Universal', 'Zulu']);

/**
 * True when the runtime's local time is UTC (always so in Workers; in Node and Deno unless TZ says
 * otherwise). `Date.parse` reads a date-time without an offset as local time, so only then may
 * `readTimestampText` read one itself. A process may change TZ: ask when a formatter opens.
 */
export function localTimeIsUtc(): boolean {
  let zone: string | undefined;
  try {
    zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return false;
  }
  return (
    zone !== undefined &&
    UTC_ZONES.has(zone) &&
    new Date(2026, 0, 1).getTimezoneOffset() === 0 &&
    new Date(2026, 6, 1).getTimezoneOffset() === 0
  );
}

/** A mutable `TimestampParts` that `readTimestampText` fills. */
export interface TimestampScratch {
  ms: number;
  micros: number;
  nanos: number;
}

/** Two ASCII digits at `i` as a number, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** The last day `readTimestampText` read and its epoch milliseconds. */
const dayCache = { y: -1, mo: -1, d: -1, ms: 0 };

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The fast path of `timestampParts` for the common shapes of timestamp text: `YYYY-MM-DD`, and
 * `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS` with an optional fraction of 1–9 digits and an
 * optional `Z` or `±HH:MM` (without one only when `localUtc`: `Date.parse` reads local time), for
 * years 1000–9999 and real calendar dates and times. Fills `out` exactly as `timestampParts` would
 * and returns true; returns false (out untouched) for anything else, which the caller then hands to
 * `timestampParts` — `2026-02-30` (which `Date.parse` rolls over to March), hour 24, years below
 * 1000 (`0050-01-01 00:00:00` is 1950 to `Date.parse`) and any other text.
 *
 * @example readTimestampText('2026-01-01 00:00:00.5Z', false, t) // true, t.ms = 1767225600500
 */
export function readTimestampText(s: string, localUtc: boolean, out: TimestampScratch): boolean {
  const n = s.length;
  if (n !== 10 && n < 19) return false;
  const hi = two(s, 0);
  const lo = two(s, 2);
  const mo = two(s, 5);
  const d = two(s, 8);
  if (hi < 10 || lo < 0 || mo < 1 || mo > 12 || d < 1 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45)
    return false;
  const y = hi * 100 + lo;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > MONTH_DAYS[mo - 1]! + (leap ? 1 : 0)) return false;
  // Rows in time order share their day: Date.UTC once per day.
  if (y !== dayCache.y || mo !== dayCache.mo || d !== dayCache.d) {
    dayCache.ms = Date.UTC(y, mo - 1, d);
    dayCache.y = y;
    dayCache.mo = mo;
    dayCache.d = d;
  }
  if (n === 10) {
    // A date alone is UTC to Date.parse.
    out.ms = dayCache.ms;
    out.micros = 0;
    out.nanos = 0;
    return true;
  }
  const sep = s.charCodeAt(10);
  const h = two(s, 11);
  const mi = two(s, 14);
  const sec = two(s, 17);
  if (
    (sep !== 32 && sep !== 84) ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    sec < 0 ||
    sec > 59 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  )
    return false;
  let i = 19;
  let ms = 0;
  let micros = 0;
  let nanos = 0;
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    const start = i;
    while (i < n && i - start < 10) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      const k = i - start;
      if (k < 3) ms += c * (k === 0 ? 100 : k === 1 ? 10 : 1);
      else if (k < 6) micros += c * (k === 3 ? 100 : k === 4 ? 10 : 1);
      else nanos += c * (k === 6 ? 100 : k === 7 ? 10 : 1);
      i++;
    }
    const count = i - start;
    if (count === 0 || count > 9) return false;
  }
  let offset = 0;
  if (i === n) {
    if (!localUtc) return false;
  } else if (i === n - 1 && s.charCodeAt(i) === 90) {
    // Z
  } else if (i === n - 6 && s.charCodeAt(i + 3) === 58) {
    const sign = s.charCodeAt(i);
    const oh = two(s, i + 1);
    const om = two(s, i + 4);
    if ((sign !== 43 && sign !== 45) || oh < 0 || oh > 23 || om < 0 || om > 59) return false;
    offset = (sign === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
  } else return false;
  out.ms = dayCache.ms + ((h * 60 + mi) * 60 + sec) * 1000 + ms - offset;
  out.micros = micros;
  out.nanos = nanos;
  return true;
}

/**
 * `timestampParts` for a formatter's values, with `readTimestampText` first for strings; the local
 * zone is looked at once, when the reader is made.
 */
export function timestampReader(): (value: unknown) => TimestampParts | null {
  const localUtc = localTimeIsUtc();
  return (value) => {
    if (typeof value === 'string') {
      const t: TimestampScratch = { ms: 0, micros: 0, nanos: 0 };
      if (readTimestampText(value, localUtc, t)) return t;
    }
    return timestampParts(value);
  };
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
