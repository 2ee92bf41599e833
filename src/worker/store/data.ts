/**
 * The read side of the data store in D1, for exports: profiles by id, dataset records by
 * (updated_at, id), upload members, and export state. Keyset pagination; one page in memory.
 */
import type { Audience, Dataset, DatasetRecord, Profile, UploadMember } from '../../core/data/model.ts';
import type {
  DatasetPageRequest,
  ExportState,
  ExportStateKey,
  Page,
  PageRequest,
} from '../../core/data/store.ts';
import type { Schema } from '../../core/types.ts';
import type { ExportStates } from '../../service/subjects.ts';
import type { D1Database } from '../env.ts';
import { all, first, json, run } from './db.ts';

const MAX_PAGE = 1000;
const limitOf = (request: PageRequest) => Math.min(MAX_PAGE, Math.max(1, request.limit ?? 500));

/** Read access to one organization's data, as the core's export planners need it. */
export function d1DataReader(db: D1Database, orgId: string) {
  return {
    async listProfiles(request: PageRequest): Promise<Page<Profile>> {
      const limit = limitOf(request);
      const rows = await all<{ id: string; json: string; updated_at: string }>(
        db,
        'SELECT id, json, updated_at FROM profiles WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?',
        orgId,
        request.cursor ?? '',
        limit,
      );
      const items = rows.map((r) => ({
        id: r.id,
        identities: {},
        attributes: {},
        ...json<Partial<Profile>>(r.json),
        updatedAt: r.updated_at,
      }));
      return rows.length === limit ? { items, cursor: rows.at(-1)!.id } : { items };
    },

    async getAudience(id: string): Promise<Audience | undefined> {
      const row = await first<{ id: string; name: string; kind: 'rule' | 'upload'; rule: string | null }>(
        db,
        'SELECT id, name, kind, rule FROM audiences WHERE org_id = ? AND id = ?',
        orgId,
        id,
      );
      if (!row) return undefined;
      return row.kind === 'rule'
        ? { id: row.id, name: row.name, kind: 'rule', rule: row.rule ?? '' }
        : { id: row.id, name: row.name, kind: 'upload' };
    },

    async getDataset(id: string): Promise<Dataset | undefined> {
      const row = await first<{ id: string; name: string; schema: string }>(
        db,
        'SELECT id, name, schema FROM datasets WHERE org_id = ? AND id = ?',
        orgId,
        id,
      );
      return row && { id: row.id, name: row.name, schema: json<Schema>(row.schema) ?? [] };
    },

    async listDatasetRecords(datasetId: string, request: DatasetPageRequest): Promise<Page<DatasetRecord>> {
      const limit = limitOf(request);
      const from = request.cursor
        ? (JSON.parse(request.cursor) as [string, string])
        : request.after
          ? [request.after.updatedAt, request.after.id]
          : undefined;
      const rows = await all<{ id: string; json: string; updated_at: string }>(
        db,
        `SELECT id, json, updated_at FROM dataset_records WHERE org_id = ? AND dataset_id = ?
         ${from ? 'AND (updated_at > ? OR (updated_at = ? AND id > ?))' : ''} ORDER BY updated_at, id LIMIT ?`,
        orgId,
        datasetId,
        ...(from ? [from[0], from[0], from[1]] : []),
        limit,
      );
      const items = rows.map((r) => ({
        id: r.id,
        updatedAt: r.updated_at,
        values: json<Record<string, unknown>>(r.json) ?? {},
      }));
      const last = rows.at(-1);
      return rows.length === limit && last
        ? { items, cursor: JSON.stringify([last.updated_at, last.id]) }
        : { items };
    },

    async listUploadMembers(audienceId: string, request: PageRequest): Promise<Page<UploadMember>> {
      const limit = limitOf(request);
      const offset = Number(request.cursor ?? 0);
      const rows = await all<{ namespace: string; value: string; attributes: string }>(
        db,
        `SELECT m.namespace, m.value, m.attributes FROM audience_members m
         JOIN audience_uploads u ON u.org_id = m.org_id AND u.audience_id = m.audience_id AND u.current_upload_id = m.upload_id
         WHERE m.org_id = ? AND m.audience_id = ? ORDER BY m.namespace, m.value LIMIT ? OFFSET ?`,
        orgId,
        audienceId,
        limit,
        offset,
      );
      const items = rows.map((r) => ({
        namespace: r.namespace,
        value: r.value,
        attributes: json<Record<string, string>>(r.attributes) ?? {},
      }));
      return rows.length === limit ? { items, cursor: String(offset + limit) } : { items };
    },

    async getExportState(key: ExportStateKey): Promise<ExportState | undefined> {
      const row = await first<{ state: string }>(
        db,
        'SELECT state FROM export_state WHERE org_id = ? AND dataflow_id = ? AND subject_id = ?',
        orgId,
        key.dataflowId,
        key.subjectId,
      );
      return json<ExportState>(row?.state);
    },

    async putExportState(key: ExportStateKey, state: ExportState): Promise<void> {
      await run(
        db,
        `INSERT INTO export_state (org_id, dataflow_id, subject_id, state, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (org_id, dataflow_id, subject_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
        orgId,
        key.dataflowId,
        key.subjectId,
        JSON.stringify(state),
        new Date().toISOString(),
      );
    },

    /**
     * Makes the states a run staged (under `stagedKey`) the current ones, all in one D1 batch (one
     * transaction), and drops the staged rows: a run's subjects advance together or not at all.
     */
    async promoteExportStates(
      dataflowId: string,
      runId: string,
      subjectIds: readonly string[],
    ): Promise<void> {
      const statements = subjectIds.flatMap((id) => {
        const staged = stagedKey(id, runId);
        return [
          db
            .prepare(
              `INSERT INTO export_state (org_id, dataflow_id, subject_id, state, updated_at)
               SELECT org_id, dataflow_id, ?, state, updated_at FROM export_state
               WHERE org_id = ? AND dataflow_id = ? AND subject_id = ?
               ON CONFLICT (org_id, dataflow_id, subject_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
            )
            .bind(id, orgId, dataflowId, staged),
          db
            .prepare('DELETE FROM export_state WHERE org_id = ? AND dataflow_id = ? AND subject_id = ?')
            .bind(orgId, dataflowId, staged),
        ];
      });
      if (statements.length > 0) await db.batch(statements);
    },

    /** Drops what an earlier attempt of this run staged (a retry starts from the committed states). */
    async discardStagedStates(dataflowId: string, runId: string): Promise<void> {
      await run(
        db,
        "DELETE FROM export_state WHERE org_id = ? AND dataflow_id = ? AND subject_id LIKE ? ESCAPE '\\'",
        orgId,
        dataflowId,
        `%${(STAGED + runId).replace(/[\\%_]/g, (c) => `\\${c}`)}`,
      );
    },
  };
}

const STAGED = '@staged:';

/**
 * A run's export states in D1: the dataflow's committed states, this run's staged ones (rows keyed
 * `<subject>@staged:<runId>`), promoted together in one batch.
 */
export function d1States(reader: D1DataReader, dataflowId: string, runId: string): ExportStates {
  return {
    get: (subjectId) => reader.getExportState({ dataflowId, subjectId }),
    stage: (subjectId, state) => reader.putExportState({ dataflowId, subjectId: stagedKey(subjectId, runId) }, state),
    promote: (subjectIds) => reader.promoteExportStates(dataflowId, runId, subjectIds),
    discard: () => reader.discardStagedStates(dataflowId, runId),
  };
}

/** Where a run keeps a subject's new state until every subject of the run is exported. */
export function stagedKey(subjectId: string, runId: string): string {
  return `${subjectId}${STAGED}${runId}`;
}

export type D1DataReader = ReturnType<typeof d1DataReader>;
