/**
 * Destinations, audiences and dataflows in D1. Every statement filters by org_id: a row of another
 * organization is indistinguishable from a missing one.
 */
import type { ExportMode } from '../../core/data/export-plan.ts';
import type { D1Database, D1PreparedStatement } from '../env.ts';
import { all, first, newId, run } from './db.ts';

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  readonly cursor?: string;
}
export interface PageQuery {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** Keyset pagination over (created_at, id), newest first. */
export async function page<T extends { created_at: string; id: string }>(
  db: D1Database,
  table: string,
  orgId: string,
  query: PageQuery,
  extra: { where: string; params: unknown[] } = { where: '', params: [] },
): Promise<Page<T>> {
  const after = decodeCursor(query.cursor);
  const where = `org_id = ?${extra.where}${after ? ' AND (created_at < ? OR (created_at = ? AND id < ?))' : ''}`;
  const params = [orgId, ...extra.params, ...(after ? [after[0], after[0], after[1]] : [])];
  const rows = await all<T>(
    db,
    `SELECT * FROM ${table} WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT ?`,
    ...params,
    query.limit + 1,
  );
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return rows.length > query.limit && last
    ? { items, cursor: btoa(JSON.stringify([last.created_at, last.id])) }
    : { items };
}

function decodeCursor(cursor: string | undefined): [string, string] | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(atob(cursor));
    return Array.isArray(value) && value.length === 2 && value.every((x) => typeof x === 'string')
      ? (value as [string, string])
      : undefined;
  } catch {
    return undefined;
  }
}

export interface DestinationRow {
  id: string;
  org_id: string;
  name: string;
  config: string;
  created_at: string;
  updated_at: string;
}

/** The tables whose rows are a name and a sealed JSON config: destinations and snapshot sources. */
export type ConfigTable = 'destinations' | 'sources';

export function insertDestination(db: D1Database, row: Omit<DestinationRow, 'updated_at'>): Promise<void> {
  return insertConfigRow(db, 'destinations', row);
}

/** Inserts a destination or source row (updated_at = created_at). */
export async function insertConfigRow(db: D1Database, table: ConfigTable, row: Omit<DestinationRow, 'updated_at'>): Promise<void> {
  await run(
    db,
    `INSERT INTO ${table} (id, org_id, name, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
    row.id,
    row.org_id,
    row.name,
    row.config,
    row.created_at,
    row.created_at,
  );
}

export function getDestination(
  db: D1Database,
  orgId: string,
  id: string,
): Promise<DestinationRow | undefined> {
  return first<DestinationRow>(db, 'SELECT * FROM destinations WHERE org_id = ? AND id = ?', orgId, id);
}

export function updateDestination(db: D1Database, orgId: string, id: string, name: string, config: string, now: Date): Promise<boolean> {
  return updateConfigRow(db, 'destinations', orgId, id, name, config, now);
}

/** Replaces a destination's or source's name and config; false when the organization has no such row. */
export async function updateConfigRow(
  db: D1Database,
  table: ConfigTable,
  orgId: string,
  id: string,
  name: string,
  config: string,
  now: Date,
): Promise<boolean> {
  const sql = `UPDATE ${table} SET name = ?, config = ?, updated_at = ? WHERE org_id = ? AND id = ?`;
  return (await run(db, sql, name, config, now.toISOString(), orgId, id)) === 1;
}

/** Deletes a destination; refuses (returns 'in-use') while a dataflow still points at it. */
export async function deleteDestination(
  db: D1Database,
  orgId: string,
  id: string,
): Promise<'deleted' | 'missing' | 'in-use'> {
  const user = await first(
    db,
    'SELECT id FROM dataflows WHERE org_id = ? AND destination_id = ? LIMIT 1',
    orgId,
    id,
  );
  if (user) return 'in-use';
  return (await run(db, 'DELETE FROM destinations WHERE org_id = ? AND id = ?', orgId, id)) === 1
    ? 'deleted'
    : 'missing';
}

export interface AudienceRow {
  id: string;
  org_id: string;
  name: string;
  kind: 'rule' | 'upload';
  rule: string | null;
  /** A rule audience reading a snapshot source (migrations/0012); null: the profiles in D1. */
  source_id: string | null;
  created_at: string;
  updated_at: string;
}

/** What an audience's API input sets. */
export interface AudienceColumns {
  name: string;
  kind: string;
  rule?: string;
  sourceId?: string | undefined;
}

export async function insertAudience(
  db: D1Database,
  orgId: string,
  input: AudienceColumns,
  now: Date,
): Promise<string> {
  const id = newId('aud');
  const at = now.toISOString();
  const sql =
    'INSERT INTO audiences (id, org_id, name, kind, rule, source_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
  await run(db, sql, id, orgId, input.name, input.kind, input.rule ?? null, input.sourceId ?? null, at, at);
  return id;
}

export function getAudience(db: D1Database, orgId: string, id: string): Promise<AudienceRow | undefined> {
  return first<AudienceRow>(db, 'SELECT * FROM audiences WHERE org_id = ? AND id = ?', orgId, id);
}

export async function updateAudience(
  db: D1Database,
  orgId: string,
  id: string,
  input: AudienceColumns,
  now: Date,
): Promise<boolean> {
  const sql = 'UPDATE audiences SET name = ?, kind = ?, rule = ?, source_id = ?, updated_at = ? WHERE org_id = ? AND id = ?';
  const values = [input.name, input.kind, input.rule ?? null, input.sourceId ?? null, now.toISOString(), orgId, id];
  return (await run(db, sql, ...values)) === 1;
}

export async function deleteAudience(db: D1Database, orgId: string, id: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM audiences WHERE org_id = ? AND id = ?', orgId, id)) > 0;
}

/** How many of `ids` exist in the organization (to refuse dangling references). */
/** Which of `ids` are audiences of the organization (the ids as one JSON value: D1 binds at most 100). */
export async function existingAudienceIds(db: D1Database, orgId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await all<{ id: string }>(
    db,
    'SELECT a.id FROM json_each(?) j JOIN audiences a ON a.org_id = ? AND a.id = j.value',
    JSON.stringify(ids),
    orgId,
  );
  return new Set(rows.map((r) => r.id));
}

export interface DataflowRow {
  id: string;
  org_id: string;
  name: string;
  destination_id: string;
  audience_ids: string;
  /** JSON [{id, schedule?, naming?}]: audiences with their own schedule or naming. */
  audience_settings: string;
  dataset_id: string | null;
  mapping: string;
  schedule: string | null;
  naming: string;
  /** JSON of the partitionBy option, or null. */
  partition_by: string | null;
  export_mode: 'full' | 'incremental';
  /** insert-only or diff (export_mode is then 'incremental'); see `exportModeOf`. */
  delta_mode: 'insert-only' | 'diff' | null;
  alert_webhook: string | null;
  alert_secret: string | null;
  skipped_rate_threshold: number | null;
  /** JSON list of AlertEvent names; null: every event. */
  alert_events: string | null;
  /** 'signed-json' or 'slack'; null: 'signed-json'. */
  alert_format: string | null;
  late_after_minutes: number | null;
  webhook_secret: string;
  enabled: number;
  scheduled_through: string | null;
  created_at: string;
  updated_at: string;
}

/** A dataflow's export mode, from its two columns. */
export function exportModeOf(row: Pick<DataflowRow, 'export_mode' | 'delta_mode'>): ExportMode {
  return row.delta_mode ?? row.export_mode;
}

/** The columns of an export mode: insert-only and diff are incremental exports that write other rows. */
export function exportModeColumns(mode: ExportMode): Pick<DataflowRow, 'export_mode' | 'delta_mode'> {
  return mode === 'insert-only' || mode === 'diff' ? { export_mode: 'incremental', delta_mode: mode } : { export_mode: mode, delta_mode: null };
}

/** The columns a dataflow's API input maps to. */
export type DataflowColumns = Pick<
  DataflowRow,
  | 'name'
  | 'destination_id'
  | 'audience_ids'
  | 'audience_settings'
  | 'dataset_id'
  | 'mapping'
  | 'schedule'
  | 'naming'
  | 'partition_by'
  | 'export_mode'
  | 'delta_mode'
  | 'alert_webhook'
  | 'skipped_rate_threshold'
  | 'alert_events'
  | 'alert_format'
  | 'late_after_minutes'
  | 'enabled'
>;
const DATAFLOW_COLUMNS = [
  'name',
  'destination_id',
  'audience_ids',
  'audience_settings',
  'dataset_id',
  'mapping',
  'schedule',
  'naming',
  'partition_by',
  'export_mode',
  'delta_mode',
  'alert_webhook',
  'skipped_rate_threshold',
  'alert_events',
  'alert_format',
  'late_after_minutes',
  'enabled',
] as const;

export async function insertDataflow(
  db: D1Database,
  orgId: string,
  id: string,
  cols: DataflowColumns,
  webhookSecret: string,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const names = [...DATAFLOW_COLUMNS, 'id', 'org_id', 'webhook_secret', 'created_at', 'updated_at'];
  const values = [...DATAFLOW_COLUMNS.map((c) => cols[c]), id, orgId, webhookSecret, at, at];
  await run(
    db,
    `INSERT INTO dataflows (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
    ...values,
  );
}

export function getDataflow(db: D1Database, orgId: string, id: string): Promise<DataflowRow | undefined> {
  return first<DataflowRow>(db, 'SELECT * FROM dataflows WHERE org_id = ? AND id = ?', orgId, id);
}

/** A dataflow by id alone: only for webhooks, whose caller is authenticated by the dataflow's own secret. */
export function getDataflowForWebhook(db: D1Database, id: string): Promise<DataflowRow | undefined> {
  return first<DataflowRow>(db, 'SELECT * FROM dataflows WHERE id = ?', id);
}

export async function updateDataflow(
  db: D1Database,
  orgId: string,
  id: string,
  cols: DataflowColumns,
  now: Date,
): Promise<boolean> {
  const sets = DATAFLOW_COLUMNS.map((c) => `${c} = ?`).join(', ');
  const sql = `UPDATE dataflows SET ${sets}, updated_at = ? WHERE org_id = ? AND id = ?`;
  return (await run(db, sql, ...DATAFLOW_COLUMNS.map((c) => cols[c]), now.toISOString(), orgId, id)) === 1;
}

/** Stores the sealed alert secret (or clears it with null). */
export async function setAlertSecret(
  db: D1Database,
  orgId: string,
  id: string,
  sealed: string | null,
): Promise<void> {
  await run(db, 'UPDATE dataflows SET alert_secret = ? WHERE org_id = ? AND id = ?', sealed, orgId, id);
}

export async function deleteDataflow(db: D1Database, orgId: string, id: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM dataflows WHERE org_id = ? AND id = ?', orgId, id)) > 0;
}

/** Every enabled dataflow with a schedule (its own or an audience's), across organizations: the cron's work list. */
export function scheduledDataflows(db: D1Database): Promise<DataflowRow[]> {
  return all<DataflowRow>(
    db,
    `SELECT * FROM dataflows WHERE enabled = 1 AND (schedule IS NOT NULL
       OR EXISTS (SELECT 1 FROM json_each(audience_settings) s WHERE json_type(s.value, '$.schedule') = 'object'))`,
  );
}

/** Moves a dataflow's scheduling watermark forward (never back, so a slow overlapping tick cannot rewind it). */
export async function advanceScheduledThrough(db: D1Database, id: string, through: Date): Promise<void> {
  await advanceStatement(db, id, through).run();
}

/** The statement of `advanceScheduledThrough`, for a batch. */
export function advanceStatement(db: D1Database, id: string, through: Date): D1PreparedStatement {
  const at = through.toISOString();
  return db
    .prepare('UPDATE dataflows SET scheduled_through = ? WHERE id = ? AND (scheduled_through IS NULL OR scheduled_through < ?)')
    .bind(at, id, at);
}
