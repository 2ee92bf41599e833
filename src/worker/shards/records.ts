/**
 * A sharded organization's dataset records (docs/SCALE.md, "Dataset records"): they spread over the
 * organization's shards by a hash of the record id (`bucketOf`), as its profiles do by theirs; the
 * dataset's definition (its schema) stays in D1.
 *
 *   ingest  `writeShardedRecords`: a validated batch grouped by owner (and next owner while
 *           resharding) and written to every owner in parallel, one all-or-nothing call each.
 *   plan    `planRecordTasks`: every shard asked in parallel for its count of the dataset's records
 *           after the export's watermark and its split points in (updatedAt, id) order
 *           (`splitRecords`); the key ranges between them are the tasks, as a profile export's.
 *   map     `shardRecords`: one task's range paged from its shard, already in (updatedAt, id) order:
 *           fanout.ts writes it as the task's one sorted run, and the reduce merges the runs
 *           (`mergedRecords`) into the single-database order.
 */
import type { DatasetRecord } from '../../core/data/model.ts';
import type { ReadStats } from '../../core/snapshot/types.ts';
import { utf8Bound } from '../../service/subjects.ts';
import { ApiError } from '../errors.ts';
import type { RecordInput } from '../records.ts';
import { json } from '../store/db.ts';
import { keyRanges, type ShardTaskUnit, shardCall, shardPages } from './fanout.ts';
import { groupByOwner, type ShardedOrg } from './profiles.ts';
import type { RecordKey, RecordRange, ShardLayout, ShardNamespace, ShardRecord, ShardStore } from './types.ts';

/**
 * A validated record as a shard keeps it: its values as JSON, its update time as ISO text (as D1's
 * ingest stores them). A record over the value limit is refused (413) before anything is written.
 */
export function shardRecord(r: RecordInput, valueBytes = 2_000_000): ShardRecord {
  const text = JSON.stringify(r.values);
  const size = utf8Bound(text);
  if (size > Math.floor(valueBytes * 0.9))
    throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `A record of ${size} bytes is over a shard's ${valueBytes}-byte value limit`);
  return { id: r.id, json: text, updatedAt: new Date(r.updatedAt).toISOString() };
}

/** Writes a validated batch of one dataset's records to every owner at once (one call each, each all-or-nothing); how many calls. */
export async function writeShardedRecords(org: ShardedOrg, datasetId: string, records: readonly ShardRecord[]): Promise<number> {
  const groups = [...groupByOwner(org.layout, records)];
  await Promise.all(groups.map(([name, group]) => org.shards.shard(org.orgId, name).upsertRecords(org.orgId, datasetId, group)));
  return groups.length;
}

/** A task's share of a sharded organization's dataset: a key range of one shard's records in (updatedAt, id) order. */
export interface ShardRecordUnit extends Omit<ShardTaskUnit, 'range'> {
  readonly datasetId: string;
  readonly range: RecordRange;
}

/** True when a shard task maps a dataset's records (not profiles). */
export const isRecordUnit = (unit: ShardTaskUnit | ShardRecordUnit): unit is ShardRecordUnit => 'datasetId' in unit;

/**
 * The tasks of a dataset export over `layout`'s shards: each shard split (in parallel) every
 * `rowsPerTask` records after `watermark` (an incremental run's; null: all); a shard without such a
 * record makes no task. The first range of a shard starts after the watermark.
 */
export async function planRecordTasks(
  shards: ShardNamespace,
  orgId: string,
  datasetId: string,
  layout: ShardLayout,
  watermark: RecordKey | null,
  rowsPerTask: number,
): Promise<ShardRecordUnit[]> {
  const splits = await Promise.all(
    layout.shards.map(async (owner) => ({
      owner,
      split: await shardCall(owner.name, () =>
        shards.shard(orgId, owner.name).splitRecords(orgId, datasetId, { from: owner.from, to: owner.to }, watermark, rowsPerTask),
      ),
    })),
  );
  const ranges = splits.flatMap(({ owner, split }) =>
    keyRanges(split.count, split.bounds, rowsPerTask).map((range) => ({ owner, range: { after: range.after ?? watermark, through: range.through } })),
  );
  return ranges.map(({ owner, range }) => ({
    kind: 'shard',
    shard: owner.name,
    buckets: { from: owner.from, to: owner.to },
    datasetId,
    range,
    generation: layout.generation,
    tasks: ranges.length,
  }));
}

/**
 * One task's records, paged from its shard in (updatedAt, id) order (`pageSize` a page, the next
 * asked for while one is processed), as D1's `listDatasetRecords` makes them. Counts its RPCs and rows.
 */
export async function* shardRecords(
  store: ShardStore,
  orgId: string,
  unit: ShardRecordUnit,
  pageSize: number,
  stats: ReadStats,
): AsyncGenerator<readonly DatasetRecord[]> {
  const pages = shardPages(
    unit.shard,
    unit.range.after,
    pageSize,
    stats,
    (after) => store.records(orgId, unit.datasetId, unit.buckets, { after, through: unit.range.through }, pageSize),
    (last: ShardRecord): RecordKey => ({ updatedAt: last.updatedAt, id: last.id }),
  );
  for await (const rows of pages) yield rows.map((r) => ({ id: r.id, updatedAt: r.updatedAt, values: json<Record<string, unknown>>(r.json) ?? {} }));
}
