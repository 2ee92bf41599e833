/**
 * The lateness alert: a scheduled run that has not finished `lateAfterMinutes` after its slot posts
 * run.delayed with reason "late" — whether it is still queued, still running, or finished after the
 * deadline between two ticks. Each cron tick (the Worker's Cron Trigger, the Node and Deno tickers)
 * looks at the runs whose deadline has passed; a unique index on the alerts outbox keeps it to one
 * alert per run, so per slot, however ticks repeat or overlap.
 */
import type { Env } from './env.ts';
import { type AlertEvent, alertEventsOf, alertStatement } from './store/alerts.ts';
import { all } from './store/db.ts';

interface LateRun {
  id: string;
  org_id: string;
  dataflow_id: string;
  status: string;
  scheduled_time: string;
  started_at: string | null;
  finished_at: string | null;
  alert_webhook: string;
  alert_events: string | null;
  late_after_minutes: number;
}

/** Late runs written per tick; any beyond wait for the next tick. */
const LATE_PER_TICK = 200;

/** A run created more than a day after its deadline is not looked at (the query stays on recent runs). */
const LOOK_BACK_MINUTES = 1440;

const seconds = (column: string) => `CAST(strftime('%s', ${column}) AS INTEGER)`;
const deadline = `${seconds('r.scheduled_time')} + d.late_after_minutes * 60`;

/**
 * Scheduled runs of dataflows with a lateness margin, past their deadline at `now`, not finished by it,
 * and not yet alerted. Seconds since the epoch compare the times (stored as ISO 8601 UTC).
 */
const LATE_RUNS = `SELECT r.id, r.org_id, r.dataflow_id, r.status, r.scheduled_time, r.started_at, r.finished_at,
    d.alert_webhook, d.alert_events, d.late_after_minutes
  FROM dataflows d JOIN runs r ON r.org_id = d.org_id AND r.dataflow_id = d.id
  WHERE d.late_after_minutes IS NOT NULL AND d.alert_webhook IS NOT NULL AND r.trigger = 'schedule'
    AND r.created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', ?, '-' || (d.late_after_minutes + ${LOOK_BACK_MINUTES}) || ' minutes')
    AND ${deadline} <= ${seconds('?')}
    AND (r.finished_at IS NULL OR ${seconds('r.finished_at')} > ${deadline})
    AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.run_id = r.id AND a.event = 'run.delayed')
  ORDER BY r.scheduled_time LIMIT ?`;

/** Writes a run.delayed alert (reason "late") for each run late at `now`; returns how many runs were late. */
export async function lateRunAlerts(env: Env, now: Date): Promise<number> {
  const at = now.toISOString();
  const late = await all<LateRun>(env.DB, LATE_RUNS, at, at, LATE_PER_TICK);
  const event: AlertEvent = 'run.delayed';
  const statements = late
    .filter((run) => alertEventsOf(run).has(event))
    .map((run) => {
      const due = new Date(Date.parse(run.scheduled_time) + run.late_after_minutes * 60_000);
      const payload = {
        runId: run.id,
        dataflowId: run.dataflow_id,
        trigger: 'schedule',
        scheduledTime: run.scheduled_time,
        reason: 'late',
        lateAfterMinutes: run.late_after_minutes,
        deadline: due.toISOString(),
        status: run.status,
        ...(run.started_at !== null && { startedAt: run.started_at }),
        ...(run.finished_at !== null && { finishedAt: run.finished_at }),
        at,
      };
      const alert = { orgId: run.org_id, dataflowId: run.dataflow_id, runId: run.id, event, url: run.alert_webhook, payload };
      return alertStatement(env.DB, alert, now, true);
    });
  if (statements.length > 0) await env.DB.batch(statements);
  return statements.length;
}
