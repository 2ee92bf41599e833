/**
 * Idempotency keys of webhook deliveries. The key row and the run it creates are written in one D1
 * batch (a transaction): the run is inserted only if the key row now names this run, so the first
 * delivery creates exactly one run and every replay or duplicate finds the key taken and creates none.
 */
import { IDEMPOTENCY_TTL_SECONDS } from '../../core/security/webhook.ts';
import type { D1Database } from '../env.ts';
import { first, newId, run } from './db.ts';
import type { NewRun } from './runs.ts';

export type IdempotentRun =
  | { readonly created: true; readonly runId: string }
  | { readonly created: false; readonly runId: string | undefined };

/** Creates the run for a delivery unless its idempotency key was seen; says which run the key belongs to. */
export async function createRunOnce(
  db: D1Database,
  input: Omit<NewRun, 'runKey'>,
  scope: string,
  key: string,
  now: Date,
): Promise<IdempotentRun> {
  const at = now.toISOString();
  const runId = newId('run');
  await run(
    db,
    'DELETE FROM idempotency_keys WHERE org_id = ? AND scope = ? AND key = ? AND expires_at < ?',
    input.orgId,
    scope,
    key,
    at,
  );
  const expires = new Date(now.getTime() + IDEMPOTENCY_TTL_SECONDS * 1000).toISOString();
  const [claim, created] = await db.batch([
    db
      .prepare(
        'INSERT OR IGNORE INTO idempotency_keys (org_id, scope, key, run_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .bind(input.orgId, scope, key, runId, at, expires),
    db
      .prepare(
        `INSERT INTO runs (id, org_id, dataflow_id, run_key, trigger, status, scheduled_time, created_at, sent_at)
         SELECT ?, ?, ?, ?, ?, 'queued', ?, ?, ?
         WHERE EXISTS (SELECT 1 FROM idempotency_keys WHERE org_id = ? AND scope = ? AND key = ? AND run_id = ?)`,
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
        key,
        runId,
      ),
  ]);
  if (claim?.meta.changes === 1 && created?.meta.changes === 1) return { created: true, runId };
  const owner = await first<{ run_id: string }>(
    db,
    'SELECT run_id FROM idempotency_keys WHERE org_id = ? AND scope = ? AND key = ?',
    input.orgId,
    scope,
    key,
  );
  return { created: false, runId: owner?.run_id };
}

/** Drops expired keys (run by the cron). */
export async function purgeIdempotencyKeys(db: D1Database, now: Date): Promise<number> {
  return run(db, 'DELETE FROM idempotency_keys WHERE expires_at < ?', now.toISOString());
}
