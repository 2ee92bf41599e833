/**
 * The cron tick: for every enabled dataflow with a schedule, insert a run for each due slot with
 * INSERT OR IGNORE on its run key and enqueue only the runs this tick created. Overlapping, repeated
 * and late ticks therefore enqueue each slot exactly once. The tick also re-sends runs whose message
 * was lost, purges expired idempotency keys and old run history, and delivers pending alerts.
 */
import { DEFAULT_MAX_CATCH_UP, dueRuns, runKey } from '../core/schedule/due.ts';
import type { Schedule } from '../core/schedule/model.ts';
import { deliverAlerts } from './alerts.ts';
import type { Env } from './env.ts';
import { json } from './store/db.ts';
import { closeEvaluations, evaluationTimes, purgeEvaluations } from './store/evaluations.ts';
import { enqueueAlert } from './store/alerts.ts';
import { purgeIdempotencyKeys } from './store/idempotency.ts';
import { type DataflowRow, advanceScheduledThrough, scheduledDataflows } from './store/resources.ts';
import { insertRun, purgeHistory, takeStaleRuns } from './store/runs.ts';

export interface TickReport {
  /** Runs this tick created and enqueued. */
  readonly enqueued: number;
  /** Slots dropped by bounded catch-up. */
  readonly missed: number;
  /** Lost or stalled runs sent to the queue again. */
  readonly resent: number;
}

/** How long after its last send a queued run (or a run with an expired lease) gets its message again. */
const STALE_QUEUED_MS = 15 * 60_000;

const DAY_MS = 86_400_000;
const DEFAULT_RETENTION_DAYS = 90;

/** Days of finished runs and delivered alerts kept (RUNS_RETENTION_DAYS, at least 1; default 90). */
function retentionDays(env: Env): number {
  const days = Number(env.RUNS_RETENTION_DAYS ?? DEFAULT_RETENTION_DAYS);
  return Number.isFinite(days) && days >= 1 ? days : DEFAULT_RETENTION_DAYS;
}

/** One cron tick at `now` (the controller's scheduledTime, so a retried tick computes the same slots). */
export async function tick(env: Env, now: Date, fetcher: typeof fetch = fetch): Promise<TickReport> {
  let enqueued = 0;
  let missed = 0;
  const maxCatchUp = Number(env.MAX_CATCH_UP ?? DEFAULT_MAX_CATCH_UP) || DEFAULT_MAX_CATCH_UP;
  // Evaluations open until now belong to this tick: "afterEvaluation" dataflows run once for them.
  await closeEvaluations(env.DB, now);
  for (const flow of await scheduledDataflows(env.DB)) {
    const result = await scheduleDataflow(env, flow, now, maxCatchUp);
    enqueued += result.enqueued;
    missed += result.missed;
  }
  const resent = await resendStale(env, now);
  await purgeIdempotencyKeys(env.DB, now);
  await purgeHistory(env.DB, new Date(now.getTime() - retentionDays(env) * DAY_MS));
  await purgeEvaluations(env.DB, new Date(now.getTime() - retentionDays(env) * DAY_MS));
  await deliverAlerts(env, now, fetcher);
  return { enqueued, missed, resent };
}

async function scheduleDataflow(
  env: Env,
  flow: DataflowRow,
  now: Date,
  maxCatchUp: number,
): Promise<{ enqueued: number; missed: number }> {
  const schedule = json<Schedule>(flow.schedule)!;
  const lastTick = new Date(flow.scheduled_through ?? flow.created_at);
  const afterEvaluation = schedule.time === 'afterEvaluation';
  const evaluations = afterEvaluation
    ? await evaluationTimes(env.DB, flow.org_id, json<string[]>(flow.audience_ids) ?? [], lastTick, now)
    : [];
  const due = dueRuns(schedule, lastTick, now, { maxCatchUp, evaluations });
  let enqueued = 0;
  for (const slot of due.slots) {
    // `once` after evaluation: one run ever, whichever tick brings the first evaluation.
    const runKeyOf = afterEvaluation && schedule.frequency === 'once' ? `${flow.id}:once-after-evaluation` : runKey(flow.id, slot);
    const runId = await insertRun(
      env.DB,
      { orgId: flow.org_id, dataflowId: flow.id, runKey: runKeyOf, trigger: 'schedule', scheduledTime: slot },
      now,
    );
    if (runId === undefined) continue; // another tick owns this slot
    await env.EXPORTS.send({ runId, orgId: flow.org_id });
    enqueued++;
  }
  if (due.missed > 0 && flow.alert_webhook) {
    const payload = { dataflowId: flow.id, missedSlots: due.missed, at: now.toISOString() };
    await enqueueAlert(
      env.DB,
      { orgId: flow.org_id, dataflowId: flow.id, event: 'run.delayed', url: flow.alert_webhook, payload },
      now,
    );
  }
  await advanceScheduledThrough(env.DB, flow.id, now);
  return { enqueued, missed: due.missed };
}

/** Re-sends runs whose message was lost or whose consumer crashed (claimRun makes duplicates harmless). */
async function resendStale(env: Env, now: Date): Promise<number> {
  const stale = await takeStaleRuns(env.DB, new Date(now.getTime() - STALE_QUEUED_MS), now);
  for (const run of stale) await env.EXPORTS.send({ runId: run.id, orgId: run.org_id });
  return stale.length;
}
