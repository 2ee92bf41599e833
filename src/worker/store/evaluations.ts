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

/** When evaluations touching `audienceIds` were closed in (after, through], oldest first. */
export async function evaluationTimes(
  db: D1Database,
  orgId: string,
  audienceIds: readonly string[],
  after: Date,
  through: Date,
): Promise<Date[]> {
  const rows = await all<{ closed_at: string; audience_id: string | null }>(
    db,
    'SELECT DISTINCT closed_at, audience_id FROM evaluations WHERE org_id = ? AND closed_at > ? AND closed_at <= ? ORDER BY closed_at',
    orgId,
    after.toISOString(),
    through.toISOString(),
  );
  const mine = new Set(audienceIds);
  return rows.filter((r) => r.audience_id === null || mine.has(r.audience_id)).map((r) => new Date(r.closed_at));
}

/** Drops evaluations closed before `before` (the cron's retention). */
export async function purgeEvaluations(db: D1Database, before: Date): Promise<void> {
  await run(db, 'DELETE FROM evaluations WHERE closed_at IS NOT NULL AND closed_at < ?', before.toISOString());
}
