/**
 * Growing an organization's shards online (docs/SCALE.md, "Resharding"): a job on the EXPORTS queue.
 *
 *   start    `growShards` (PUT /v1/admin/organizations/{id}/shards): the `next` owners (growLayout, or
 *            initialLayout(M) for an organization still in the single-database layout), its row in
 *            `org_reshards` (the lock: a second growth is refused), the layout's `next` set, and the
 *            job's first message {orgId, reshard: generation}. From then on ingest writes every
 *            profile to its owner in `shards` (or D1) AND its owner in `next`; reads still use `shards`.
 *   copy     each message copies pages of every moving bucket range from its old owner to the new
 *            owners with insertMissingProfiles (a newer dual-written profile is never overwritten),
 *            checkpointing each page in D1, until the invocation's budget runs low; it then sends the
 *            next message.
 *   flip     every range copied: the layout becomes `next` with generation + 1, in one D1 batch.
 *   cleanup  once no export started before the flip is still running (its tasks read the old owners),
 *            the moved buckets are deleted from their old owners in pages (D1's rows when the source
 *            was the single-database layout).
 *
 * Any step can run twice (a duplicate message, a retried invocation): checkpoints are compare-and-set,
 * copies insert only missing profiles, deletes delete what is left.
 */
import { ExportError } from '../core/errors.ts';
import { describeError } from './consumer.ts';
import { type D1Database, d1ValueBytes, type Env, type QueueMessage, type RunMessage } from './env.ts';
import { ApiError } from './errors.ts';
import { type BucketMove, bucketMoves, growLayout } from './shards/grow.ts';
import { groupByOwner, shardProfile, writeShardedProfiles } from './shards/profiles.ts';
import type { ProfileInput } from './records.ts';
import { initialLayout, SHARD_BUCKETS, type ShardNamespace, type ShardOwner, type ShardProfile, shardNamespace } from './shards/types.ts';
import { all, run } from './store/db.ts';
import { getShardLayout } from './store/shards.ts';
import {
  checkpointReshard,
  flipReshard,
  finishReshard,
  getReshard,
  oldGenerationInUse,
  type Reshard,
  reshardFailed,
  startReshard,
  staleReshards,
  touchReshard,
} from './store/reshards.ts';

/** The old owner of a growth from the single-database layout: D1's `profiles` table, all buckets. */
export const D1_SOURCE = 'profiles';

/** Profiles per page copied (or deleted) in one step (RESHARD_PAGE lowers it in tests). */
export const RESHARD_PAGE = 1000;
/** Seconds a cleanup waits before looking again whether exports of the old generation are over. */
export const RESHARD_WAIT_SECONDS = 30;
/**
 * Seconds between setting `next` and the first copy (RESHARD_SETTLE_SECONDS): an ingest request that
 * read the layout before `next` was set writes only the old owner, and is over within this time.
 */
export const RESHARD_SETTLE_SECONDS = 30;
/** How long a copying or cleaning resharding may go without a step before the cron sends its message again. */
const STALE_MS = 5 * 60_000;

export interface ReshardDeps {
  /** The host's shards (`shardNamespace(env.SHARDS)`); a host without them cannot reshard. */
  readonly shards: ShardNamespace | undefined;
  /**
   * True once this invocation should stop and continue in another (the budget's `low`); `owed`: the
   * queries and RPCs the next page would make (a read, a write per new owner it reaches, a checkpoint).
   */
  readonly pause: (owed: number) => boolean;
  readonly now?: () => Date;
}

/** The message of an organization's resharding step. */
export function reshardMessage(orgId: string, generation: number): RunMessage {
  return { runId: `reshard:${generation}`, orgId, reshard: generation };
}

/**
 * Grows an organization to `shards` shards: sets `next`, records the resharding, sends its first
 * message. Refused with 409 naming `shards` while another resharding is not done; 400 when `shards`
 * does not grow the layout. Returns the resharding as started.
 */
export async function growShards(env: Env, orgId: string, shards: number, now: Date): Promise<Reshard> {
  await assertNotResharding(env.DB, orgId);
  const layout = await getShardLayout(env.DB, orgId);
  if (layout?.next !== undefined) throw new ApiError(409, 'CONFLICT', 'shards: the organization is already resharding (its layout has next owners)', { field: 'shards' });
  let started: boolean;
  if (layout) {
    const next = refusedAt400(() => growLayout(layout, shards));
    const moves = bucketMoves({ ...layout, next });
    started = await startReshard(env.DB, orgId, { generation: layout.generation, source: 'shards', next, moves, layout }, now);
  } else {
    const next = refusedAt400(() => initialLayout(shards)).shards;
    const moves: BucketMove[] = [{ source: D1_SOURCE, from: 0, to: SHARD_BUCKETS }];
    started = await startReshard(env.DB, orgId, { generation: 0, source: 'd1', next, moves }, now);
  }
  const reshard = (await getReshard(env.DB, orgId))!;
  if (!started) throw busy(reshard);
  await env.EXPORTS.send(reshardMessage(orgId, reshard.generation), { delaySeconds: settleSeconds(env) });
  return reshard;
}

/** A shard count the layout refuses (a RangeError naming `shards`), as a 400. */
function refusedAt400<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof RangeError) throw new ApiError(400, 'BAD_REQUEST', error.message, { field: 'shards' });
    throw error;
  }
}

function busy(reshard: Reshard): ApiError {
  return new ApiError(
    409,
    'CONFLICT',
    `shards: the organization is already resharding to ${reshard.next.length} shards (${reshard.state}); a new shard count is accepted once GET /v1/admin/organizations/{id}/shards shows state "idle"`,
    { field: 'shards' },
  );
}

/** Refused (409 naming `shards`) while the organization's latest resharding is not done. */
export async function assertNotResharding(db: D1Database, orgId: string): Promise<void> {
  const current = await getReshard(db, orgId);
  if (current && current.state !== 'done') throw busy(current);
}

function settleSeconds(env: Env): number {
  const n = Number(env.RESHARD_SETTLE_SECONDS);
  return env.RESHARD_SETTLE_SECONDS !== undefined && Number.isFinite(n) && n >= 0 ? n : RESHARD_SETTLE_SECONDS;
}

function pageSize(env: Env): number {
  const n = Number(env.RESHARD_PAGE);
  return Number.isInteger(n) && n > 0 ? n : RESHARD_PAGE;
}

/** Where a move's profiles are read from and deleted from: an old shard, or D1's `profiles`. */
interface MoveSource {
  page(after: string | null, limit: number): Promise<ShardProfile[]>;
  deletePage(limit: number): Promise<number>;
}

function sourceOf(env: Env, shards: ShardNamespace, orgId: string, move: BucketMove): MoveSource {
  if (move.source === D1_SOURCE) {
    return {
      page: (after, limit) =>
        all<ShardProfile>(
          env.DB,
          'SELECT id, json, updated_at AS updatedAt FROM profiles WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?',
          orgId,
          after ?? '',
          limit,
        ),
      deletePage: (limit) =>
        run(env.DB, 'DELETE FROM profiles WHERE org_id = ? AND id IN (SELECT id FROM profiles WHERE org_id = ? ORDER BY id LIMIT ?)', orgId, orgId, limit),
    };
  }
  const store = shards.shard(orgId, move.source);
  return {
    page: (after, limit) => store.profiles(orgId, move, { after, through: null }, limit),
    deletePage: (limit) => store.deleteBuckets(orgId, move, limit),
  };
}

/**
 * An ingest batch of a single-database organization whose profiles are being copied to shards: written
 * to its owners in `next` too (as a sharded organization's batch goes to both owners while resharding).
 */
export async function writeD1CopyTargets(env: Env, orgId: string, next: readonly ShardOwner[], profiles: readonly ProfileInput[], now: Date): Promise<void> {
  const shards = shardNamespace(env.SHARDS);
  if (!shards) throw new Error(`organization ${orgId} is being copied to shards, but this deployment has no SHARDS binding (wrangler.toml)`);
  const valueBytes = d1ValueBytes(env);
  const org = { orgId, layout: { version: 1, generation: 0, shards: next } as const, shards };
  await writeShardedProfiles(org, profiles.map((p) => shardProfile(p, now, valueBytes)));
}

/** Copies profiles to their owners in `next`, only where missing, every owner in parallel; how many were inserted. */
async function copyTo(shards: ShardNamespace, orgId: string, next: Reshard['next'], profiles: readonly ShardProfile[]): Promise<number> {
  const groups = groupByOwner({ version: 1, generation: 0, shards: next }, profiles);
  const inserted = await Promise.all([...groups].map(([name, group]) => shards.shard(orgId, name).insertMissingProfiles(orgId, group)));
  return inserted.reduce((sum, n) => sum + n, 0);
}

/** What a step did: the job goes on in another message (`continued`, or `waiting` for old exports), or needs none. */
export type ReshardOutcome = 'continued' | 'waiting' | 'done' | 'stale';

/**
 * One invocation's share of the resharding of generation `generation`: copy pages, flip, clean up, as
 * far as the budget allows. `stale`: the resharding is over, or another message moved it on first.
 */
export async function reshardStep(env: Env, orgId: string, generation: number, deps: ReshardDeps): Promise<ReshardOutcome> {
  const now = deps.now ?? (() => new Date());
  const limit = pageSize(env);
  const shards = deps.shards;
  if (!shards) throw new ExportError('CONFIG_INVALID', 'SHARDS: this host has no shard binding (a ProfileShard Durable Object namespace), so it cannot reshard');
  let reshard = await getReshard(env.DB, orgId);
  let cleared = false;
  for (;;) {
    if (!reshard || reshard.generation !== generation || reshard.state === 'done') return 'stale';
    const move = reshard.moves[reshard.position.move];
    if (reshard.state === 'copying') {
      if (move === undefined) {
        await flipReshard(env.DB, reshard, now());
        reshard = await getReshard(env.DB, orgId);
        continue;
      }
      const page = await sourceOf(env, shards, orgId, move).page(reshard.position.after, limit);
      const inserted = await copyTo(shards, orgId, reshard.next, page);
      const position = page.length < limit ? { move: reshard.position.move + 1, after: null } : { move: reshard.position.move, after: page.at(-1)!.id };
      if (!(await checkpointReshard(env.DB, reshard, position, { copied: page.length, inserted }, now()))) return 'stale';
      reshard = { ...reshard, position, positionText: JSON.stringify(position), copied: reshard.copied + page.length, inserted: reshard.inserted + inserted };
    } else {
      if (move === undefined) {
        await finishReshard(env.DB, reshard, now());
        return 'done';
      }
      // Exports planned before the flip read the old owners until they end: cleanup waits for them.
      if (!cleared) {
        if (await oldGenerationInUse(env.DB, reshard)) return (await touchReshard(env.DB, reshard, now())) ? 'waiting' : 'stale';
        cleared = true;
      }
      const deleted = await sourceOf(env, shards, orgId, move).deletePage(limit);
      const position = deleted < limit ? { move: reshard.position.move + 1, after: null } : reshard.position;
      if (!(await checkpointReshard(env.DB, reshard, position, { deleted }, now()))) return 'stale';
      reshard = { ...reshard, position, positionText: JSON.stringify(position), deleted: reshard.deleted + deleted };
    }
    const next = reshard.moves[reshard.position.move];
    const targets = next ? reshard.next.filter((o) => o.from < next.to && next.from < o.to).length : 0;
    if (deps.pause(2 + (reshard.state === 'copying' ? targets : 0))) return 'continued';
  }
}

/**
 * Handles a resharding message: runs a step, and sends the next message when the job goes on. A
 * failed step is recorded on the resharding (GET …/shards shows it) and retried with a growing delay;
 * past the queue's retries, the cron sends it again (`resendStaleReshards`).
 */
export async function consumeReshard(message: QueueMessage<RunMessage>, env: Env, deps: ReshardDeps): Promise<boolean> {
  const { orgId, reshard: generation } = message.body;
  if (generation === undefined) return false;
  const now = deps.now ?? (() => new Date());
  try {
    const outcome = await reshardStep(env, orgId, generation, deps);
    if (outcome === 'continued') await env.EXPORTS.send(reshardMessage(orgId, generation));
    if (outcome === 'waiting') await env.EXPORTS.send(reshardMessage(orgId, generation), { delaySeconds: RESHARD_WAIT_SECONDS });
    message.ack();
    return outcome !== 'stale';
  } catch (error) {
    await reshardFailed(env.DB, orgId, generation, describeError(error), now()).catch(() => undefined);
    message.retry({ delaySeconds: Math.min(300, 10 * message.attempts) });
    return true;
  }
}

/** The cron's share: reshardings whose step has not moved for a while get their message again (one per resharding). */
export async function resendStaleReshards(env: Env, now: Date): Promise<number> {
  let sent = 0;
  for (const row of await staleReshards(env.DB, new Date(now.getTime() - STALE_MS))) {
    const reshard = await getReshard(env.DB, row.org_id);
    if (!reshard || !(await touchReshard(env.DB, reshard, now))) continue;
    await env.EXPORTS.send(reshardMessage(row.org_id, row.generation));
    sent++;
  }
  return sent;
}

/** What GET /v1/admin/organizations/{id}/shards shows of an organization's resharding. */
export function reshardView(reshard: Reshard | undefined) {
  if (!reshard) return { state: 'idle' as const };
  const moved = reshard.moves.reduce((n, m) => n + m.to - m.from, 0);
  return {
    state: reshard.state === 'done' ? ('idle' as const) : reshard.state,
    generation: reshard.generation,
    from: reshard.source === 'd1' ? ('single-database' as const) : ('shards' as const),
    shards: reshard.next.length,
    movedBuckets: moved,
    copied: reshard.copied,
    inserted: reshard.inserted,
    deleted: reshard.deleted,
    ...(reshard.error !== null && { error: reshard.error }),
    startedAt: reshard.startedAt,
    ...(reshard.flippedAt !== null && { flippedAt: reshard.flippedAt }),
    ...(reshard.finishedAt !== null && { finishedAt: reshard.finishedAt }),
  };
}
