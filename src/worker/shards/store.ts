/**
 * One shard's profiles over a `ShardSql` (docs/SCALE.md, "Layout"): the code a `ProfileShard` Durable
 * Object runs on its own SQLite storage and the Node and Deno hosts run on a SQLite file per shard.
 * Runtime-agnostic and synchronous inside (a Durable Object's SQL is synchronous); the methods are
 * async only because on Workers each one is an RPC.
 *
 * Rows carry their bucket (computed here from the id, never taken from the caller), so every read and
 * delete can name the bucket range the caller's layout gives this shard.
 */
import type { SqlValue } from '../../hosts/sqlite-d1.ts';
import {
  type BucketRange,
  bucketOf,
  type IdRange,
  SHARD_BUCKETS,
  SHARD_WRITE_MAX,
  type ShardProfile,
  type ShardSql,
  type ShardStore,
} from './types.ts';

/**
 * The shard's schema, created on first use. The primary key serves every read: a shard normally holds
 * only its own buckets, so reads by id walk it in order and the bucket test filters nothing. No bucket
 * index (measured on 300k profiles, better-sqlite3: with one on (org_id, bucket, id) the planner sorted
 * every id for a whole-shard `split`, 401 ms instead of 170 ms, and writes were 27 % slower; without
 * it, a read of a bucket sub-range, only needed for a resharding's moved buckets, scans the shard:
 * 80 ms for 300k).
 */
const SCHEMA = `CREATE TABLE IF NOT EXISTS profiles (
  org_id TEXT NOT NULL,
  id TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  json TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
) WITHOUT ROWID`;

const UPSERT = `INSERT INTO profiles (org_id, id, bucket, json, updated_at) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (org_id, id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at`;
const INSERT_MISSING = `INSERT INTO profiles (org_id, id, bucket, json, updated_at) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (org_id, id) DO NOTHING`;
const IN_BUCKETS = 'org_id = ? AND bucket >= ? AND bucket < ?';

/**
 * The ShardStore every host runs: the Durable Object over `ctx.storage.sql`, a host over its SQLite file.
 *
 * @example const store = new SqlShardStore(sql); await store.upsertProfiles('org_1', [{id, json, updatedAt}])
 */
export class SqlShardStore implements ShardStore {
  private ready = false;

  constructor(private readonly sql: ShardSql) {}

  async upsertProfiles(orgId: string, profiles: readonly ShardProfile[]): Promise<number> {
    return this.write(UPSERT, orgId, profiles);
  }

  async insertMissingProfiles(orgId: string, profiles: readonly ShardProfile[]): Promise<number> {
    return this.write(INSERT_MISSING, orgId, profiles);
  }

  async profiles(orgId: string, buckets: BucketRange, range: IdRange, limit: number): Promise<ShardProfile[]> {
    checkBuckets(buckets);
    checkLimit(limit);
    const params: SqlValue[] = [orgId, buckets.from, buckets.to];
    let where = IN_BUCKETS;
    if (range.after !== null) {
      where += ' AND id > ?';
      params.push(range.after);
    }
    if (range.through !== null) {
      where += ' AND id <= ?';
      params.push(range.through);
    }
    const rows = this.schema().all(
      `SELECT id, json, updated_at FROM profiles WHERE ${where} ORDER BY id LIMIT ?`,
      ...params,
      limit,
    );
    return rows.map((row) => ({ id: String(row.id), json: String(row.json), updatedAt: String(row.updated_at) }));
  }

  async split(orgId: string, buckets: BucketRange, every: number): Promise<{ count: number; bounds: string[] }> {
    checkBuckets(buckets);
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`every: expected a positive integer, received ${every}`);
    // One query: the ids numbered in id order (streamed along the primary key), keeping every
    // `every`-th, then one row with the count (its id null).
    const rows = this.schema().all(
      `SELECT id, n FROM (
         SELECT id, row_number() OVER (ORDER BY id) AS n FROM profiles WHERE ${IN_BUCKETS}
       ) WHERE n % ? = 0
       UNION ALL SELECT NULL, count(*) FROM profiles WHERE ${IN_BUCKETS}`,
      orgId,
      buckets.from,
      buckets.to,
      every,
      orgId,
      buckets.from,
      buckets.to,
    );
    const bounds: string[] = [];
    let count = 0;
    for (const row of rows) {
      if (row.id === null) count = Number(row.n);
      else bounds.push(String(row.id));
    }
    return { count, bounds };
  }

  async deleteBuckets(orgId: string, buckets: BucketRange, limit: number): Promise<number> {
    checkBuckets(buckets);
    checkLimit(limit);
    return this.schema().run(
      `DELETE FROM profiles WHERE org_id = ? AND id IN (SELECT id FROM profiles WHERE ${IN_BUCKETS} LIMIT ?)`,
      orgId,
      orgId,
      buckets.from,
      buckets.to,
      limit,
    );
  }

  /** One statement per profile, all in one transaction: every profile is written, or none. */
  private write(statement: string, orgId: string, profiles: readonly ShardProfile[]): number {
    if (profiles.length > SHARD_WRITE_MAX)
      throw new RangeError(`profiles: expected at most ${SHARD_WRITE_MAX} a call, received ${profiles.length}`);
    const sql = this.schema();
    return sql.transaction(() => {
      let written = 0;
      for (const p of profiles) written += sql.run(statement, orgId, p.id, bucketOf(p.id), p.json, p.updatedAt);
      return written;
    });
  }

  /** The SQL, with the schema created on first use. */
  private schema(): ShardSql {
    if (!this.ready) {
      this.sql.run(SCHEMA);
      this.ready = true;
    }
    return this.sql;
  }
}

function checkBuckets(buckets: BucketRange): void {
  const { from, to } = buckets;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > SHARD_BUCKETS || from >= to)
    throw new RangeError(`buckets: expected integers 0 <= from < to <= ${SHARD_BUCKETS}, received [${from}, ${to})`);
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit: expected a positive integer, received ${limit}`);
}
