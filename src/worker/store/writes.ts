/**
 * The write side of the data store in D1: profile and dataset-record upserts in batched statements,
 * datasets, and the staged writer of upload audiences (members are written under a fresh upload id and
 * become visible only when `audience_uploads` points at it, in one batch with the old rows' removal).
 */
import { emptyNames, learnNames, type ProfileNames } from '../../core/data/attributes.ts';
import type { UploadMember } from '../../core/data/model.ts';
import type { UploadWriter } from '../../core/data/store.ts';
import type { Schema } from '../../core/types.ts';
import type { D1Database, D1PreparedStatement } from '../env.ts';
import type { ProfileInput, RecordInput } from '../records.ts';
import { utf8Bound } from '../../service/subjects.ts';
import { ApiError } from '../errors.ts';
import { all, first, newId, run } from './db.ts';

/** Statements per D1 batch: one round trip each, well below D1's limits. */
const STATEMENTS_PER_BATCH = 100;

async function batched(db: D1Database, statements: D1PreparedStatement[]): Promise<void> {
  for (let i = 0; i < statements.length; i += STATEMENTS_PER_BATCH)
    await db.batch(statements.slice(i, i + STATEMENTS_PER_BATCH));
}

/**
 * Rows as JSON arrays in chunks of at most 90% of D1's value limit (the bound is computed, not
 * guessed): one bound value per chunk, which a statement expands with `json_each` — a few
 * statements for a batch of 10,000 profiles instead of one per profile (D1 takes at most 100 bound
 * values a statement).
 */
function jsonChunks<T>(items: readonly T[], row: (item: T) => unknown[], valueBytes: number): string[] {
  const max = Math.floor(valueBytes * 0.9);
  const chunks: string[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const item of items) {
    const text = JSON.stringify(row(item));
    const size = utf8Bound(text) + 1;
    if (size + 2 > max) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `A record of ${size} bytes is over D1's ${valueBytes}-byte value limit`);
    if (parts.length > 0 && bytes + size > max) {
      chunks.push(`[${parts.join(',')}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(text);
    bytes += size;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(',')}]`);
  return chunks;
}

/** Inserts or replaces profiles; a profile without `updatedAt` is stamped with `now`. */
export async function upsertProfiles(
  db: D1Database,
  orgId: string,
  profiles: readonly ProfileInput[],
  now: Date,
  valueBytes = 2_000_000,
): Promise<void> {
  // Each element [id, {identities, attributes}, updatedAt]: `->` keeps the object as JSON text.
  const sql = `INSERT INTO profiles (org_id, id, json, updated_at)
    SELECT ?, value ->> 0, value -> 1, value ->> 2 FROM json_each(?) WHERE true
    ON CONFLICT (org_id, id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at`;
  const at = now.toISOString();
  const chunks = jsonChunks(profiles, (p) => [
    p.id,
    { identities: p.identities, attributes: p.attributes },
    p.updatedAt ? new Date(p.updatedAt).toISOString() : at,
  ], valueBytes);
  await batched(db, [
    ...chunks.map((chunk) => db.prepare(sql).bind(orgId, chunk)),
    ...profileNameStatements(db, orgId, profiles, valueBytes),
  ]);
}

/**
 * Records the attribute and identity names these profiles have (profile_names), for warnings on rules
 * and mappings: what a sharded organization's ingest keeps in D1 while its profiles go to its shards.
 */
export async function upsertProfileNames(
  db: D1Database,
  orgId: string,
  profiles: readonly ProfileInput[],
  valueBytes = 2_000_000,
): Promise<void> {
  await batched(db, profileNameStatements(db, orgId, profiles, valueBytes));
}

/** The names of these profiles, as a few statements (one per chunk), not one per profile. */
function profileNameStatements(
  db: D1Database,
  orgId: string,
  profiles: readonly ProfileInput[],
  valueBytes: number,
): D1PreparedStatement[] {
  const names = emptyNames();
  for (const p of profiles) learnNames(names, p);
  const named = [
    ...[...names.attributes].map((n) => ['attribute', n]),
    ...[...names.identities].map((n) => ['identity', n]),
  ];
  const nameSql = `INSERT OR IGNORE INTO profile_names (org_id, kind, name)
    SELECT ?, value ->> 0, value ->> 1 FROM json_each(?)`;
  return jsonChunks(named, (n) => n, valueBytes).map((chunk) => db.prepare(nameSql).bind(orgId, chunk));
}

/** The names the organization's profiles have or had (none: no profile was ingested). */
export async function profileNames(db: D1Database, orgId: string): Promise<ProfileNames> {
  const names = emptyNames();
  for (const row of await all<{ kind: string; name: string }>(db, 'SELECT kind, name FROM profile_names WHERE org_id = ?', orgId))
    (row.kind === 'identity' ? names.identities : names.attributes).add(row.name);
  return names;
}

export interface DatasetRow {
  id: string;
  name: string;
  schema: string;
  /** A dataset reading a snapshot source (migrations/0013); null: its records in D1. */
  source_id: string | null;
  created_at: string;
}

/** Creates a dataset; returns false when the organization already has one with this id. */
export async function insertDataset(
  db: D1Database,
  orgId: string,
  input: { id: string; name: string; schema: Schema; sourceId?: string | undefined },
  now: Date,
): Promise<boolean> {
  const sql = 'INSERT OR IGNORE INTO datasets (org_id, id, name, schema, source_id, created_at) VALUES (?, ?, ?, ?, ?, ?)';
  const values = [orgId, input.id, input.name, JSON.stringify(input.schema), input.sourceId ?? null, now.toISOString()];
  return (await run(db, sql, ...values)) === 1;
}

export function getDatasetRow(db: D1Database, orgId: string, id: string): Promise<DatasetRow | undefined> {
  return first<DatasetRow>(
    db,
    'SELECT id, name, schema, source_id, created_at FROM datasets WHERE org_id = ? AND id = ?',
    orgId,
    id,
  );
}

export function listDatasetRows(db: D1Database, orgId: string): Promise<DatasetRow[]> {
  return all<DatasetRow>(
    db,
    'SELECT id, name, schema, source_id, created_at FROM datasets WHERE org_id = ? ORDER BY created_at DESC, id LIMIT 1000',
    orgId,
  );
}

/** Inserts or replaces dataset records (their `updatedAt` drives incremental exports). */
export async function upsertRecords(
  db: D1Database,
  orgId: string,
  datasetId: string,
  records: readonly RecordInput[],
  valueBytes = 2_000_000,
): Promise<void> {
  const sql = `INSERT INTO dataset_records (org_id, dataset_id, id, json, updated_at)
    SELECT ?, ?, value ->> 0, value -> 1, value ->> 2 FROM json_each(?) WHERE true
    ON CONFLICT (org_id, dataset_id, id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at`;
  const chunks = jsonChunks(records, (r) => [r.id, r.values, new Date(r.updatedAt).toISOString()], valueBytes);
  await batched(
    db,
    chunks.map((chunk) => db.prepare(sql).bind(orgId, datasetId, chunk)),
  );
}

/** A staged replacement of an upload audience's members (see the module comment). */
export function d1UploadWriter(db: D1Database, orgId: string, audienceId: string, now: Date): UploadWriter {
  const uploadId = newId('upl');
  let count = 0;
  const insert =
    'INSERT OR IGNORE INTO audience_members (org_id, audience_id, upload_id, namespace, value, attributes) VALUES (?, ?, ?, ?, ?, ?)';
  return {
    async add(members: readonly UploadMember[]) {
      count += members.length;
      await batched(
        db,
        members.map((m) =>
          db
            .prepare(insert)
            .bind(orgId, audienceId, uploadId, m.namespace, m.value, JSON.stringify(m.attributes)),
        ),
      );
    },
    async commit() {
      await db.batch([
        db
          .prepare(
            `INSERT INTO audience_uploads (org_id, audience_id, current_upload_id, members, committed_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (org_id, audience_id) DO UPDATE SET current_upload_id = excluded.current_upload_id,
               members = excluded.members, committed_at = excluded.committed_at`,
          )
          .bind(orgId, audienceId, uploadId, count, now.toISOString()),
        db
          .prepare('DELETE FROM audience_members WHERE org_id = ? AND audience_id = ? AND upload_id <> ?')
          .bind(orgId, audienceId, uploadId),
      ]);
      return count;
    },
    async abort() {
      await run(
        db,
        'DELETE FROM audience_members WHERE org_id = ? AND audience_id = ? AND upload_id = ?',
        orgId,
        audienceId,
        uploadId,
      );
    },
  };
}

/** How many members an upload audience holds now (0 before its first upload). */
export async function uploadMemberCount(db: D1Database, orgId: string, audienceId: string): Promise<number> {
  const row = await first<{ members: number }>(
    db,
    'SELECT members FROM audience_uploads WHERE org_id = ? AND audience_id = ?',
    orgId,
    audienceId,
  );
  return row?.members ?? 0;
}
