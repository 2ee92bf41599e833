/** The alerts outbox: rows written beside run changes, delivered and retried by the cron. */
import type { D1Database, D1PreparedStatement } from '../env.ts';
import { all, run } from './db.ts';

/**
 * Every event a dataflow can alert on; a dataflow's `alertEvents` picks among them.
 * `run.delayed` covers both kinds of delay: slots a late cron tick dropped (`reason: "missedSlots"`)
 * and a run not finished `lateAfterMinutes` after its slot (`reason: "late"`). `run.recovered`: a run
 * succeeded and the dataflow's run before it had failed.
 */
export const ALERT_EVENTS = ['run.started', 'run.succeeded', 'run.failed', 'run.delayed', 'run.skipped_rate', 'run.recovered'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/** The events of a dataflow that never chose: those every dataflow sent before `alertEvents` existed. */
export const DEFAULT_ALERT_EVENTS: readonly AlertEvent[] = ALERT_EVENTS.filter((e) => e !== 'run.recovered');

/** The events a dataflow row alerts on (its stored choice, or the default ones); none without a webhook. */
export function alertEventsOf(flow: { alert_webhook: string | null; alert_events: string | null }): ReadonlySet<AlertEvent> {
  if (!flow.alert_webhook) return new Set();
  return new Set(flow.alert_events === null ? DEFAULT_ALERT_EVENTS : (JSON.parse(flow.alert_events) as AlertEvent[]));
}

export interface AlertRow {
  id: number;
  org_id: string;
  dataflow_id: string;
  run_id: string | null;
  event: AlertEvent;
  url: string;
  payload: string;
  attempts: number;
  next_attempt_at: string;
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

/**
 * The statement of `enqueueAlert`, for a batch. `once`: a second alert of this event for this run is
 * ignored (a unique index holds for run.delayed: one lateness alert per run, whichever tick comes first).
 */
export function alertStatement(db: D1Database, alert: NewAlert, now: Date, once = false): D1PreparedStatement {
  const at = now.toISOString();
  return db
    .prepare(`INSERT${once ? ' OR IGNORE' : ''} INTO alerts (org_id, dataflow_id, run_id, event, url, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
    .bind(alert.orgId, alert.dataflowId, alert.runId ?? null, alert.event, alert.url, JSON.stringify({ event: alert.event, ...alert.payload }), at, at);
}

/** Undelivered alerts whose next attempt is due, oldest first. */
export function dueAlerts(db: D1Database, now: Date, limit = 50): Promise<AlertRow[]> {
  const sql = 'SELECT * FROM alerts WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?';
  return all<AlertRow>(db, sql, now.toISOString(), limit);
}

/** How long a claimed alert is kept from other deliverers (a crash mid-send retries it after this). */
const CLAIM_MS = 60_000;

/**
 * Takes a due alert for this deliverer: a cron tick and a queue consumer may deliver at the same
 * time, and only the one whose claim changed the row sends it.
 */
export async function claimAlert(db: D1Database, alert: AlertRow, now: Date): Promise<boolean> {
  const sql = 'UPDATE alerts SET next_attempt_at = ? WHERE id = ? AND delivered_at IS NULL AND next_attempt_at = ?';
  return (await run(db, sql, new Date(now.getTime() + CLAIM_MS).toISOString(), alert.id, alert.next_attempt_at)) === 1;
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
