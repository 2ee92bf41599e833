import { describe, expect, it } from 'vitest';
import type { D1Database, D1PreparedStatement, Env } from './env.ts';
import { invocationBudget } from './budget.ts';
import { type ShardNamespace, type ShardStore, shardNamespace } from './shards/types.ts';

/** Shards that answer every call with nothing, counting the calls that reach them. */
function fakeShards() {
  const reached = { calls: 0 };
  const reach = async <T>(value: T) => {
    reached.calls++;
    return value;
  };
  const store: ShardStore = {
    upsertProfiles: (_o, p) => reach(p.length),
    insertMissingProfiles: () => reach(0),
    profiles: () => reach([]),
    split: () => reach({ count: 0, bounds: [] }),
    deleteBuckets: () => reach(0),
  };
  const shards: ShardNamespace = { shard: () => store };
  return { shards, reached };
}

/** A D1 stand-in that answers every call, counting the calls that reach it. */
function fakeDb() {
  const reached = { calls: 0 };
  const statement: D1PreparedStatement = {
    bind: () => statement,
    first: async () => {
      reached.calls++;
      return null;
    },
    all: async () => {
      reached.calls++;
      return { results: [], meta: { changes: 0, last_row_id: 0 } };
    },
    run: async () => {
      reached.calls++;
      return { results: [], meta: { changes: 1, last_row_id: 0 } };
    },
  };
  const db: D1Database = {
    prepare: () => statement,
    batch: async (statements) => {
      reached.calls++;
      return statements.map(() => ({ results: [], meta: { changes: 1, last_row_id: 0 } }));
    },
  };
  return { db, reached };
}

const envWith = (db: D1Database, vars: Partial<Env> = {}) => ({ DB: db, SECRETS_KEY: 'k', ...vars }) as Env;

describe('invocationBudget', () => {
  it('counts a call to D1 per query and one per batch, and refuses the one past the cap', async () => {
    const { db, reached } = fakeDb();
    const budget = invocationBudget(envWith(db, { D1_QUERIES_PER_INVOCATION: '50' }));
    const DB = budget.env.DB;
    for (let i = 0; i < 20; i++) await DB.prepare('SELECT 1').bind(i).first();
    await DB.batch(Array.from({ length: 30 }, () => DB.prepare('INSERT 1')));
    expect(budget.queries).toBe(21);
    // The cap is the limit less the final reserve (10): 40 queries for the export itself.
    for (let i = 0; i < 19; i++) await DB.prepare('SELECT 1').run();
    await expect(async () => DB.prepare('SELECT 1').all()).rejects.toThrow(/budget of 40 of 50 queries/);
    expect(reached.calls).toBe(40);
    // Once the export is over, its bookkeeping may spend the reserve, not more.
    budget.finishing();
    for (let i = 0; i < 10; i++) await DB.prepare('UPDATE runs').run();
    await expect(async () => DB.prepare('UPDATE runs').run()).rejects.toThrow(/budget of 50 of 50/);
  });

  it('counts every call to a shard (a Durable Object RPC: a subrequest) against the same budget', async () => {
    const { db } = fakeDb();
    const { shards, reached } = fakeShards();
    const budget = invocationBudget(envWith(db, { D1_QUERIES_PER_INVOCATION: '20', SHARDS: shards }));
    const counted = shardNamespace(budget.env.SHARDS)!;
    await budget.env.DB.prepare('SELECT 1').first();
    const all = { from: 0, to: 4096 };
    await Promise.all([
      counted.shard('org', 's0').upsertProfiles('org', []),
      counted.shard('org', 's1').split('org', all, 10),
      counted.shard('org', 's2').profiles('org', all, { after: null, through: null }, 5),
    ]);
    expect(budget.queries).toBe(4);
    // Cap 16 (the limit less a final reserve of 4): 12 more calls, then a refusal that reaches no shard.
    for (let i = 0; i < 12; i++) await counted.shard('org', 's0').deleteBuckets('org', all, 1);
    await expect(counted.shard('org', 's0').insertMissingProfiles('org', [])).rejects.toThrow(/SHARD_ERROR: .*budget of 16 of 20/);
    expect(reached.calls).toBe(15);
  });

  it('says "low" a pause reserve before the cap, or once its time is up', async () => {
    let clock = 0;
    const { db } = fakeDb();
    const budget = invocationBudget(envWith(db, { D1_QUERIES_PER_INVOCATION: '90', EXPORT_INVOCATION_SECONDS: '5' }), () => clock);
    // Cap 80 (final reserve 10); pause reserve 30 (a third of 90): low from 50 queries on.
    for (let i = 0; i < 49; i++) await budget.env.DB.prepare('SELECT 1').first();
    expect(budget.low()).toBe(false);
    await budget.env.DB.prepare('SELECT 1').first();
    expect(budget.low()).toBe(true);
    const timed = invocationBudget(envWith(fakeDb().db, { EXPORT_INVOCATION_SECONDS: '5' }), () => clock);
    clock = 4_999;
    expect(timed.low()).toBe(false);
    clock = 5_000;
    expect(timed.low()).toBe(true);
  });

  it('counts nothing with D1_QUERIES_PER_INVOCATION=0', async () => {
    const { db } = fakeDb();
    const budget = invocationBudget(envWith(db, { D1_QUERIES_PER_INVOCATION: '0' }));
    expect(budget.env.DB).toBe(db);
    for (let i = 0; i < 1500; i++) await budget.env.DB.prepare('SELECT 1').first();
    expect(budget.low()).toBe(false);
  });
});
