/**
 * Mapping: which values of a profile become the columns of an exported row, under which header,
 * in which order and with which type; which fields are mandatory; and the deduplication key.
 *
 * Sources: `id`, `updatedAt`, `identities.<namespace>`, `attributes.<path>` (dots descend into
 * objects, digits index lists), `segmentMembership.status` (`realized`/`exited`),
 * `segmentMembership.qualifiedAt`, and `upload.<column>` (extra columns of a custom upload).
 * Default header: the source without its `attributes.` prefix, `.` → `_`
 * (`attributes.person.name` → `person_name`, `identities.email` → `identities_email`).
 * A field may be calculated: `transforms` (./transforms.ts) apply to its value before it is written,
 * and its column is then text (`string`, or a list of texts).
 */
import * as v from 'valibot';
import type { Column, ColumnType, Schema } from '../types.ts';
import { parse } from '../validate.ts';
import { canonical, hash64 } from './fingerprint.ts';
import { compileTransforms, makesText, REFUSED, type TransformSpec, transformSchema } from './transforms.ts';
import {
  columnTypeSchema,
  isMissing,
  isoTimestamp,
  isWellFormed,
  type Profile,
  timestampParts,
} from './model.ts';

const SOURCE =
  /^(id|updatedAt|segmentMembership\.(status|qualifiedAt)|identities\.[A-Za-z][A-Za-z0-9_]*|attributes(\.[^.\s]+)+|upload\.[^.\s]+)$/;
const SOURCE_HELP =
  'id, updatedAt, identities.<namespace>, attributes.<path>, segmentMembership.status, segmentMembership.qualifiedAt or upload.<column>';

const source = v.pipe(
  v.string('source: expected a string'),
  v.regex(SOURCE, `source: expected one of ${SOURCE_HELP}`),
);
const attributePath = v.pipe(
  v.string('dedup.attributes: expected attribute paths'),
  v.regex(/^attributes(\.[^.\s]+)+$/, 'dedup.attributes: expected a path such as attributes.person.lastName'),
);

export const mappingFieldSchema = v.pipe(
  v.object({
    source,
    target: v.optional(
      v.pipe(v.string('target: expected a string'), v.trim(), v.minLength(1, 'target: must not be empty')),
    ),
    type: v.optional(columnTypeSchema),
    mandatory: v.optional(v.boolean('mandatory: expected true or false')),
    /** Calculated field: functions applied to the value in order (see transforms.ts). */
    transforms: v.optional(v.array(transformSchema, 'transforms: expected a list of functions such as ["trim", "lowercase", "sha256"]')),
  }),
  v.forward(
    v.check(
      (field) => !field.transforms?.length || field.type === undefined || textTypes(field.transforms).includes(shown(field.type)),
      (issue) => {
        const field = issue.input as { transforms: TransformSpec[] };
        return `type: transforms make text; expected ${textTypes(field.transforms).join(' or ')} (or no type)`;
      },
    ),
    ['type'],
  ),
);

/** The column types a transformed field may declare: text, or a list of texts when no step joins. */
function textTypes(transforms: readonly TransformSpec[]): string[] {
  return makesText(transforms) ? ['"string"'] : ['"string"', '{list: "string"}'];
}
const shown = (type: ColumnType) => canonical(type).replace('{"list":"string"}', '{list: "string"}');

export const dedupKeySchema = v.union(
  [
    v.strictObject({
      identity: v.pipe(
        v.string(),
        v.regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'dedup.identity: expected a namespace'),
      ),
    }),
    v.strictObject({
      attributes: v.pipe(
        v.array(attributePath),
        v.minLength(1, 'dedup.attributes: give one or two attributes'),
        v.maxLength(2, 'dedup.attributes: give one or two attributes'),
      ),
    }),
  ],
  'dedup: expected {identity: namespace} or {attributes: [path] | [path, path]}',
);

export const mappingSchema = v.pipe(
  v.object({
    fields: v.pipe(
      v.array(mappingFieldSchema, 'fields: expected an array'),
      v.minLength(1, 'fields: map at least one field'),
    ),
    dedup: v.optional(dedupKeySchema),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const seen = new Map<string, number>();
    dataset.value.fields.forEach((field, index) => {
      const header = headerOf(field);
      const first = seen.get(header);
      if (first !== undefined) {
        addIssue({
          message: `fields[${index}]: header "${header}" is already used by fields[${first}]; set a distinct target`,
          path: [
            {
              type: 'object',
              origin: 'value',
              input: dataset.value,
              key: 'fields',
              value: dataset.value.fields,
            },
          ],
        });
      } else seen.set(header, index);
    });
  }),
);

export type MappingSpec = v.InferInput<typeof mappingSchema>;
export type MappingField = v.InferInput<typeof mappingFieldSchema>;
export type DedupKey = v.InferInput<typeof dedupKeySchema>;

/** What a row is evaluated against besides the profile. */
export interface RowContext {
  readonly status: 'realized' | 'exited';
  readonly qualifiedAt?: string;
  /** Under identity dedup, the one identity value this row stands for. */
  readonly identity?: { readonly namespace: string; readonly value: string };
  /** Extra columns of the matching custom-upload member. */
  readonly upload?: Readonly<Record<string, string>>;
}

export interface CompiledField {
  readonly source: string;
  readonly header: string;
  readonly type: ColumnType;
  readonly mandatory: boolean;
  /** The value in the column's type; null where the type cannot hold it (see INVALID). */
  read(profile: Profile, ctx: RowContext): unknown;
  /** Like `read`, but INVALID where the type cannot hold the value: the row is then refused. */
  readChecked?(profile: Profile, ctx: RowContext): unknown;
}

/** One dedup/membership key of a profile with the parts it is made of. */
export interface MemberKey {
  readonly key: string;
  readonly parts: readonly string[];
  readonly identity?: { readonly namespace: string; readonly value: string };
}

export interface CompiledMapping {
  /** Changes whenever anything affecting rows changes; stored with incremental state. */
  readonly id: string;
  readonly schema: Schema;
  readonly fields: readonly CompiledField[];
  readonly dedup?: DedupKey;
  /** Sources whose values form a member key, in key-part order. */
  readonly keySources: readonly string[];
}

export interface CompileOptions {
  /** Schema of profile attributes: gives `attributes.*` columns their types. */
  readonly attributeSchema?: Schema;
}

/** The header a field gets: its target or its source, `attributes.` dropped, `.` → `_`. */
export function headerOf(field: { source: string; target?: string | undefined }): string {
  const name = field.target ?? field.source.replace(/^attributes\./, '');
  return name.replaceAll('.', '_');
}

/** Validates a mapping spec (every problem at once) and compiles it for fast row building. */
export function compileMapping(spec: unknown, options: CompileOptions = {}): CompiledMapping {
  const parsed = parse(mappingSchema, spec, 'mapping');
  const fields = parsed.fields.map((f): CompiledField => {
    const field = { source: f.source, header: headerOf(f), mandatory: f.mandatory ?? false };
    if (f.transforms?.length) {
      const type = f.type ?? 'string';
      return { ...field, type, ...transformedReaders(f.source, type, compileTransforms(f.transforms)) };
    }
    const type = f.type ?? typeFromSchema(f.source, options.attributeSchema) ?? defaultType(f.source);
    return { ...field, type, read: reader(f.source, type, coerce), readChecked: reader(f.source, type, coerceValue) };
  });
  const schema = fields.map(
    (f): Column => ({
      name: f.header,
      type: f.type,
      nullable: !(f.mandatory || f.source === 'id' || f.source === 'segmentMembership.status'),
    }),
  );
  const keySources = !parsed.dedup
    ? ['id']
    : 'identity' in parsed.dedup
      ? [`identities.${parsed.dedup.identity}`]
      : parsed.dedup.attributes;
  const id = hash64(canonical({ fields: parsed.fields, dedup: parsed.dedup ?? null }));
  return { id, schema, fields, keySources, ...(parsed.dedup && { dedup: parsed.dedup }) };
}

/**
 * The member keys of a profile: its id without dedup; one key per distinct identity value under an
 * identity key; one composite key under attribute keys. A string result is a skip reason.
 */
export function memberKeys(mapping: CompiledMapping, profile: Profile): MemberKey[] | string {
  const dedup = mapping.dedup;
  if (!dedup) return [{ key: JSON.stringify([profile.id]), parts: [profile.id] }];
  if ('identity' in dedup) {
    const list = profile.identities[dedup.identity] ?? [];
    // Most profiles hold one value of an identity: no set to build.
    let values: readonly string[] = list.length === 1 ? list : [...new Set(list)];
    if (values.includes('')) values = values.filter((x) => x !== '');
    if (values.length === 0) return `missing:identities.${dedup.identity}`;
    return values.map((value) => ({
      key: JSON.stringify([value]),
      parts: [value],
      identity: { namespace: dedup.identity, value },
    }));
  }
  const parts: string[] = [];
  for (const path of dedup.attributes) {
    const value = getPath(profile.attributes, path.slice('attributes.'.length));
    if (isMissing(value)) return `missing:${path}`;
    parts.push(typeof value === 'string' ? value : canonical(value));
  }
  return [{ key: JSON.stringify(parts), parts }];
}

/**
 * Builds a row's cells in column order, or a skip reason: `missing:<source>` when a mandatory field
 * is missing, `invalid:<source>` when its column type cannot hold a value exactly (see INVALID).
 */
export function mapValues(mapping: CompiledMapping, profile: Profile, ctx: RowContext): unknown[] | string {
  const cells: unknown[] = [];
  for (const field of mapping.fields) {
    const value = (field.readChecked ?? field.read)(profile, ctx);
    if (value === INVALID) return `invalid:${field.source}`;
    if (field.mandatory && isMissing(value)) return `missing:${field.source}`;
    cells.push(value);
  }
  return cells;
}

/** Turns cells into a header-keyed row (insertion order = column order). */
export function toRow(mapping: CompiledMapping, cells: readonly unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  mapping.fields.forEach((f, i) => {
    row[f.header] = cells[i] ?? null;
  });
  return row;
}

/** Reads a dotted path through objects (and lists, by index). */
export function getPath(root: unknown, path: string): unknown {
  let node = root;
  for (const segment of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

function reader(
  source: string,
  type: ColumnType,
  convert: (value: unknown, type: ColumnType) => unknown,
): CompiledField['read'] {
  const dot = source.indexOf('.');
  const head = dot < 0 ? source : source.slice(0, dot);
  const rest = source.slice(dot + 1);
  const cast = (value: unknown) => convert(value, type);
  switch (head) {
    case 'id':
      return (p) => p.id;
    case 'updatedAt':
      return (p) => cast(p.updatedAt);
    case 'identities': {
      const all = typeof type === 'object' && 'list' in type;
      return (p, ctx) => {
        if (ctx.identity?.namespace === rest) return all ? [ctx.identity.value] : ctx.identity.value;
        const values = p.identities[rest];
        return all ? (values ?? null) : (values?.[0] ?? null);
      };
    }
    case 'segmentMembership':
      return rest === 'status' ? (_p, ctx) => ctx.status : (_p, ctx) => cast(ctx.qualifiedAt);
    case 'upload':
      return (_p, ctx) => cast(ctx.upload?.[rest]);
    default:
      return (p) => cast(getPath(p.attributes, rest));
  }
}

/** Readers of a calculated field: the source's value as stored, through the chain, then to the column type. */
function transformedReaders(source: string, type: ColumnType, chain: (value: unknown) => unknown): Pick<CompiledField, 'read' | 'readChecked'> {
  const raw = reader(source, type, (value) => value);
  return {
    read: (p, ctx) => {
      const out = chain(raw(p, ctx));
      return out === REFUSED ? null : coerce(out, type);
    },
    readChecked: (p, ctx) => {
      const out = chain(raw(p, ctx));
      return out === REFUSED ? INVALID : coerceValue(out, type);
    },
  };
}

/**
 * Marks a value its column type cannot hold exactly, so its row is refused (`invalid:<source>`)
 * rather than written changed: an integer outside 64 bits or a JS number past ±2^53 (already
 * rounded, it cannot be known exact), a string with a lone surrogate (UTF-8 cannot hold it), a
 * timestamp finer than a microsecond, or a list or struct holding such a value.
 */
export const INVALID: unique symbol = Symbol('invalid value');

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NON_FINITE: Record<string, number> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  infinity: Number.POSITIVE_INFINITY,
};

/**
 * Converts a value to its column type, or INVALID when the type cannot hold it exactly (see INVALID).
 * A value of another kind (text in a number column, a scalar in a list column) becomes null.
 * Integers: a number when safe, else a bigint. Doubles keep -0, NaN and ±Infinity ("NaN", "Infinity",
 * "-inf" … in text too). Timestamps: a Date, or an ISO string with six fraction digits when the
 * value has microseconds. Lists and structs are converted element by element, field by field.
 */
export function coerceValue(value: unknown, type: ColumnType): unknown {
  if (value === undefined || value === null) return null;
  if (typeof type === 'object') {
    if ('list' in type) {
      if (!Array.isArray(value)) return null;
      const out = value.map((item) => coerceValue(item, type.list));
      return out.includes(INVALID) ? INVALID : out;
    }
    if (typeof value !== 'object' || Array.isArray(value) || value instanceof Date) return null;
    const out: Record<string, unknown> = {};
    for (const field of type.struct) {
      const item = coerceValue((value as Record<string, unknown>)[field.name], field.type);
      if (item === INVALID) return INVALID;
      out[field.name] = item;
    }
    return out;
  }
  switch (type) {
    case 'string': {
      const text =
        typeof value === 'string' ? value : typeof value === 'object' ? canonical(value) : String(value);
      return isWellFormed(text) ? text : INVALID;
    }
    case 'timestamp': {
      const t = timestampParts(value);
      if (!t) return null;
      if (t.nanos !== 0) return INVALID;
      return t.micros === 0 ? (value instanceof Date ? value : new Date(t.ms)) : isoTimestamp(t);
    }
    case 'date': {
      if (value instanceof Date) return value;
      const date = typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
      return date && !Number.isNaN(date.getTime()) ? date : null;
    }
    case 'integer':
      return toInteger(value);
    case 'double': {
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      if (typeof value !== 'string' || value.trim() === '') return null;
      const text = value.trim();
      const n = Number(text);
      if (!Number.isNaN(n)) return n;
      const special = NON_FINITE[text.replace(/^[+-]/, '').toLowerCase()];
      return special === undefined ? null : text.startsWith('-') ? -special : special;
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : null;
  }
}

/** A safe integer as a number, a larger 64-bit one as a bigint, INVALID past 64 bits or past ±2^53 as a number. */
function toInteger(value: unknown): unknown {
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number') {
    if (!Number.isInteger(value)) return null;
    return Number.isSafeInteger(value) ? value + 0 : INVALID;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^[+-]?\d+$/.test(text)) big = BigInt(text);
    else {
      const n = text === '' ? Number.NaN : Number(text);
      if (!Number.isInteger(n)) return null;
      return Number.isSafeInteger(n) ? n + 0 : INVALID;
    }
  } else return null;
  if (big < INT64_MIN || big > INT64_MAX) return INVALID;
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

/** `coerceValue`, with null where the type cannot hold the value (rows written without checks). */
export function coerce(value: unknown, type: ColumnType): unknown {
  const out = coerceValue(value, type);
  return out === INVALID ? null : out;
}

function defaultType(source: string): ColumnType {
  if (source === 'updatedAt' || source === 'segmentMembership.qualifiedAt') return 'timestamp';
  return 'string';
}

function typeFromSchema(source: string, schema: Schema | undefined): ColumnType | undefined {
  if (!schema || !source.startsWith('attributes.')) return undefined;
  let columns: readonly Column[] | undefined = schema;
  let type: ColumnType | undefined;
  for (const segment of source.slice('attributes.'.length).split('.')) {
    const column: Column | undefined = columns?.find((c) => c.name === segment);
    if (!column) return undefined;
    type = column.type;
    columns = typeof type === 'object' && 'struct' in type ? type.struct : undefined;
  }
  return type;
}
