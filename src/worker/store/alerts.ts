/** The alerts outbox: rows written beside run changes, delivered and retried by the cron. */
import type { D1Database, D1PreparedStatement } from '../env.ts';
import { all, run } from './db.ts';

export type AlertEvent = 'run.started' | 'run.succeeded' | 'run.failed' | 'run.delayed' | 'run.skipped_rate';

export interface AlertRow {
  id: number;
  org_id: string;
  dataflow_id: string;
  run_id: string | null;
  event: AlertEvent;
  url: string;
  payload: string;
  attempts: number;
}

export interface NewAlert {
  readonly orgId: string;
  readonly dataflowId: string;
  readonly runId?: string;
  readonly event: AlertEvent;
  readonly url: string;
  readonly payload: Record<string, unknown>;
}

export async function enqueueAlert(db: D1Database, alert: NewAlert, now: Date): Promise<void> {
  await alertStatement(db, alert, now).run();
}

/** The statement of `enqueueAlert`, for a batch. */
export function alertStatement(db: D1Database, alert: NewAlert, now: Date): D1PreparedStatement {
  const at = now.toISOString();
  return db
    .prepare('INSERT INTO alerts (org_id, dataflow_id, run_id, event, url, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .bind(alert.orgId, alert.dataflowId, alert.runId ?? null, alert.event, alert.url, JSON.stringify({ event: alert.event, ...alert.payload }), at, at);
}

/** Undelivered alerts whose next attempt is due, oldest first. */
export function dueAlerts(db: D1Database, now: Date, limit = 50): Promise<AlertRow[]> {
  const sql = 'SELECT * FROM alerts WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?';
  return all<AlertRow>(db, sql, now.toISOString(), limit);
}

export async function markAlertDelivered(db: D1Database, id: number, now: Date): Promise<void> {
  await run(
    db,
    'UPDATE alerts SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?',
    now.toISOString(),
    id,
  );
}

/** Schedules the next attempt; after the last one the alert stays undelivered with its error, for inspection. */
export async function markAlertFailed(
  db: D1Database,
  id: number,
  error: string,
  next: Date | undefined,
): Promise<void> {
  const sql = 'UPDATE alerts SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?';
  await run(db, sql, error.slice(0, 500), next ? next.toISOString() : '9999-12-31T00:00:00.000Z', id);
}
