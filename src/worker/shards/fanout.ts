/**
 * A sharded organization's export fanned out per shard key range (docs/SCALE.md, "Fan-out exports"):
 * the plan's shard units and the map's reading of one. The engine around them (tasks, retries, the
 * reduce) is fanout.ts's, the same as for snapshot units.
 *
 *   plan  `planShardTasks`: every shard of the layout is asked in parallel for its count and split
 *         points (`split`, one RPC each); the key ranges between them are the tasks, each keeping its
 *         shard, bucket range and the layout's generation.
 *   map   `shardProfiles`: one task's range paged from its shard (one RPC a page, the next page asked
 *         for while one is processed), rows turned into profiles as the D1 path turns them.
 */
import type { Profile } from '../../core/data/model.ts';
import { ExportError } from '../../core/errors.ts';
import type { ReadStats } from '../../core/snapshot/types.ts';
import { PROFILE_PAGE } from '../../service/subjects.ts';
import type { Env } from '../env.ts';
import { storedProfile } from '../store/data.ts';
import {
  type BucketRange,
  type IdRange,
  type ShardLayout,
  type ShardNamespace,
  type ShardProfile,
  type ShardStore,
  shardNamespace,
} from './types.ts';

/**
 * Profiles one task maps by default: 20 pages of 5,000. Measured in workerd (bench/shard-task.ts,
 * docs/SCALE.md "Fan-out exports"): a 100,000-profile task made ≤ 34 D1 queries + shard RPCs, used
 * ≤ 1.0 s of CPU and ≤ 36 MiB of live heap, plain or deduplicated. `EXPORT_SHARD_TASK_ROWS` sets it.
 */
export const SHARD_TASK_ROWS = 100_000;

/** Profiles one RPC returns at most: 10,000 profiles are ~5 MB (517 bytes each), far under an RPC's 32 MiB. */
export const SHARD_PAGE_MAX = 10_000;

/** A task's share of a sharded organization's profiles, as kept in its `run_tasks` row. */
export interface ShardTaskUnit {
  readonly kind: 'shard';
  /** The shard's name in the layout (the Durable Object `${orgId}/${shard}`). */
  readonly shard: string;
  /** The buckets the layout gave the shard when the run was planned: the task reads only these. */
  readonly buckets: BucketRange;
  readonly range: IdRange;
  /** The layout's generation the run was planned on. */
  readonly generation: number;
  /** How many tasks the run has (the row size of the task's sorted runs depends on it). */
  readonly tasks: number;
}

/** The host's shards; a clear error when this host has none. */
export function shardsOf(env: Env): ShardNamespace {
  const shards = shardNamespace(env.SHARDS);
  if (!shards)
    throw new ExportError(
      'CONFIG_INVALID',
      'This host has no shard storage (no SHARDS binding), and the organization keeps its profiles in shards',
    );
  return shards;
}

/** Profiles a task maps: `EXPORT_SHARD_TASK_ROWS`, or SHARD_TASK_ROWS. */
export function shardTaskRows(env: Pick<Env, 'EXPORT_SHARD_TASK_ROWS'>): number {
  const n = Number(env.EXPORT_SHARD_TASK_ROWS);
  return Number.isInteger(n) && n > 0 ? n : SHARD_TASK_ROWS;
}

/** Profiles a task reads per RPC: `EXPORT_PROFILE_PAGE` (as the D1 path's pages), within [1, SHARD_PAGE_MAX]. */
export function shardPageSize(env: Pick<Env, 'EXPORT_PROFILE_PAGE'>): number {
  const n = Number(env.EXPORT_PROFILE_PAGE);
  return Math.min(SHARD_PAGE_MAX, Number.isInteger(n) && n > 0 ? n : PROFILE_PAGE);
}

/**
 * The tasks of a run over `layout`'s shards: each shard split (in parallel) every `rowsPerTask`
 * profiles of its buckets; a shard without a profile makes no task, so an empty organization has none.
 */
export async function planShardTasks(
  shards: ShardNamespace,
  orgId: string,
  layout: ShardLayout,
  rowsPerTask: number,
): Promise<ShardTaskUnit[]> {
  const splits = await Promise.all(
    layout.shards.map(async (owner) => ({
      owner,
      split: await shardCall(owner.name, () => shards.shard(orgId, owner.name).split(orgId, { from: owner.from, to: owner.to }, rowsPerTask)),
    })),
  );
  const ranges = splits.flatMap(({ owner, split }) =>
    keyRanges(split.count, split.bounds, rowsPerTask).map((range) => ({ owner, range })),
  );
  return ranges.map(({ owner, range }) => ({
    kind: 'shard',
    shard: owner.name,
    buckets: { from: owner.from, to: owner.to },
    range,
    generation: layout.generation,
    tasks: ranges.length,
  }));
}

/**
 * One call to a shard, as a plain promise (a Durable Object's RPC promise is also a stub). A failure
 * Durable Objects mark transient (`retryable`: the object restarted or moved, the connection dropped;
 * `overloaded`: too many requests queued) becomes a NETWORK error naming the shard, so the run or task
 * goes back to the queue and is retried after its delay (5 s, then 10 s) rather than failing for good.
 */
export async function shardCall<T>(shard: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const { retryable, overloaded, message } = (error ?? {}) as { retryable?: unknown; overloaded?: unknown; message?: unknown };
    if (retryable === true || overloaded === true) {
      throw new ExportError('NETWORK', `Shard ${shard} did not answer (${overloaded === true ? 'overloaded' : 'transient error'}): ${String(message)}`, { cause: error });
    }
    throw error;
  }
}

/**
 * The key ranges of a shard's `count` profiles cut at `bounds` (the id of every `every`-th): (start,
 * b0], (b0, b1], …, (bLast, end) — the last one only when profiles follow the last bound.
 */
export function keyRanges(count: number, bounds: readonly string[], every: number): IdRange[] {
  if (count === 0) return [];
  const ranges: IdRange[] = bounds.map((through, k) => ({ after: k === 0 ? null : bounds[k - 1]!, through }));
  if (count > bounds.length * every) ranges.push({ after: bounds.at(-1) ?? null, through: null });
  return ranges;
}

/**
 * One task's profiles, paged from its shard by id (`pageSize` a page, the next asked for while one is
 * processed), as the D1 path's `listProfiles` makes them. Counts its RPCs and rows in `stats`.
 */
export function shardProfiles(
  store: ShardStore,
  orgId: string,
  unit: ShardTaskUnit,
  pageSize: number,
  stats: ReadStats,
): ReadableStream<readonly Profile[]> {
  const page = (after: string | null) => {
    stats.requests++;
    // A plain promise (a Durable Object's RPC promise is also a stub); a prefetched page nobody awaits
    // (the stream cancelled) fails unheard.
    const request = shardCall(unit.shard, () => store.profiles(orgId, unit.buckets, { after, through: unit.range.through }, pageSize));
    request.catch(() => {});
    return request;
  };
  let next: Promise<ShardProfile[]> | undefined;
  return new ReadableStream<readonly Profile[]>(
    {
      start() {
        next = page(unit.range.after);
      },
      async pull(controller) {
        const rows = await next!;
        next = rows.length === pageSize ? page(rows.at(-1)!.id) : undefined;
        stats.rows += rows.length;
        if (rows.length > 0) controller.enqueue(rows.map((r) => storedProfile(r.id, r.json, r.updatedAt)));
        if (!next) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Test-only (the journeys prove a task killed mid-run is redone alone): with
 * `EDGE_EXPORT_TEST_TASK_FAULT=<seq>`, the first attempt of task <seq> of a sharded run loses its
 * second page read as a dropped connection would (a retryable NETWORK error), after its first page was
 * read and scanned. Any other task, attempt or environment: `env` as given.
 */
export function withTaskFault(env: Env, task: { readonly seq: number; readonly attempt: number }): Env {
  const seq = env.EDGE_EXPORT_TEST_TASK_FAULT;
  const shards = shardNamespace(env.SHARDS);
  if (seq === undefined || seq === '' || Number(seq) !== task.seq || task.attempt !== 1 || !shards) return env;
  let pages = 0;
  const faulty: ShardNamespace = {
    shard: (orgId, name) => {
      const store = shards.shard(orgId, name);
      return {
        upsertProfiles: (...a) => store.upsertProfiles(...a),
        insertMissingProfiles: (...a) => store.insertMissingProfiles(...a),
        split: (...a) => store.split(...a),
        deleteBuckets: (...a) => store.deleteBuckets(...a),
        profiles: async (...a) => {
          if (++pages === 2) throw new ExportError('NETWORK', `EDGE_EXPORT_TEST_TASK_FAULT: the second page of task ${task.seq} was lost (test fault)`);
          return await store.profiles(...a);
        },
      };
    },
  };
  return { ...env, SHARDS: faulty };
}
