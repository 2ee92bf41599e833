/**
 * Audience evaluations as events. Profile ingest keeps one open evaluation per organization (its
 * time moves forward with each batch) until a cron tick closes it, so a bulk load is one
 * evaluation; a committed custom upload or `POST /v1/audiences/{id}/evaluate` records one for that
 * audience. Each tick closes every open evaluation first, then runs each "afterEvaluation"
 * dataflow once for the evaluations it closed that touch the dataflow's audiences.
 */
import type { D1Database } from '../env.ts';
import { all, newId, run } from './db.ts';

export type EvaluationSource = 'ingest' | 'upload' | 'api';

/** Profiles changed: every audience of the organization is evaluated again (coalesced until a tick). */
export async function recordIngestEvaluation(db: D1Database, orgId: string, now: Date): Promise<void> {
  const at = now.toISOString();
  const moved = await run(
    db,
    "UPDATE evaluations SET evaluated_at = ? WHERE org_id = ? AND source = 'ingest' AND closed_at IS NULL",
    at,
    orgId,
  );
  if (moved === 0) {
    await run(
      db,
      "INSERT INTO evaluations (id, org_id, audience_id, source, evaluated_at) VALUES (?, ?, NULL, 'ingest', ?)",
      newId('evl'),
      orgId,
      at,
    );
  }
}

/** One audience evaluated (an upload committed, or an explicit request); returns the evaluation id. */
export async function recordEvaluation(
  db: D1Database,
  orgId: string,
  audienceId: string,
  source: Exclude<EvaluationSource, 'ingest'>,
  now: Date,
): Promise<string> {
  const id = newId('evl');
  await run(
    db,
    'INSERT INTO evaluations (id, org_id, audience_id, source, evaluated_at) VALUES (?, ?, ?, ?, ?)',
    id,
    orgId,
    audienceId,
    source,
    now.toISOString(),
  );
  return id;
}

/** Closes every open evaluation at the tick's time: they belong to this tick's runs. */
export async function closeEvaluations(db: D1Database, now: Date): Promise<void> {
  await run(db, 'UPDATE evaluations SET closed_at = ? WHERE closed_at IS NULL AND evaluated_at <= ?', now.toISOString(), now.toISOString());
}

/** An evaluation a cron tick closed: of one audience, or (null) of every audience of the organization. */
export interface ClosedEvaluation {
  readonly orgId: string;
  readonly audienceId: string | null;
  readonly closedAt: Date;
}

/** Evaluations closed in (after, through], of every organization, in one query. */
export async function closedEvaluations(db: D1Database, after: Date, through: Date): Promise<ClosedEvaluation[]> {
  const rows = await all<{ org_id: string; closed_at: string; audience_id: string | null }>(
    db,
    'SELECT DISTINCT org_id, closed_at, audience_id FROM evaluations WHERE closed_at > ? AND closed_at <= ? ORDER BY closed_at',
    after.toISOString(),
    through.toISOString(),
  );
  return rows.map((r) => ({ orgId: r.org_id, audienceId: r.audience_id, closedAt: new Date(r.closed_at) }));
}

/** Drops evaluations closed before `before` (the cron's retention). */
export async function purgeEvaluations(db: D1Database, before: Date): Promise<void> {
  await run(db, 'DELETE FROM evaluations WHERE closed_at IS NOT NULL AND closed_at < ?', before.toISOString());
}
