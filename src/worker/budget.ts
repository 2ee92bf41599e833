/**
 * An invocation's budget, enforced the way Cloudflare enforces it so a host fails here as a Worker
 * would fail in production (docs/LIMITS.md): D1 allows 1,000 queries per invocation on the Paid plan
 * (its "read subrequest limit": each call to D1 counts, a `batch()` being one call), and an
 * invocation has 30 s of CPU by default. Every handler call
 * (a request, a cron tick, a queue batch) gets its own budget; its D1 binding counts queries and
 * refuses the one past the limit. Exports ask `low()` between pages and pause, to go on in another
 * invocation, before either runs out. A call to a shard (`env.SHARDS`, a Durable Object RPC on
 * Workers: a subrequest) counts against the same budget, as one query.
 */
import type { D1Database, D1PreparedStatement, D1Result, Env } from './env.ts';
import { type ShardNamespace, type ShardStore, shardNamespace } from './shards/types.ts';

/** D1's queries per Worker invocation (Workers Paid); the Free plan has 50. */
export const D1_QUERIES_PER_INVOCATION = 1000;
/**
 * Queries kept for what follows a pause — the page in hand, a sorted run spilled, the state flushed,
 * the current file's parts — at most this many, a third of small budgets.
 */
const PAUSE_RESERVE = 100;
/**
 * Queries only the run's bookkeeping may spend, once the export is over (`finishing()`): recording
 * its outcome or checkpoint never fails for want of a query, so a run is never left "running".
 */
const FINAL_RESERVE = 10;
/** Wall time after which an export pauses: CPU time (30 s by default) never exceeds wall time. */
export const EXPORT_INVOCATION_SECONDS = 20;

export interface InvocationBudget {
  /** The environment with this invocation's counting D1 binding. */
  readonly env: Env;
  /** Queries made so far in this invocation. */
  readonly queries: number;
  readonly limit: number;
  /**
   * True once the invocation should stop and continue in another (queries or time running low);
   * `owed`: queries the export has yet to make for work already done (reading back a partition sort's
   * spilled runs), counted as if made.
   */
  low(owed?: number): boolean;
  /** The export is over: its bookkeeping may spend the final reserve. */
  finishing(): void;
}

/**
 * The budget of one invocation. `D1_QUERIES_PER_INVOCATION` (default 1000; 0 turns the count off)
 * and `EXPORT_INVOCATION_SECONDS` (default 20) set it; tests set them low to make a run continue.
 *
 * @example const budget = invocationBudget(env); await consumeBatch(batch, budget.env, …)
 */
export function invocationBudget(env: Env, now: () => number = Date.now): InvocationBudget {
  const limit = numberOr(env.D1_QUERIES_PER_INVOCATION, D1_QUERIES_PER_INVOCATION);
  const seconds = numberOr(env.EXPORT_INVOCATION_SECONDS, EXPORT_INVOCATION_SECONDS);
  const started = now();
  const final = Math.min(FINAL_RESERVE, Math.floor(limit / 5));
  const counter = { queries: 0, cap: limit - final };
  const reserve = Math.min(PAUSE_RESERVE, Math.floor(limit / 3));
  const db = limit > 0 ? countingDatabase(env.DB, counter, limit) : env.DB;
  const shards = limit > 0 ? shardNamespace(env.SHARDS) : undefined;
  return {
    env: { ...env, DB: db, ...(shards && { SHARDS: countingShards(shards, counter, limit) }) },
    get queries() {
      return counter.queries;
    },
    limit,
    low: (owed = 0) => (limit > 0 && counter.queries + owed >= counter.cap - reserve) || now() - started >= seconds * 1000,
    finishing: () => {
      counter.cap = limit;
    },
  };
}

interface Counter {
  queries: number;
  cap: number;
}

/** Spends `n` of the budget, refusing what would pass its cap. */
function spender(counter: Counter, limit: number, code: string): (n: number) => void {
  return (n) => {
    if (counter.queries + n > counter.cap) {
      throw new Error(
        `${code}: this invocation reached its budget of ${counter.cap} of ${limit} queries (D1 allows ${D1_QUERIES_PER_INVOCATION} per invocation on Workers Paid; D1_QUERIES_PER_INVOCATION sets it here)`,
      );
    }
    counter.queries += n;
  };
}

/** Shards whose every call (a Durable Object RPC on Workers) spends one query of the budget. */
function countingShards(shards: ShardNamespace, counter: Counter, limit: number): ShardNamespace {
  const spend = spender(counter, limit, 'SHARD_ERROR');
  const counted = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    spend(1);
    return await call(...args);
  };
  return {
    shard: (orgId, name): ShardStore => {
      const store = shards.shard(orgId, name);
      return {
        upsertProfiles: counted((...a) => store.upsertProfiles(...a)),
        insertMissingProfiles: counted((...a) => store.insertMissingProfiles(...a)),
        profiles: counted((...a) => store.profiles(...a)),
        split: counted((...a) => store.split(...a)),
        deleteBuckets: counted((...a) => store.deleteBuckets(...a)),
      };
    },
  };
}

function numberOr(value: string | undefined, fallback: number): number {
  const n = value === undefined || value === '' ? Number.NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/**
 * A D1 binding that counts every call to D1 (a batch is one) and refuses the one past its cap: the
 * limit less the final reserve, until `finishing()` opens the reserve.
 */
function countingDatabase(db: D1Database, counter: Counter, limit: number): D1Database {
  const spend = spender(counter, limit, 'D1_ERROR');
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const counted: D1PreparedStatement & { inner: D1PreparedStatement } = {
      inner: statement,
      bind: (...values) => wrap(statement.bind(...values)),
      first: <T>() => {
        spend(1);
        return statement.first<T>();
      },
      all: <T>() => {
        spend(1);
        return statement.all<T>();
      },
      run: () => {
        spend(1);
        return statement.run();
      },
    };
    return counted;
  };
  return {
    prepare: (query) => wrap(db.prepare(query)),
    batch: (statements): Promise<D1Result<unknown>[]> => {
      spend(1);
      return db.batch(statements.map((s) => (s as { inner?: D1PreparedStatement }).inner ?? s));
    },
  };
}
