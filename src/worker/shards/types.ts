/**
 * Sharded profile storage (issue 17, docs/SCALE.md): the contract every part of it follows.
 *
 * An organization whose profiles outgrow one D1 database keeps them in N shards. A profile's shard is
 * chosen by its id: the id hashes to one of SHARD_BUCKETS buckets (`bucketOf`) and each shard owns a
 * contiguous range of buckets (`ShardLayout`). Growing N splits bucket ranges, so only the buckets
 * that change owner are copied (docs/SCALE.md, "Resharding"); no id is ever re-hashed.
 *
 * On Workers a shard is a Durable Object with SQLite storage (class `ProfileShard`, binding `SHARDS`,
 * one object per organization and shard name); on Node and Deno it is a SQLite file per shard, held in
 * process. Both run the same `ShardStore` implementation over a `ShardSql`. Every method takes and
 * returns plain, structured-clonable data: on Workers each call is a Durable Object RPC (a subrequest).
 */
import type { SqlValue } from '../../hosts/sqlite-d1.ts';

/** Buckets ids hash to; a shard owns a contiguous range of them. Fixed for ever: changing it re-hashes every id. */
export const SHARD_BUCKETS = 4096;

/** Most profiles one `upsertProfiles` call carries (a batch route's whole batch). */
export const SHARD_WRITE_MAX = 10_000;

/** A profile as a shard keeps it: the JSON `{identities, attributes}` as stored in D1's `profiles.json`. */
export interface ShardProfile {
  readonly id: string;
  readonly json: string;
  readonly updatedAt: string;
}

/**
 * A dataset record as a shard keeps it (docs/SCALE.md, "Dataset records"): its values as JSON (as in
 * D1's `dataset_records.json`) and its update time; its bucket is `bucketOf(id)`.
 */
export interface ShardRecord {
  readonly id: string;
  readonly json: string;
  readonly updatedAt: string;
}

/** A record with its dataset: what a resharding copies (every dataset's records of the moved buckets). */
export interface ShardDatasetRecord extends ShardRecord {
  readonly datasetId: string;
}

/** A record's position in (updatedAt, id) order: a dataset export's watermark and its tasks' split points. */
export interface RecordKey {
  readonly updatedAt: string;
  readonly id: string;
}

/** A key range of one dataset's records in (updatedAt, id) order: after `after` (exclusive; null from the first) through `through` (inclusive; null to the last). */
export interface RecordRange {
  readonly after: RecordKey | null;
  readonly through: RecordKey | null;
}

/** Buckets [from, to) of SHARD_BUCKETS. */
export interface BucketRange {
  readonly from: number;
  readonly to: number;
}

/** A shard of a layout: its name (the Durable Object's name suffix, the host's file name) and its buckets. */
export interface ShardOwner extends BucketRange {
  readonly name: string;
}

/**
 * An organization's layout, kept in D1 (`org_shards.layout`, migration 0014). An organization without
 * a row keeps its profiles in D1's `profiles` table (the single-database layout, the default).
 */
export interface ShardLayout {
  readonly version: 1;
  /** Bumped by every change of owners; a run's tasks keep the generation (and owners) they were planned on. */
  readonly generation: number;
  /** The owners, sorted by `from`, covering [0, SHARD_BUCKETS) without gap or overlap. Reads use these. */
  readonly shards: readonly ShardOwner[];
  /**
   * While resharding: the owners being copied into. Writes go to the owner in `shards` AND the owner in
   * `next` of the profile's bucket (when they differ); reads still use `shards` until the copy is done
   * and `next` becomes `shards` (generation + 1).
   */
  readonly next?: readonly ShardOwner[];
}

/** A key range of one shard: ids after `after` (exclusive; null from the first) through `through` (inclusive; null to the last). */
export interface IdRange {
  readonly after: string | null;
  readonly through: string | null;
}

/**
 * One shard's store. Every read names the bucket range the caller's layout gives this shard: rows of
 * other buckets (left behind by a resharding until they are cleaned up) are never returned.
 */
export interface ShardStore {
  /** Inserts or replaces profiles (at most SHARD_WRITE_MAX), in one transaction; how many were written. */
  upsertProfiles(orgId: string, profiles: readonly ShardProfile[]): Promise<number>;
  /** Inserts profiles not already present (a resharding copy never overwrites a newer write); how many were inserted. */
  insertMissingProfiles(orgId: string, profiles: readonly ShardProfile[]): Promise<number>;
  /** Profiles in `buckets` and `range`, by id, at most `limit`. */
  profiles(orgId: string, buckets: BucketRange, range: IdRange, limit: number): Promise<ShardProfile[]>;
  /**
   * How many profiles `buckets` holds, and the id of every `every`-th of them by id (`bounds[k]` is the
   * (k+1)·every-th id): the split points of a run's tasks, in one call.
   */
  split(orgId: string, buckets: BucketRange, every: number): Promise<{ readonly count: number; readonly bounds: readonly string[] }>;
  /**
   * Deletes up to `limit` rows of `buckets` — its profiles first, then its dataset records (a
   * resharding's cleanup of moved buckets); how many were deleted (fewer than `limit`: none is left).
   */
  deleteBuckets(orgId: string, buckets: BucketRange, limit: number): Promise<number>;
  /** Inserts or replaces records of one dataset (at most SHARD_WRITE_MAX), in one transaction; how many were written. */
  upsertRecords(orgId: string, datasetId: string, records: readonly ShardRecord[]): Promise<number>;
  /** Inserts records not already present, of any dataset (a resharding copy never overwrites a newer write); how many were inserted. */
  insertMissingRecords(orgId: string, records: readonly ShardDatasetRecord[]): Promise<number>;
  /** Records of one dataset in `buckets` and `range`, by (updatedAt, id), at most `limit`: a dataset export task's pages. */
  records(orgId: string, datasetId: string, buckets: BucketRange, range: RecordRange, limit: number): Promise<ShardRecord[]>;
  /**
   * How many records of one dataset `buckets` holds after `after` (every one when null), and the key of
   * every `every`-th of them by (updatedAt, id): the split points of a dataset export's tasks, in one call.
   */
  splitRecords(
    orgId: string,
    datasetId: string,
    buckets: BucketRange,
    after: RecordKey | null,
    every: number,
  ): Promise<{ readonly count: number; readonly bounds: readonly RecordKey[] }>;
  /** Records of every dataset in `buckets`, by (datasetId, id) after `after`, at most `limit`: a resharding's copy pages. */
  bucketRecords(
    orgId: string,
    buckets: BucketRange,
    after: { readonly datasetId: string; readonly id: string } | null,
    limit: number,
  ): Promise<ShardDatasetRecord[]>;
}

/** What a shard implementation runs its SQL on: a Durable Object's `ctx.storage.sql`, or a host's SQLite file. */
export interface ShardSql {
  all(sql: string, ...params: SqlValue[]): Record<string, unknown>[];
  /** Runs a statement; how many rows it changed. */
  run(sql: string, ...params: SqlValue[]): number;
  /** Runs `body` in one transaction (a Durable Object's `transactionSync`; BEGIN/COMMIT on a host). */
  transaction<T>(body: () => T): T;
}

/** The shards of every organization, by the Durable Object name `${orgId}/${shardName}`. */
export interface ShardNamespace {
  shard(orgId: string, name: string): ShardStore;
}

/** The Worker's binding: a Durable Object namespace of `ProfileShard` objects. */
export interface DurableShardNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): ShardStore;
}

/** `env.SHARDS` as either host gives it: a Durable Object namespace (Workers) or a ShardNamespace (Node, Deno). */
export function shardNamespace(binding: DurableShardNamespace | ShardNamespace | undefined): ShardNamespace | undefined {
  if (binding === undefined) return undefined;
  if ('shard' in binding) return binding;
  return { shard: (orgId, name) => binding.get(binding.idFromName(`${orgId}/${name}`)) };
}

/** The bucket of a profile id: FNV-1a (32 bits) of its UTF-8 bytes, modulo SHARD_BUCKETS. */
export function bucketOf(id: string): number {
  let hash = 0x811c9dc5;
  const bytes = utf8.encode(id);
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % SHARD_BUCKETS;
}
const utf8 = new TextEncoder();

/** N shards of equal bucket ranges, named s0…s(N-1): a new organization's layout. */
export function initialLayout(shards: number): ShardLayout {
  if (!Number.isInteger(shards) || shards < 1 || shards > 256) throw new RangeError('shards: expected an integer from 1 to 256');
  const owners: ShardOwner[] = [];
  for (let i = 0; i < shards; i++) {
    owners.push({ name: `s${i}`, from: Math.floor((i * SHARD_BUCKETS) / shards), to: Math.floor(((i + 1) * SHARD_BUCKETS) / shards) });
  }
  return { version: 1, generation: 1, shards: owners };
}

/** The owner of a bucket in `owners` (sorted, covering every bucket). */
export function ownerOf(owners: readonly ShardOwner[], bucket: number): ShardOwner {
  let lo = 0;
  let hi = owners.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (owners[mid]!.from <= bucket) lo = mid;
    else hi = mid - 1;
  }
  return owners[lo]!;
}

/** Every method of a ShardStore: what a wrapper (`wrapShardStore`) forwards. */
export const SHARD_STORE_METHODS = [
  'upsertProfiles',
  'insertMissingProfiles',
  'profiles',
  'split',
  'deleteBuckets',
  'upsertRecords',
  'insertMissingRecords',
  'records',
  'splitRecords',
  'bucketRecords',
] as const satisfies readonly (keyof ShardStore)[];

/**
 * A ShardStore whose every call goes through `around` (counting it, turning its errors, making a
 * Durable Object's RPC promise a plain one…): each method forwards its arguments to the method of the
 * store `open` gives at the call (opened lazily; called as a method: a Durable Object stub's RPC
 * methods need their `this`).
 */
export function wrapShardStore(open: () => ShardStore, around: <R>(method: keyof ShardStore, call: () => Promise<R>) => Promise<R>): ShardStore {
  type Methods = Record<keyof ShardStore, (...args: unknown[]) => Promise<unknown>>;
  const wrapped: Partial<Methods> = {};
  for (const method of SHARD_STORE_METHODS) wrapped[method] = (...args) => around(method, () => (open() as unknown as Methods)[method](...args));
  return wrapped as unknown as ShardStore;
}
