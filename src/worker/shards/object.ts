/**
 * The `ProfileShard` Durable Object (binding SHARDS, docs/SCALE.md "Layout"): one organization's shard,
 * on the object's own SQLite storage, one object per `${orgId}/${shardName}`. Its RPC methods are the
 * ShardStore's, run by the same SqlShardStore the Node and Deno hosts run on a SQLite file. Only the
 * Worker's entry (index.ts) imports this module: `cloudflare:workers` exists in workerd alone.
 */
import { DurableObject, type DurableObjectState } from 'cloudflare:workers';
import type { SqlValue } from '../../hosts/sqlite-d1.ts';
import { SqlShardStore } from './store.ts';
import type { BucketRange, IdRange, ShardProfile, ShardSql, ShardStore } from './types.ts';

/** A ShardSql over the object's storage: `sql.exec`, and `transactionSync` for one transaction. */
function durableShardSql(ctx: DurableObjectState): ShardSql {
  const { sql } = ctx.storage;
  const values = (params: SqlValue[]) => params as (string | number | null)[];
  return {
    all: (query, ...params) => sql.exec(query, ...values(params)).toArray(),
    run: (query, ...params) => sql.exec(query, ...values(params)).rowsWritten,
    transaction: (body) => ctx.storage.transactionSync(body),
  };
}

export class ProfileShard extends DurableObject implements ShardStore {
  private readonly store: SqlShardStore;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.store = new SqlShardStore(durableShardSql(ctx));
  }

  upsertProfiles(orgId: string, profiles: readonly ShardProfile[]): Promise<number> {
    return this.store.upsertProfiles(orgId, profiles);
  }

  insertMissingProfiles(orgId: string, profiles: readonly ShardProfile[]): Promise<number> {
    return this.store.insertMissingProfiles(orgId, profiles);
  }

  profiles(orgId: string, buckets: BucketRange, range: IdRange, limit: number): Promise<ShardProfile[]> {
    return this.store.profiles(orgId, buckets, range, limit);
  }

  split(orgId: string, buckets: BucketRange, every: number): Promise<{ count: number; bounds: string[] }> {
    return this.store.split(orgId, buckets, every);
  }

  deleteBuckets(orgId: string, buckets: BucketRange, limit: number): Promise<number> {
    return this.store.deleteBuckets(orgId, buckets, limit);
  }
}
