/**
 * The cron tick: for every enabled dataflow with a schedule (its own, or one of its audiences'),
 * insert a run for each due slot — the dataflow's, exporting the audiences that follow its schedule,
 * and each audience's own, exporting that audience — with
 * INSERT OR IGNORE on its run key and enqueue only the runs this tick created. Overlapping, repeated
 * and late ticks therefore enqueue each slot exactly once. The tick also re-sends runs whose message
 * was lost, writes lateness alerts (lateness.ts), purges expired idempotency keys and old run history,
 * and delivers pending alerts.
 */
import { type AudienceSchedule, dueAudienceRuns } from '../core/schedule/audiences.ts';
import { DEFAULT_MAX_CATCH_UP } from '../core/schedule/due.ts';
import type { Schedule } from '../core/schedule/model.ts';
import { deliverAlerts } from './alerts.ts';
import type { D1PreparedStatement, Env } from './env.ts';
import { json } from './store/db.ts';
import { type ClosedEvaluation, closedEvaluations, closeEvaluations, purgeEvaluations } from './store/evaluations.ts';
import { alertEventsOf, alertStatement } from './store/alerts.ts';
import { lateRunAlerts } from './lateness.ts';
import { purgeIdempotencyKeys } from './store/idempotency.ts';
import { type DataflowRow, advanceStatement, scheduledDataflows } from './store/resources.ts';
import { insertRunStatement, purgeHistory, takeStaleRuns } from './store/runs.ts';
import { takeStaleTasks } from './store/tasks.ts';
import { resendStaleReshards } from './reshard.ts';

export interface TickReport {
  /** Runs this tick created and enqueued. */
  readonly enqueued: number;
  /** Slots dropped by bounded catch-up. */
  readonly missed: number;
  /** Lost or stalled runs (and tasks of fanned-out runs) sent to the queue again. */
  readonly resent: number;
}

/** How long after its last send a queued run gets its message again (a run whose lease expired: at the next tick). */
const STALE_QUEUED_MS = 5 * 60_000;

const DAY_MS = 86_400_000;
const DEFAULT_RETENTION_DAYS = 90;

/** Days of finished runs and delivered alerts kept (RUNS_RETENTION_DAYS, at least 1; default 90). */
function retentionDays(env: Env): number {
  const days = Number(env.RUNS_RETENTION_DAYS ?? DEFAULT_RETENTION_DAYS);
  return Number.isFinite(days) && days >= 1 ? days : DEFAULT_RETENTION_DAYS;
}

/** Dataflows scheduled per D1 batch: each adds its runs, its watermark and any delay alert. */
const FLOWS_PER_BATCH = 100;

/**
 * One cron tick at `now` (the controller's scheduledTime, so a retried tick computes the same slots).
 * Its D1 calls do not grow with the number of dataflows one by one: slots are computed in memory
 * and written a batch of FLOWS_PER_BATCH dataflows at a time (a batch is one of the invocation's
 * 1,000 D1 queries), so a tick with thousands of due dataflows stays within its budget.
 */
export async function tick(env: Env, now: Date, fetcher: typeof fetch = fetch): Promise<TickReport> {
  let enqueued = 0;
  let missed = 0;
  const maxCatchUp = Number(env.MAX_CATCH_UP ?? DEFAULT_MAX_CATCH_UP) || DEFAULT_MAX_CATCH_UP;
  // Evaluations open until now belong to this tick: "afterEvaluation" dataflows run once for them.
  await closeEvaluations(env.DB, now);
  const flows = await scheduledDataflows(env.DB);
  const lastTickOf = (flow: DataflowRow) => new Date(flow.scheduled_through ?? flow.created_at);
  const schedules = (flow: DataflowRow) => [
    ...(flow.schedule ? [json<Schedule>(flow.schedule)!] : []),
    ...(json<AudienceSchedule[]>(flow.audience_settings) ?? []).flatMap((a) => (a.schedule ? [a.schedule] : [])),
  ];
  const evaluated = flows.filter((f) => schedules(f).some((s) => s.time === 'afterEvaluation'));
  const evaluations = evaluated.length > 0
    ? await closedEvaluations(env.DB, new Date(Math.min(...evaluated.map((f) => lastTickOf(f).getTime()))), now)
    : [];
  for (let i = 0; i < flows.length; i += FLOWS_PER_BATCH) {
    const statements: D1PreparedStatement[] = [];
    const created: { runId: string; orgId: string; at: number }[] = [];
    for (const flow of flows.slice(i, i + FLOWS_PER_BATCH)) {
      const lastTick = lastTickOf(flow);
      const due = dueAudienceRuns(
        {
          id: flow.id,
          schedule: json<Schedule>(flow.schedule),
          audienceIds: json<string[]>(flow.audience_ids) ?? [],
          audiences: json<AudienceSchedule[]>(flow.audience_settings) ?? [],
        },
        lastTick,
        now,
        { maxCatchUp, evaluations: (audienceIds) => evaluationsOf(evaluations, flow.org_id, audienceIds, lastTick, now) },
      );
      for (const run of due.runs) {
        const { id, statement } = insertRunStatement(
          env.DB,
          { orgId: flow.org_id, dataflowId: flow.id, runKey: run.key, trigger: 'schedule', scheduledTime: run.slot, audienceIds: run.audienceIds },
          now,
        );
        created.push({ runId: id, orgId: flow.org_id, at: statements.length });
        statements.push(statement);
      }
      if (due.missed > 0 && flow.alert_webhook && alertEventsOf(flow).has('run.delayed')) {
        const payload = { dataflowId: flow.id, reason: 'missedSlots', missedSlots: due.missed, at: now.toISOString() };
        statements.push(alertStatement(env.DB, { orgId: flow.org_id, dataflowId: flow.id, event: 'run.delayed', url: flow.alert_webhook, payload }, now));
      }
      statements.push(advanceStatement(env.DB, flow.id, now));
      missed += due.missed;
    }
    const results = await env.DB.batch(statements);
    for (const c of created) {
      // INSERT OR IGNORE changed nothing: another tick owns this slot.
      if (results[c.at]?.meta.changes !== 1) continue;
      await env.EXPORTS.send({ runId: c.runId, orgId: c.orgId });
      enqueued++;
    }
  }
  const resent = await resendStale(env, now);
  await lateRunAlerts(env, now);
  await purgeIdempotencyKeys(env.DB, now);
  await purgeHistory(env.DB, new Date(now.getTime() - retentionDays(env) * DAY_MS));
  await purgeEvaluations(env.DB, new Date(now.getTime() - retentionDays(env) * DAY_MS));
  await deliverAlerts(env, now, fetcher);
  return { enqueued, missed, resent };
}

/** When evaluations touching these audiences (of one dataflow) were closed after its last tick. */
function evaluationsOf(
  evaluations: readonly ClosedEvaluation[],
  orgId: string,
  audienceIds: readonly string[],
  lastTick: Date,
  now: Date,
): Date[] {
  const audiences = new Set(audienceIds);
  const times = new Set<number>();
  for (const e of evaluations) {
    const t = e.closedAt.getTime();
    if (e.orgId !== orgId || t <= lastTick.getTime() || t > now.getTime()) continue;
    if (e.audienceId === null || audiences.has(e.audienceId)) times.add(t);
  }
  return [...times].sort((a, b) => a - b).map((t) => new Date(t));
}

/**
 * Re-sends runs whose message was lost or whose consumer crashed (claimRun makes duplicates
 * harmless), and tasks of fanned-out runs likewise (claimTask): a task whose consumer died is
 * redone alone, by a new attempt; and reshardings whose step stalled (reshard.ts).
 */
async function resendStale(env: Env, now: Date): Promise<number> {
  const stale = await takeStaleRuns(env.DB, new Date(now.getTime() - STALE_QUEUED_MS), now);
  for (const run of stale) await env.EXPORTS.send({ runId: run.id, orgId: run.org_id });
  const tasks = await takeStaleTasks(env.DB, now);
  for (const task of tasks) await env.EXPORTS.send({ runId: task.run_id, orgId: task.org_id, task: task.seq });
  return stale.length + tasks.length + (await resendStaleReshards(env, now));
}
