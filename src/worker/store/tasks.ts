/**
 * The tasks of a fanned-out run in D1 (`run_tasks`, docs/SNAPSHOTS.md "Fan-out"): one unit of the
 * run's snapshot each. A task is claimed with a lease (attempt + 1) like a run; only the claim that
 * holds it may finish it (its writes are fenced by its attempt), so a task killed mid-way and claimed
 * again is redone alone and the killed attempt's late writes change nothing. The run waits `running`
 * without a lease while its tasks map; the task that completes the set puts the run back in the queue
 * (one conditional update: exactly one of them, or the run releasing its lease, does it).
 */
import type { D1Database } from '../env.ts';
import { all, first, run } from './db.ts';
import { LEASE_SECONDS } from './runs.ts';

export type TaskStatus = 'pending' | 'running' | 'done' | 'failed';

export interface TaskRow {
  run_id: string;
  seq: number;
  org_id: string;
  /** JSON: the task's unit (see fanout.ts `TaskUnit`). */
  unit: string;
  status: TaskStatus;
  attempt: number;
  lease_until: string | null;
  /** JSON: what the task left for the reduce (see fanout.ts `TaskResult`). */
  result: string | null;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
}

/**
 * How long a task stays pending before the cron sends its message again (the message may be lost),
 * and how long after the cron re-sent a task it may be re-sent again.
 */
export const TASK_RESEND_MS = 5 * 60_000;

/** Task rows inserted per D1 batch (a batch is one query of the invocation's budget). */
const TASKS_PER_BATCH = 100;

const iso = (ms: number) => new Date(ms).toISOString();

/** Writes the run's tasks (pending), a batch of rows per query. */
export async function insertTasks(db: D1Database, orgId: string, runId: string, units: readonly string[], now: Date): Promise<void> {
  const resendAt = iso(now.getTime() + TASK_RESEND_MS);
  for (let i = 0; i < units.length; i += TASKS_PER_BATCH) {
    await db.batch(
      units.slice(i, i + TASKS_PER_BATCH).map((unit, k) =>
        db
          .prepare("INSERT OR IGNORE INTO run_tasks (run_id, seq, org_id, unit, status, lease_until) VALUES (?, ?, ?, ?, 'pending', ?)")
          .bind(runId, i + k, orgId, unit, resendAt),
      ),
    );
  }
}

/** How far a run's tasks are: how many, how many done, and the first failed one's error. */
export async function taskProgress(db: D1Database, runId: string): Promise<{ total: number; done: number; failed?: string }> {
  const rows = await all<{ status: TaskStatus; n: number; error: string | null }>(
    db,
    'SELECT status, COUNT(*) AS n, MIN(error) AS error FROM run_tasks WHERE run_id = ? GROUP BY status',
    runId,
  );
  let total = 0;
  let done = 0;
  let failed: string | undefined;
  for (const row of rows) {
    total += row.n;
    if (row.status === 'done') done += row.n;
    if (row.status === 'failed') failed = row.error ?? '{}';
  }
  return { total, done, ...(failed !== undefined && { failed }) };
}

/**
 * Claims a task for this consumer: a pending one, or a running one whose lease expired (its
 * consumer died). Only while its run is running. Returns the claimed row (attempt already counted),
 * or undefined: done, held by another consumer, or its run is over (a duplicate message does nothing).
 */
export async function claimTask(db: D1Database, orgId: string, runId: string, seq: number, now: Date): Promise<TaskRow | undefined> {
  const changes = await run(
    db,
    `UPDATE run_tasks SET status = 'running', attempt = attempt + 1, lease_until = ?, error = NULL, started_at = COALESCE(started_at, ?)
     WHERE org_id = ? AND run_id = ? AND seq = ? AND (status = 'pending' OR (status = 'running' AND lease_until < ?))
       AND EXISTS (SELECT 1 FROM runs WHERE runs.id = run_tasks.run_id AND runs.status = 'running')`,
    iso(now.getTime() + LEASE_SECONDS * 1000),
    now.toISOString(),
    orgId,
    runId,
    seq,
    now.toISOString(),
  );
  if (changes !== 1) return undefined;
  return first<TaskRow>(db, 'SELECT * FROM run_tasks WHERE run_id = ? AND seq = ?', runId, seq);
}

/** Fenced: the task as claimed by attempt `attempt`, still running. */
const held = `run_id = ? AND seq = ? AND attempt = ? AND status = 'running'`;

/** Renews the lease of a task this consumer holds; false when it lost it (another attempt took over). */
export async function renewTask(db: D1Database, runId: string, seq: number, attempt: number, now: Date): Promise<boolean> {
  return (await run(db, `UPDATE run_tasks SET lease_until = ? WHERE ${held}`, iso(now.getTime() + LEASE_SECONDS * 1000), runId, seq, attempt)) === 1;
}

/** Records a task's result and marks it done (only the attempt holding it, while its run runs). */
export async function finishTask(db: D1Database, runId: string, seq: number, attempt: number, result: unknown, now: Date): Promise<boolean> {
  const changes = await run(
    db,
    `UPDATE run_tasks SET status = 'done', result = ?, lease_until = NULL, finished_at = ? WHERE ${held}
       AND EXISTS (SELECT 1 FROM runs WHERE runs.id = run_tasks.run_id AND runs.status = 'running')`,
    JSON.stringify(result),
    now.toISOString(),
    runId,
    seq,
    attempt,
  );
  return changes === 1;
}

/** A task that failed on a retryable error goes back to pending (its message is retried by the queue). */
export async function requeueTask(db: D1Database, runId: string, seq: number, attempt: number, error: unknown, now: Date): Promise<boolean> {
  const changes = await run(
    db,
    `UPDATE run_tasks SET status = 'pending', error = ?, lease_until = ? WHERE ${held}`,
    JSON.stringify(error),
    iso(now.getTime() + TASK_RESEND_MS),
    runId,
    seq,
    attempt,
  );
  return changes === 1;
}

/** A task that failed for good. */
export async function failTask(db: D1Database, runId: string, seq: number, attempt: number, error: unknown, now: Date): Promise<boolean> {
  const changes = await run(
    db,
    `UPDATE run_tasks SET status = 'failed', error = ?, lease_until = NULL, finished_at = ? WHERE ${held}`,
    JSON.stringify(error),
    now.toISOString(),
    runId,
    seq,
    attempt,
  );
  return changes === 1;
}

const ALL_DONE = `NOT EXISTS (SELECT 1 FROM run_tasks t WHERE t.run_id = runs.id AND t.status <> 'done')`;

/**
 * The task completing the set puts its run back in the queue: the run must be waiting (running, no
 * lease) with every task done. True for the one caller that did it; it sends the run's message.
 */
export async function releaseRunIfDone(db: D1Database, runId: string, now: Date): Promise<boolean> {
  const changes = await run(
    db,
    `UPDATE runs SET status = 'queued', sent_at = ? WHERE id = ? AND status = 'running' AND lease_until IS NULL AND ${ALL_DONE}`,
    now.toISOString(),
    runId,
  );
  return changes === 1;
}

/**
 * The run fanned out (claimed as attempt `attempt`): it gives up its lease and waits for its tasks —
 * or, if they all finished meanwhile (none could release it while it held the lease), goes back to
 * the queue at once. Returns 'queued' when the caller must send the run's message, 'waiting' when a
 * task will, undefined when the claim was lost.
 */
export async function awaitTasks(db: D1Database, runId: string, attempt: number, now: Date): Promise<'queued' | 'waiting' | undefined> {
  const changes = await run(
    db,
    `UPDATE runs SET lease_until = NULL, status = CASE WHEN ${ALL_DONE} THEN 'queued' ELSE 'running' END, sent_at = ?
     WHERE id = ? AND status = 'running' AND attempts = ?`,
    now.toISOString(),
    runId,
    attempt,
  );
  if (changes !== 1) return undefined;
  const row = await first<{ status: string }>(db, 'SELECT status FROM runs WHERE id = ?', runId);
  return row?.status === 'queued' ? 'queued' : 'waiting';
}

/** Fails a run waiting for its tasks (a task failed for good). False when it was not waiting any more. */
export async function failWaitingRun(db: D1Database, runId: string, error: unknown, now: Date): Promise<boolean> {
  const changes = await run(
    db,
    `UPDATE runs SET status = 'failed', error = ?, checkpoint = NULL, lease_until = NULL, finished_at = ?
     WHERE id = ? AND status = 'running' AND lease_until IS NULL`,
    JSON.stringify(error),
    now.toISOString(),
    runId,
  );
  return changes === 1;
}

/** A fanned-out run's figures, summed over its tasks (undefined for a run that was not fanned out). */
export async function fanoutFigures(
  db: D1Database,
  runId: string,
): Promise<{ tasks: number; done: number; attempts: number; bytesFetched: number; requests: number; rowsRead: number } | undefined> {
  const row = await first<{ tasks: number; done: number | null; attempts: number | null; bytes: number | null; requests: number | null; rows: number | null }>(
    db,
    `SELECT COUNT(*) AS tasks, SUM(status = 'done') AS done, SUM(attempt) AS attempts,
       SUM(json_extract(result, '$.read.bytesFetched')) AS bytes, SUM(json_extract(result, '$.read.requests')) AS requests,
       SUM(json_extract(result, '$.read.rows')) AS rows
     FROM run_tasks WHERE run_id = ?`,
    runId,
  );
  if (!row || row.tasks === 0) return undefined;
  return {
    tasks: row.tasks,
    done: row.done ?? 0,
    attempts: row.attempts ?? 0,
    bytesFetched: row.bytes ?? 0,
    requests: row.requests ?? 0,
    rowsRead: row.rows ?? 0,
  };
}

/** Every task of a run, in order (the reduce reads their results). */
export function listTasks(db: D1Database, runId: string): Promise<TaskRow[]> {
  return all<TaskRow>(db, 'SELECT * FROM run_tasks WHERE run_id = ? ORDER BY seq', runId);
}

/**
 * Tasks whose message seems lost — pending past their re-send time — or whose consumer died — running
 * with an expired lease —, of runs still running: each goes (back) to pending with a new re-send time,
 * by a conditional update so overlapping ticks take it once. The caller sends their messages.
 */
export async function takeStaleTasks(db: D1Database, now: Date): Promise<{ run_id: string; org_id: string; seq: number }[]> {
  const candidates = await all<{ run_id: string; org_id: string; seq: number; lease_until: string }>(
    db,
    `SELECT t.run_id, t.org_id, t.seq, t.lease_until FROM run_tasks t JOIN runs r ON r.id = t.run_id
     WHERE t.status IN ('pending', 'running') AND t.lease_until < ? AND r.status = 'running' LIMIT 100`,
    now.toISOString(),
  );
  const taken: { run_id: string; org_id: string; seq: number }[] = [];
  for (const c of candidates) {
    const changes = await run(
      db,
      `UPDATE run_tasks SET status = 'pending', lease_until = ? WHERE run_id = ? AND seq = ? AND lease_until = ? AND status IN ('pending', 'running')`,
      iso(now.getTime() + TASK_RESEND_MS),
      c.run_id,
      c.seq,
      c.lease_until,
    );
    if (changes === 1) taken.push({ run_id: c.run_id, org_id: c.org_id, seq: c.seq });
  }
  return taken;
}

/** The spill subject of a task attempt's sorted run of one audience (`export_spill.subject_id`). */
export function taskSpillKey(seq: number, attempt: number, subjectId: string): string {
  return `task:${seq}.${attempt}:${subjectId}`;
}

/** Drops what one task spilled: every attempt's (a retried task starts clean), or one attempt's. */
export async function dropTaskSpills(db: D1Database, orgId: string, runId: string, seq: number, attempt?: number): Promise<void> {
  const pattern = attempt === undefined ? `task:${seq}.%` : `task:${seq}.${attempt}:%`;
  await run(db, 'DELETE FROM export_spill WHERE org_id = ? AND run_id = ? AND subject_id LIKE ?', orgId, runId, pattern);
}

/** Drops what an earlier attempt of a run's reduce spilled, keeping its tasks' sorted runs. */
export async function dropReduceSpills(db: D1Database, orgId: string, runId: string): Promise<void> {
  await run(db, "DELETE FROM export_spill WHERE org_id = ? AND run_id = ? AND subject_id NOT LIKE 'task:%'", orgId, runId);
}
