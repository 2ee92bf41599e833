/**
 * Idempotency keys of webhook deliveries and "export now" calls. The key rows and the run they create
 * are written in one D1 batch (a transaction): the run is inserted only if every key row now names
 * this run, so the first delivery creates exactly one run and every replay or duplicate finds a key
 * taken and creates none (and claims nothing: the partial claims of a refused delivery are released
 * in the same batch).
 */
import { IDEMPOTENCY_TTL_SECONDS } from '../../core/security/webhook.ts';
import type { D1Database } from '../env.ts';
import { first, newId, run } from './db.ts';
import type { NewRun } from './runs.ts';

export type IdempotentRun =
  | { readonly created: true; readonly runId: string }
  | { readonly created: false; readonly runId: string | undefined };

/**
 * Creates the run for a request unless one of its idempotency keys was seen; says which run the
 * taken key belongs to. `keys`: one key, or several that must all be new (a webhook delivery claims
 * its signature and its Idempotency-Key).
 */
export async function createRunOnce(
  db: D1Database,
  input: Omit<NewRun, 'runKey'>,
  scope: string,
  keys: string | readonly string[],
  now: Date,
): Promise<IdempotentRun> {
  const claims = [...new Set(typeof keys === 'string' ? [keys] : keys)];
  const at = now.toISOString();
  const runId = newId('run');
  const marks = claims.map(() => '?').join(', ');
  await run(
    db,
    `DELETE FROM idempotency_keys WHERE org_id = ? AND scope = ? AND key IN (${marks}) AND expires_at < ?`,
    input.orgId,
    scope,
    ...claims,
    at,
  );
  const expires = new Date(now.getTime() + IDEMPOTENCY_TTL_SECONDS * 1000).toISOString();
  const results = await db.batch([
    ...claims.map((key) =>
      db
        .prepare(
          'INSERT OR IGNORE INTO idempotency_keys (org_id, scope, key, run_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .bind(input.orgId, scope, key, runId, at, expires),
    ),
    db
      .prepare(
        `INSERT INTO runs (id, org_id, dataflow_id, run_key, trigger, status, scheduled_time, created_at, sent_at)
         SELECT ?, ?, ?, ?, ?, 'queued', ?, ?, ?
         WHERE (SELECT COUNT(*) FROM idempotency_keys WHERE org_id = ? AND scope = ? AND run_id = ?) = ?`,
      )
      .bind(
        runId,
        input.orgId,
        input.dataflowId,
        `${input.dataflowId}:${input.trigger}:${runId}`,
        input.trigger,
        input.scheduledTime.toISOString(),
        at,
        at,
        input.orgId,
        scope,
        runId,
        claims.length,
      ),
    // A refused request keeps none of its claims: a later, genuine request with that key still counts.
    db
      .prepare('DELETE FROM idempotency_keys WHERE org_id = ? AND scope = ? AND run_id = ? AND NOT EXISTS (SELECT 1 FROM runs WHERE id = ?)')
      .bind(input.orgId, scope, runId, runId),
  ]);
  if (results[claims.length]?.meta.changes === 1) return { created: true, runId };
  const owner = await first<{ run_id: string }>(
    db,
    `SELECT run_id FROM idempotency_keys WHERE org_id = ? AND scope = ? AND key IN (${marks}) LIMIT 1`,
    input.orgId,
    scope,
    ...claims,
  );
  return { created: false, runId: owner?.run_id };
}

/** Drops expired keys (run by the cron). */
export async function purgeIdempotencyKeys(db: D1Database, now: Date): Promise<number> {
  return run(db, 'DELETE FROM idempotency_keys WHERE expires_at < ?', now.toISOString());
}
