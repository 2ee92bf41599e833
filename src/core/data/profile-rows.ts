/**
 * Profiles from source rows, so a profile file (NDJSON, CSV, Parquet read by a source stage) can
 * feed an audience export. A row already shaped like a Profile (`id`, `identities`, `attributes`
 * objects) is validated as is; a flat row is read as: `id` column, `updatedAt` column, identity
 * columns `identities.<namespace>` (a list, or one value; `|` separates several in text), and every
 * other column an attribute whose dotted name nests (`person.name` → `{person: {name}}`).
 */
import * as v from 'valibot';
import { ExportError } from '../errors.ts';
import type { Row, RowBatch, RunContext, SourceInput, SourceStage } from '../types.ts';
import { toConfigIssues } from '../validate.ts';
import { type Profile, profileSchema } from './model.ts';

export interface ProfileRowOptions {
  /** Column holding the profile id; default `id`. */
  readonly idColumn?: string;
  /** Column holding the last-change time; default `updatedAt`. Missing → `defaultUpdatedAt`. */
  readonly updatedAtColumn?: string;
  /** Used when a row has no update time (ISO); default the Unix epoch. */
  readonly defaultUpdatedAt?: string;
}

/** Converts one source row to a validated Profile, or throws SOURCE_INVALID naming the row. */
export function rowToProfile(row: Row, index: number, options: ProfileRowOptions = {}): Profile {
  const candidate = isProfileShaped(row) ? row : flatProfile(row, options);
  const result = v.safeParse(profileSchema, candidate);
  if (result.success) return result.output;
  const issues = toConfigIssues(result.issues, '', profileSchema);
  const list = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
  throw new ExportError('SOURCE_INVALID', `Profile row ${index + 1} is invalid: ${list}`, {
    stage: 'source',
    details: { row: index + 1, issues },
  });
}

/** Batches of Profiles from batches of source rows (one stream operation per batch, not per row). */
export function profilesFromRows(options: ProfileRowOptions = {}): TransformStream<RowBatch, readonly Profile[]> {
  let index = 0;
  return new TransformStream<RowBatch, readonly Profile[]>({
    transform(batch, controller) {
      if (batch.length > 0) controller.enqueue(batch.map((row) => rowToProfile(row, index++, options)));
    },
  });
}

function isProfileShaped(row: Row): boolean {
  return typeof row.identities === 'object' && typeof row.attributes === 'object';
}

function flatProfile(row: Row, options: ProfileRowOptions): Record<string, unknown> {
  const idColumn = options.idColumn ?? 'id';
  const updatedColumn = options.updatedAtColumn ?? 'updatedAt';
  const identities: Record<string, string[]> = {};
  const attributes: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (column === idColumn || column === updatedColumn) continue;
    if (column.startsWith('identities.')) {
      const values = identityValues(value);
      if (values.length > 0) identities[column.slice('identities.'.length)] = values;
    } else if (value !== null && value !== undefined) setPath(attributes, column, value);
  }
  const updated = row[updatedColumn];
  return {
    id: typeof row[idColumn] === 'number' ? String(row[idColumn]) : row[idColumn],
    identities,
    attributes,
    updatedAt:
      updated instanceof Date
        ? updated.toISOString()
        : (updated ?? options.defaultUpdatedAt ?? '1970-01-01T00:00:00Z'),
  };
}

function identityValues(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((x) => x !== null && x !== '').map(String);
  if (value === null || value === undefined || value === '') return [];
  return String(value)
    .split('|')
    .map((s) => s.trim())
    .filter(Boolean);
}

function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let node = root;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[segments[segments.length - 1]!] = value;
}

/**
 * A re-openable profile stream over a source stage (each call re-reads the input), as audience
 * export plans need one pass per call. Profiles come in the source's batches.
 *
 * @example profiles: profileFile(ndjsonSource(), ctx, () => new Blob([text]))
 */
export function profileFile(
  source: SourceStage,
  ctx: RunContext,
  input: () => SourceInput,
  options: ProfileRowOptions = {},
): () => ReadableStream<readonly Profile[]> {
  return () => {
    const { readable, writable } = profilesFromRows(options);
    source.open(ctx, input()).then(
      ({ rows }) => rows.pipeTo(writable).catch(() => undefined),
      (error: unknown) => writable.abort(error),
    );
    return readable;
  };
}
