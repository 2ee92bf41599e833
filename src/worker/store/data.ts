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
import type { StateEntry } from '../../core/data/export-plan.ts';
import type { SpillStore } from '../../core/data/spill.ts';
import { ExportError } from '../../core/errors.ts';
import { type ExportStates, utf8Bound } from '../../service/subjects.ts';
import type { D1Database } from '../env.ts';
import { all, first, json, run } from './db.ts';

/** Rows per page at most: 10,000 profiles are ~5 MB of result, well under D1's 50 MB per query. */
const MAX_PAGE = 10_000;
const limitOf = (request: PageRequest) => Math.min(MAX_PAGE, Math.max(1, request.limit ?? 500));

/** A profile as stored (its id, its `{identities, attributes}` JSON, its update time): in D1's `profiles` or in a shard. */
export function storedProfile(id: string, text: string, updatedAt: string): Profile {
  return { id, identities: {}, attributes: {}, ...json<Partial<Profile>>(text), updatedAt };
}

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
      const items = rows.map((r) => storedProfile(r.id, r.json, r.updated_at));
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
 * A run's export states in D1: the dataflow's committed headers, this run's staged ones (rows keyed
 * `<subject>@staged:<runId>`), and audience entries in chunks (`export_state_chunks`, generation =
 * run id). Promotion is one batch: staged headers become current, older generations' chunks go.
 */
export function d1States(
  db: D1Database,
  orgId: string,
  dataflowId: string,
  runId: string,
  maxValueBytes = D1_VALUE_BYTES,
): ExportStates {
  const reader = d1DataReader(db, orgId);
  return {
    get: (subjectId) => reader.getExportState({ dataflowId, subjectId }),
    stage: (subjectId, state) => reader.putExportState({ dataflowId, subjectId: stagedKey(subjectId, runId) }, state),
    promote: async (subjectIds) => {
      await reader.promoteExportStates(dataflowId, runId, subjectIds);
      await db.batch(
        subjectIds.map((id) =>
          db
            .prepare('DELETE FROM export_state_chunks WHERE org_id = ? AND dataflow_id = ? AND subject_id = ? AND generation <> ?')
            .bind(orgId, dataflowId, id, runId),
        ),
      );
    },
    discard: async () => {
      await reader.discardStagedStates(dataflowId, runId);
      await run(db, 'DELETE FROM export_state_chunks WHERE org_id = ? AND dataflow_id = ? AND generation = ?', orgId, dataflowId, runId);
    },
    chunks: {
      generation: runId,
      maxBytes: Math.floor(maxValueBytes * 0.9),
      read: (subjectId, generation, count) =>
        chunkRows(
          db,
          'SELECT data FROM export_state_chunks WHERE org_id = ? AND dataflow_id = ? AND subject_id = ? AND generation = ? AND seq = ?',
          [orgId, dataflowId, subjectId, generation],
          count,
        ),
      write: async (subjectId, seq, entries) => {
        await run(
          db,
          'INSERT OR REPLACE INTO export_state_chunks (org_id, dataflow_id, subject_id, generation, seq, entries, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
          orgId,
          dataflowId,
          subjectId,
          runId,
          seq,
          entries.length,
          entries.map(([key, fp]) => `${key}\t${fp}`).join('\n'),
        );
      },
    },
  };
}

/** A generation's chunks 0 … count-1, one row (one query) at a time, as entries. */
async function* chunkRows(db: D1Database, sql: string, params: readonly unknown[], count: number): AsyncGenerator<readonly StateEntry[]> {
  for (let seq = 0; seq < count; seq++) {
    const row = await first<{ data: string }>(db, sql, ...params, seq);
    if (!row) throw new ExportError('INTERNAL', `Export state chunk ${seq} of ${count} is missing`);
    yield row.data.split('\n').map((line) => {
      const tab = line.lastIndexOf('\t');
      return [line.slice(0, tab), line.slice(tab + 1)] as const;
    });
  }
}

/** Drops every spilled run of a run (an attempt that crashed leaves them; the next attempt clears them). */
export async function dropSpills(db: D1Database, orgId: string, runId: string): Promise<void> {
  await run(db, 'DELETE FROM export_spill WHERE org_id = ? AND run_id = ?', orgId, runId);
}

/** D1's limit on one string, BLOB or row (docs/LIMITS.md); `D1_MAX_VALUE_BYTES` lowers it for tests. */
export const D1_VALUE_BYTES = 2_000_000;

/**
 * Where a run's deduplication spills its sorted runs in D1 (`export_spill`): lines gathered into
 * rows of at most 90% of the value limit (the fewer the rows, the fewer the queries), read back one
 * row (one query) at a time, dropped at the end.
 */
export function d1Spill(db: D1Database, orgId: string, runId: string, subjectId: string, maxValueBytes = D1_VALUE_BYTES): SpillStore {
  const rowBytes = Math.floor(maxValueBytes * 0.9);
  const next = new Map<number, number>();
  const encoder = new TextEncoder();
  let scratch: Uint8Array | undefined;
  return {
    write: async (runNo, lines) => {
      if (!next.has(runNo)) {
        // A run number is written once per attempt: rows a failed attempt left under it go first.
        await run(db, 'DELETE FROM export_spill WHERE org_id = ? AND run_id = ? AND subject_id = ? AND run_no = ?', orgId, runId, subjectId, runNo);
        next.set(runNo, 0);
      }
      const put = async (text: string) => {
        const seq = next.get(runNo) ?? 0;
        next.set(runNo, seq + 1);
        await run(
          db,
          'INSERT OR REPLACE INTO export_spill (org_id, run_id, subject_id, run_no, seq, data) VALUES (?, ?, ?, ?, ?, ?)',
          orgId,
          runId,
          subjectId,
          runNo,
          seq,
          text,
        );
      };
      // Lines gathered by length (a lower bound of their UTF-8 size), then each row measured once;
      // a row that turns out too large (text beyond ASCII) is packed again line by line, measured.
      const putLines = async (from: number, to: number): Promise<void> => {
        const text = lines.slice(from, to).join('\n');
        // Encoding into a buffer of the row's size answers "does it fit" natively, without a copy.
        scratch ??= new Uint8Array(rowBytes);
        if (encoder.encodeInto(text, scratch).read === text.length) return put(text);
        let start = from;
        let bytes = 0;
        for (let i = from; i < to; i++) {
          const size = utf8Bound(lines[i]!) + 1;
          if (size > rowBytes) {
            throw new ExportError('FORMAT_FAILED', `A deduplication row of ${size} bytes is too large to sort (at most ${rowBytes})`);
          }
          if (bytes + size > rowBytes) {
            await put(lines.slice(start, i).join('\n'));
            start = i;
            bytes = 0;
          }
          bytes += size;
        }
        await put(lines.slice(start, to).join('\n'));
      };
      let from = 0;
      let chars = 0;
      for (let i = 0; i < lines.length; i++) {
        const size = lines[i]!.length + 1;
        if (chars + size > rowBytes && i > from) {
          await putLines(from, i);
          from = i;
          chars = 0;
        }
        chars += size;
      }
      if (lines.length > from) await putLines(from, lines.length);
    },
    read: (runNo) => spillRows(db, orgId, runId, subjectId, runNo),
    drop: async () => {
      next.clear();
      await run(db, 'DELETE FROM export_spill WHERE org_id = ? AND run_id = ? AND subject_id = ?', orgId, runId, subjectId);
    },
  };
}

/** The lines of a spilled run from row `from` on, one row (one query) at a time. */
export async function* spillRows(db: D1Database, orgId: string, runId: string, subjectId: string, runNo: number, from = 0): AsyncGenerator<readonly string[]> {
  for (let seq = from; ; seq++) {
    const found = await first<{ data: string }>(
      db,
      'SELECT data FROM export_spill WHERE org_id = ? AND run_id = ? AND subject_id = ? AND run_no = ? AND seq = ?',
      orgId,
      runId,
      subjectId,
      runNo,
      seq,
    );
    if (!found) return;
    yield found.data.split('\n');
  }
}

/** Where a run keeps a subject's new state until every subject of the run is exported. */
export function stagedKey(subjectId: string, runId: string): string {
  return `${subjectId}${STAGED}${runId}`;
}

export type D1DataReader = ReturnType<typeof d1DataReader>;
