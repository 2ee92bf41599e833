/**
 * The write side of the data store in D1: profile and dataset-record upserts in batched statements,
 * datasets, and the staged writer of upload audiences (members are written under a fresh upload id and
 * become visible only when `audience_uploads` points at it, in one batch with the old rows' removal).
 */
import type { UploadMember } from '../../core/data/model.ts';
import type { UploadWriter } from '../../core/data/store.ts';
import type { Schema } from '../../core/types.ts';
import type { D1Database, D1PreparedStatement } from '../env.ts';
import type { ProfileInput, RecordInput } from '../records.ts';
import { all, first, newId, run } from './db.ts';

/** Statements per D1 batch: one round trip each, well below D1's limits. */
const STATEMENTS_PER_BATCH = 100;

async function batched(db: D1Database, statements: D1PreparedStatement[]): Promise<void> {
  for (let i = 0; i < statements.length; i += STATEMENTS_PER_BATCH)
    await db.batch(statements.slice(i, i + STATEMENTS_PER_BATCH));
}

/** Inserts or replaces profiles; a profile without `updatedAt` is stamped with `now`. */
export async function upsertProfiles(
  db: D1Database,
  orgId: string,
  profiles: readonly ProfileInput[],
  now: Date,
): Promise<void> {
  const sql = `INSERT INTO profiles (org_id, id, json, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (org_id, id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at`;
  const at = now.toISOString();
  await batched(
    db,
    profiles.map((p) =>
      db
        .prepare(sql)
        .bind(
          orgId,
          p.id,
          JSON.stringify({ identities: p.identities, attributes: p.attributes }),
          p.updatedAt ? new Date(p.updatedAt).toISOString() : at,
        ),
    ),
  );
}

export interface DatasetRow {
  id: string;
  name: string;
  schema: string;
  created_at: string;
}

/** Creates a dataset; returns false when the organization already has one with this id. */
export async function insertDataset(
  db: D1Database,
  orgId: string,
  input: { id: string; name: string; schema: Schema },
  now: Date,
): Promise<boolean> {
  const sql = 'INSERT OR IGNORE INTO datasets (org_id, id, name, schema, created_at) VALUES (?, ?, ?, ?, ?)';
  return (
    (await run(db, sql, orgId, input.id, input.name, JSON.stringify(input.schema), now.toISOString())) === 1
  );
}

export function getDatasetRow(db: D1Database, orgId: string, id: string): Promise<DatasetRow | undefined> {
  return first<DatasetRow>(
    db,
    'SELECT id, name, schema, created_at FROM datasets WHERE org_id = ? AND id = ?',
    orgId,
    id,
  );
}

export function listDatasetRows(db: D1Database, orgId: string): Promise<DatasetRow[]> {
  return all<DatasetRow>(
    db,
    'SELECT id, name, schema, created_at FROM datasets WHERE org_id = ? ORDER BY created_at DESC, id LIMIT 1000',
    orgId,
  );
}

/** Inserts or replaces dataset records (their `updatedAt` drives incremental exports). */
export async function upsertRecords(
  db: D1Database,
  orgId: string,
  datasetId: string,
  records: readonly RecordInput[],
): Promise<void> {
  const sql = `INSERT INTO dataset_records (org_id, dataset_id, id, json, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (org_id, dataset_id, id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at`;
  await batched(
    db,
    records.map((r) =>
      db
        .prepare(sql)
        .bind(orgId, datasetId, r.id, JSON.stringify(r.values), new Date(r.updatedAt).toISOString()),
    ),
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
