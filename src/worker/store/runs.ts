/**
 * Runs in D1. A run is created with INSERT OR IGNORE on its unique run key, so whoever inserts first
 * owns the slot (or the delivery) and everyone else learns it already exists: exactly once, with no
 * lock. A consumer claims a run with a lease; a redelivered message may take over only an expired one.
 */
import type { D1Database, D1PreparedStatement } from '../env.ts';
import { all, first, newId, run } from './db.ts';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';
export type RunTrigger = 'schedule' | 'webhook' | 'api';

export interface RunRow {
  id: string;
  org_id: string;
  dataflow_id: string;
  run_key: string;
  trigger: RunTrigger;
  status: RunStatus;
  scheduled_time: string;
  /** JSON list of the audiences this run exports; null: all of its dataflow's. */
  audience_ids: string | null;
  rows_exported: number | null;
  rows_skipped: string | null;
  bytes: number | null;
  files: string | null;
  error: string | null;
  multipart: string | null;
  /** Where a run that outgrew one invocation stopped (JSON RunCheckpoint), until it finishes. */
  checkpoint: string | null;
  attempts: number;
  lease_until: string | null;
  sent_at: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface NewRun {
  readonly orgId: string;
  readonly dataflowId: string;
  readonly runKey: string;
  readonly trigger: RunTrigger;
  readonly scheduledTime: Date;
  /** The audiences it exports (a per-audience schedule's slot); absent: all of the dataflow's. */
  readonly audienceIds?: readonly string[] | undefined;
}

/** Inserts a queued run unless its key exists; returns the new run's id, or undefined when it existed. */
export async function insertRun(db: D1Database, input: NewRun, now: Date): Promise<string | undefined> {
  const { id, statement } = insertRunStatement(db, input, now);
  const changes = (await statement.run()).meta.changes;
  return changes === 1 ? id : undefined;
}

/** The INSERT OR IGNORE of a new run, for a batch (its result's `changes` is 1 when it was new). */
export function insertRunStatement(db: D1Database, input: NewRun, now: Date): { id: string; statement: D1PreparedStatement } {
  const id = newId('run');
  const statement = db
    .prepare(
      `INSERT OR IGNORE INTO runs (id, org_id, dataflow_id, run_key, trigger, status, scheduled_time, audience_ids, created_at, sent_at)
       VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
    )
    .bind(
      id,
      input.orgId,
      input.dataflowId,
      input.runKey,
      input.trigger,
      input.scheduledTime.toISOString(),
      input.audienceIds ? JSON.stringify(input.audienceIds) : null,
      now.toISOString(),
      now.toISOString(),
    );
  return { id, statement };
}

/**
 * The run of an "export now" (API trigger): a new queued run, unless one of the dataflow's API runs
 * is still queued and not started — that one will read the data as it is now, so it is the answer
 * (concurrent clicks make one run). One statement: two requests cannot both insert.
 */
export async function insertApiRun(db: D1Database, input: Omit<NewRun, 'runKey' | 'trigger'>, now: Date): Promise<{ id: string; created: boolean }> {
  const id = newId('run');
  const at = now.toISOString();
  const changes = await run(
    db,
    `INSERT INTO runs (id, org_id, dataflow_id, run_key, trigger, status, scheduled_time, created_at, sent_at)
     SELECT ?, ?, ?, ?, 'api', 'queued', ?, ?, ?
     WHERE NOT EXISTS (SELECT 1 FROM runs WHERE dataflow_id = ? AND trigger = 'api' AND status = 'queued' AND started_at IS NULL)`,
    id,
    input.orgId,
    input.dataflowId,
    `${input.dataflowId}:api:${id}`,
    input.scheduledTime.toISOString(),
    at,
    at,
    input.dataflowId,
  );
  if (changes === 1) return { id, created: true };
  const waiting = await first<{ id: string }>(
    db,
    `SELECT id FROM runs WHERE dataflow_id = ? AND trigger = 'api' AND status = 'queued' AND started_at IS NULL ORDER BY created_at LIMIT 1`,
    input.dataflowId,
  );
  // The waiting run started between the two statements: try once more.
  return waiting ? { id: waiting.id, created: false } : insertApiRun(db, input, now);
}

export function getRun(db: D1Database, orgId: string, id: string): Promise<RunRow | undefined> {
  return first<RunRow>(db, 'SELECT * FROM runs WHERE org_id = ? AND id = ?', orgId, id);
}

export function getRunByKey(db: D1Database, runKey: string): Promise<RunRow | undefined> {
  return first<RunRow>(db, 'SELECT * FROM runs WHERE run_key = ?', runKey);
}

export function runsOfDataflow(db: D1Database, orgId: string, dataflowId: string): Promise<RunRow[]> {
  return all<RunRow>(
    db,
    'SELECT * FROM runs WHERE org_id = ? AND dataflow_id = ? ORDER BY created_at DESC, id DESC',
    orgId,
    dataflowId,
  );
}

/**
 * How long a consumer owns a running run without renewing its lease. The consumer renews it every
 * HEARTBEAT_SECONDS while the run executes, so only a crashed consumer (a host killed, an isolate
 * evicted) lets it expire; the cron tick then sends the run again and a new consumer resumes it.
 */
export const LEASE_SECONDS = 30;
/** How often a consumer renews the lease of the run it executes. */
export const HEARTBEAT_SECONDS = 10;

/**
 * Another run of the same dataflow in flight: started and not finished (running, a run paused
 * between invocations, or one waiting for a retry). A dataflow runs one run at a time: its runs
 * share state, and their files the same names.
 */
const IN_FLIGHT_SIBLING = `EXISTS (SELECT 1 FROM runs o WHERE o.dataflow_id = runs.dataflow_id AND o.id <> runs.id
  AND o.started_at IS NOT NULL AND o.status IN ('queued', 'running'))`;

/**
 * Claims a queued run (or a running one whose lease expired, after a crash) for this consumer —
 * unless another run of its dataflow is in flight. Returns false when another consumer holds it, it
 * already finished (a duplicate message is a no-op), or it must wait (`waitingFor` says for which).
 */
export async function claimRun(db: D1Database, orgId: string, id: string, now: Date): Promise<boolean> {
  const lease = new Date(now.getTime() + LEASE_SECONDS * 1000).toISOString();
  const changes = await run(
    db,
    `UPDATE runs SET status = 'running', attempts = attempts + 1, lease_until = ?, started_at = COALESCE(started_at, ?)
     WHERE org_id = ? AND id = ? AND (status = 'queued' OR (status = 'running' AND lease_until < ?)) AND NOT ${IN_FLIGHT_SIBLING}`,
    lease,
    now.toISOString(),
    orgId,
    id,
    now.toISOString(),
  );
  return changes === 1;
}

/** The run of the same dataflow that a queued, unclaimed run waits for, if any. */
export async function waitingFor(db: D1Database, orgId: string, id: string): Promise<string | undefined> {
  const row = await first<{ id: string }>(
    db,
    `SELECT o.id FROM runs r JOIN runs o ON o.dataflow_id = r.dataflow_id AND o.id <> r.id
     WHERE r.org_id = ? AND r.id = ? AND r.status = 'queued' AND o.started_at IS NOT NULL AND o.status IN ('queued', 'running')
     LIMIT 1`,
    orgId,
    id,
  );
  return row?.id;
}

/**
 * Renews the lease of a run this consumer holds (claimed as attempt `attempt`). False when the
 * lease was lost — another consumer took the run over — and this one must stop.
 */
export async function renewLease(db: D1Database, id: string, attempt: number, now: Date): Promise<boolean> {
  const lease = new Date(now.getTime() + LEASE_SECONDS * 1000).toISOString();
  const changes = await run(
    db,
    `UPDATE runs SET lease_until = ? WHERE id = ? AND status = 'running' AND attempts = ?`,
    lease,
    id,
    attempt,
  );
  return changes === 1;
}

export interface RunOutcome {
  readonly rows: number;
  /** Rows skipped, by reason (missing mandatory attribute, duplicate key, …). */
  readonly skipped: Readonly<Record<string, number>>;
  readonly bytes: number;
  readonly files: readonly unknown[];
}

/**
 * The consumer's writes of a run's outcome take `attempt` (the claim they follow): they change the
 * run only while that claim holds, and return false when another consumer took the run over.
 */
const fence = (attempt: number | undefined) => (attempt === undefined ? '' : ` AND status = 'running' AND attempts = ${Math.trunc(attempt)}`);

export async function succeedRun(db: D1Database, id: string, outcome: RunOutcome, now: Date, attempt?: number): Promise<boolean> {
  const changes = await run(
    db,
    `UPDATE runs SET status = 'succeeded', rows_exported = ?, rows_skipped = ?, bytes = ?, files = ?, error = NULL,
       multipart = NULL, checkpoint = NULL, lease_until = NULL, finished_at = ? WHERE id = ?${fence(attempt)}`,
    outcome.rows,
    JSON.stringify(outcome.skipped),
    outcome.bytes,
    JSON.stringify(outcome.files),
    now.toISOString(),
    id,
  );
  return changes === 1;
}

/** The dataflow's run created last before `run` that has finished (succeeded or failed), if any. */
export function previousFinishedRun(db: D1Database, run: Pick<RunRow, 'org_id' | 'dataflow_id' | 'created_at' | 'id'>): Promise<Pick<RunRow, 'id' | 'status'> | undefined> {
  return first<Pick<RunRow, 'id' | 'status'>>(
    db,
    `SELECT id, status FROM runs WHERE org_id = ? AND dataflow_id = ? AND created_at <= ? AND id != ?
       AND status IN ('succeeded', 'failed') ORDER BY created_at DESC LIMIT 1`,
    run.org_id,
    run.dataflow_id,
    run.created_at,
    run.id,
  );
}

export async function failRun(
  db: D1Database,
  id: string,
  error: Record<string, unknown>,
  now: Date,
  attempt?: number,
): Promise<boolean> {
  const sql = `UPDATE runs SET status = 'failed', error = ?, checkpoint = NULL, lease_until = NULL, finished_at = ? WHERE id = ?${fence(attempt)}`;
  return (await run(db, sql, JSON.stringify(error), now.toISOString(), id)) === 1;
}

/** Puts a run back in the queue after a retryable failure (the message is retried by the queue). */
export async function requeueRun(db: D1Database, id: string, error: Record<string, unknown>, attempt?: number): Promise<boolean> {
  const changes = await run(
    db,
    `UPDATE runs SET status = 'queued', error = ?, lease_until = NULL WHERE id = ?${fence(attempt)}`,
    JSON.stringify(error),
    id,
  );
  return changes === 1;
}

/**
 * A run that outgrew its invocation goes back to the queue with its checkpoint: the next message
 * claims it as a queued run and goes on from there.
 */
export async function continueRun(db: D1Database, id: string, checkpoint: unknown, now: Date, attempt?: number): Promise<boolean> {
  const changes = await run(
    db,
    `UPDATE runs SET status = 'queued', checkpoint = ?, lease_until = NULL, sent_at = ? WHERE id = ?${fence(attempt)}`,
    JSON.stringify(checkpoint),
    now.toISOString(),
    id,
  );
  return changes === 1;
}

/** Persists in-flight multipart uploads of a run (upload id + part ETags), so a crash resumes them. */
export async function saveMultipart(db: D1Database, id: string, state: unknown): Promise<void> {
  await run(db, 'UPDATE runs SET multipart = ? WHERE id = ?', JSON.stringify(state), id);
}

/**
 * Runs whose message seems lost: queued and last sent before `before`, or running with an expired
 * lease (a crashed consumer; not sent again within the last lease). Each is marked sent at `now`
 * with a conditional update, so overlapping ticks re-send a run once.
 */
export async function takeStaleRuns(
  db: D1Database,
  before: Date,
  now: Date,
): Promise<{ id: string; org_id: string }[]> {
  const candidates = await all<{ id: string; org_id: string; sent_at: string | null }>(
    db,
    `SELECT id, org_id, sent_at FROM runs
     WHERE (status = 'queued' AND COALESCE(sent_at, created_at) < ?) OR (status = 'running' AND lease_until < ? AND COALESCE(sent_at, created_at) < ?)
     LIMIT 100`,
    before.toISOString(),
    now.toISOString(),
    new Date(now.getTime() - LEASE_SECONDS * 1000).toISOString(),
  );
  const taken: { id: string; org_id: string }[] = [];
  for (const c of candidates) {
    const changes = await run(
      db,
      'UPDATE runs SET sent_at = ? WHERE id = ? AND sent_at IS ?',
      now.toISOString(),
      c.id,
      c.sent_at,
    );
    if (changes === 1) taken.push({ id: c.id, org_id: c.org_id });
  }
  return taken;
}

/**
 * Deletes finished runs (succeeded or failed) created before `before`, at most `limit` per call,
 * and the delivered alerts of the same age: run history is kept for the retention period, not for
 * ever (about 1.3 MiB of D1 per 1,000 runs). Queued and running runs are never touched, and a past
 * slot is never scheduled again (dataflows remember how far they were scheduled), so its run key is
 * not needed any more.
 */
export async function purgeHistory(
  db: D1Database,
  before: Date,
  limit = 1000,
): Promise<{ runs: number; alerts: number }> {
  const cutoff = before.toISOString();
  const runs = await run(
    db,
    `DELETE FROM runs WHERE id IN (
       SELECT id FROM runs WHERE status IN ('succeeded', 'failed') AND created_at < ? LIMIT ?)`,
    cutoff,
    limit,
  );
  const alerts = await run(
    db,
    'DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE delivered_at IS NOT NULL AND created_at < ? LIMIT ?)',
    cutoff,
    limit,
  );
  return { runs, alerts };
}
