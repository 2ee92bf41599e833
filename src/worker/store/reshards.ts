/**
 * Reshardings in D1 (`org_reshards`, migration 0015; docs/SCALE.md "Resharding"): one row per
 * organization, its latest growth. The row is the lock (a second growth is refused while one is not
 * done) and the job's checkpoint: every step moves `position` with a compare-and-set, so a duplicate
 * message or a retried invocation that finds the row moved on stops, and repeating a step is harmless
 * (copies insert only missing profiles; cleanups delete what is left).
 */
import type { BucketMove } from '../shards/grow.ts';
import type { ShardLayout, ShardOwner } from '../shards/types.ts';
import type { D1Database } from '../env.ts';
import { first, json, run } from './db.ts';

export type ReshardState = 'copying' | 'cleanup' | 'done';

/** Where a resharding is: the move (index into `moves`) and, while copying, the last profile id copied of it. */
export interface ReshardPosition {
  readonly move: number;
  readonly after: string | null;
}

export interface Reshard {
  readonly orgId: string;
  /** The layout generation grown (0: from the single-database layout). */
  readonly generation: number;
  readonly source: 'shards' | 'd1';
  readonly next: readonly ShardOwner[];
  readonly moves: readonly BucketMove[];
  readonly state: ReshardState;
  readonly position: ReshardPosition;
  /** The position as stored: the compare-and-set of the next step's checkpoint. */
  readonly positionText: string;
  readonly copied: number;
  readonly inserted: number;
  readonly deleted: number;
  readonly error: unknown;
  readonly startedAt: string;
  readonly flippedAt: string | null;
  readonly finishedAt: string | null;
  readonly updatedAt: string;
}

interface ReshardRow {
  org_id: string;
  generation: number;
  source: 'shards' | 'd1';
  next: string;
  moves: string;
  state: ReshardState;
  position: string;
  copied: number;
  inserted: number;
  deleted: number;
  error: string | null;
  started_at: string;
  flipped_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

const START: ReshardPosition = { move: 0, after: null };

/** The organization's latest resharding, if it ever had one. */
export async function getReshard(db: D1Database, orgId: string): Promise<Reshard | undefined> {
  const row = await first<ReshardRow>(db, 'SELECT * FROM org_reshards WHERE org_id = ?', orgId);
  if (!row) return undefined;
  return {
    orgId: row.org_id,
    generation: row.generation,
    source: row.source,
    next: json<ShardOwner[]>(row.next)!,
    moves: json<BucketMove[]>(row.moves)!,
    state: row.state,
    position: json<ReshardPosition>(row.position)!,
    positionText: row.position,
    copied: row.copied,
    inserted: row.inserted,
    deleted: row.deleted,
    error: json(row.error) ?? null,
    startedAt: row.started_at,
    flippedAt: row.flipped_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Starts a resharding: its row (copying), unless one is copying or cleaning up (false: refused). For
 * `source: 'shards'` the layout's `next` is set in the same batch, only if the layout is still `layout`.
 */
export async function startReshard(
  db: D1Database,
  orgId: string,
  input: { generation: number; source: 'shards' | 'd1'; next: readonly ShardOwner[]; moves: readonly BucketMove[]; layout?: ShardLayout },
  now: Date,
): Promise<boolean> {
  const at = now.toISOString();
  const claimed = await run(
    db,
    `INSERT INTO org_reshards (org_id, generation, source, next, moves, state, position, started_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'copying', ?, ?, ?)
     ON CONFLICT (org_id) DO UPDATE SET generation = excluded.generation, source = excluded.source, next = excluded.next,
       moves = excluded.moves, state = 'copying', position = excluded.position, copied = 0, inserted = 0, deleted = 0,
       error = NULL, started_at = excluded.started_at, flipped_at = NULL, finished_at = NULL, updated_at = excluded.updated_at
     WHERE org_reshards.state = 'done'`,
    orgId,
    input.generation,
    input.source,
    JSON.stringify(input.next),
    JSON.stringify(input.moves),
    JSON.stringify(START),
    at,
    at,
  );
  if (claimed !== 1) return false;
  if (input.layout === undefined) return true;
  const grown: ShardLayout = { ...input.layout, next: input.next };
  const set = await run(
    db,
    'UPDATE org_shards SET layout = ?, updated_at = ? WHERE org_id = ? AND layout = ?',
    JSON.stringify(grown),
    at,
    orgId,
    JSON.stringify(input.layout),
  );
  if (set === 1) return true;
  // The layout changed since it was read: the resharding never started.
  await run(db, "DELETE FROM org_reshards WHERE org_id = ? AND state = 'copying' AND started_at = ?", orgId, at);
  return false;
}

/** Moves a step's checkpoint on (false: another invocation moved it first, or the resharding is over). */
export async function checkpointReshard(
  db: D1Database,
  reshard: Reshard,
  position: ReshardPosition,
  counts: { copied?: number; inserted?: number; deleted?: number },
  now: Date,
): Promise<boolean> {
  return (
    (await run(
      db,
      `UPDATE org_reshards SET position = ?, copied = copied + ?, inserted = inserted + ?, deleted = deleted + ?, error = NULL, updated_at = ?
       WHERE org_id = ? AND generation = ? AND state = ? AND position = ?`,
      JSON.stringify(position),
      counts.copied ?? 0,
      counts.inserted ?? 0,
      counts.deleted ?? 0,
      now.toISOString(),
      reshard.orgId,
      reshard.generation,
      reshard.state,
      reshard.positionText,
    )) === 1
  );
}

/**
 * The flip, once every move is copied: in one batch the layout becomes `next` (generation + 1, no
 * `next`) and the resharding goes to cleanup. Both statements write the same thing whoever runs them,
 * so a duplicate flip changes nothing.
 */
export async function flipReshard(db: D1Database, reshard: Reshard, now: Date): Promise<void> {
  const at = now.toISOString();
  const layout: ShardLayout = { version: 1, generation: reshard.generation + 1, shards: reshard.next };
  await db.batch([
    db
      .prepare(
        `UPDATE org_reshards SET state = 'cleanup', position = ?, flipped_at = ?, updated_at = ?
         WHERE org_id = ? AND generation = ? AND state = 'copying'`,
      )
      .bind(JSON.stringify(START), at, at, reshard.orgId, reshard.generation),
    reshard.source === 'd1'
      ? db.prepare('INSERT OR IGNORE INTO org_shards (org_id, layout, updated_at) VALUES (?, ?, ?)').bind(reshard.orgId, JSON.stringify(layout), at)
      : db
          .prepare("UPDATE org_shards SET layout = ?, updated_at = ? WHERE org_id = ? AND json_extract(layout, '$.generation') = ?")
          .bind(JSON.stringify(layout), at, reshard.orgId, reshard.generation),
  ]);
}

/** The resharding is over (its cleanup done). */
export async function finishReshard(db: D1Database, reshard: Reshard, now: Date): Promise<void> {
  await run(
    db,
    "UPDATE org_reshards SET state = 'done', finished_at = ?, updated_at = ? WHERE org_id = ? AND generation = ? AND state = 'cleanup'",
    now.toISOString(),
    now.toISOString(),
    reshard.orgId,
    reshard.generation,
  );
}

/** Records a step's failure on the row (shown by GET …/shards); the step is retried. */
export async function reshardFailed(db: D1Database, orgId: string, generation: number, error: unknown, now: Date): Promise<void> {
  await run(
    db,
    "UPDATE org_reshards SET error = ?, updated_at = ? WHERE org_id = ? AND generation = ? AND state <> 'done'",
    JSON.stringify(error),
    now.toISOString(),
    orgId,
    generation,
  );
}

/** Runs started this long after the flip still count as started before it (consumers' clocks may differ a little). */
const CLOCK_MARGIN_MS = 60_000;

/**
 * Whether an export may still read the old owners: a run of the organization not finished that started
 * before the flip (a run of the single-database layout reads D1 until it ends), or whose tasks were
 * planned on an older generation (a task keeps the owners it was planned on).
 */
export async function oldGenerationInUse(db: D1Database, reshard: Reshard): Promise<boolean> {
  const before = new Date(new Date(reshard.flippedAt ?? reshard.updatedAt).getTime() + CLOCK_MARGIN_MS).toISOString();
  const row = await first<{ n: number }>(
    db,
    `SELECT COUNT(*) AS n FROM runs r WHERE r.org_id = ? AND r.status IN ('queued', 'running') AND r.started_at IS NOT NULL
       AND (r.started_at < ? OR EXISTS (
         SELECT 1 FROM run_tasks t WHERE t.run_id = r.id AND json_extract(t.unit, '$.kind') = 'shard' AND json_extract(t.unit, '$.generation') <= ?))`,
    reshard.orgId,
    before,
    reshard.generation,
  );
  return (row?.n ?? 0) > 0;
}

/** Marks a waiting step as alive (false: another message of the resharding did it first, so this one stops). */
export async function touchReshard(db: D1Database, reshard: Reshard, now: Date): Promise<boolean> {
  return (
    (await run(
      db,
      'UPDATE org_reshards SET updated_at = ? WHERE org_id = ? AND generation = ? AND state = ? AND updated_at = ?',
      now.toISOString(),
      reshard.orgId,
      reshard.generation,
      reshard.state,
      reshard.updatedAt,
    )) === 1
  );
}

/** Reshardings whose message may be lost: copying or cleaning up, not moved on since `before`. */
export async function staleReshards(db: D1Database, before: Date): Promise<{ org_id: string; generation: number }[]> {
  return (
    await db
      .prepare("SELECT org_id, generation FROM org_reshards WHERE state IN ('copying', 'cleanup') AND updated_at < ? LIMIT 100")
      .bind(before.toISOString())
      .all<{ org_id: string; generation: number }>()
  ).results;
}

/**
 * The owners a single-database organization's ingest also writes to while its profiles are copied to
 * shards, and during the cleanup: an ingest that read "no layout" just before the flip still reaches them.
 */
export async function d1CopyTargets(db: D1Database, orgId: string): Promise<readonly ShardOwner[] | undefined> {
  const row = await first<{ next: string }>(db, "SELECT next FROM org_reshards WHERE org_id = ? AND source = 'd1' AND state IN ('copying', 'cleanup')", orgId);
  return json<ShardOwner[]>(row?.next);
}
