/**
 * The fan-out run engine (docs/SNAPSHOTS.md, "Fan-out"): a run of a dataflow whose audiences read a
 * snapshot source is a map step fanned out over the queue and a reduce step that is the ordinary
 * export.
 *
 *   plan     the run's first message: the snapshot is planned, one `run_tasks` row per unit is
 *            written and one message per task sent ({runId, orgId, task}); the run then waits
 *            `running` without a lease (`awaitTasks`).
 *   map      `runTask`, one task per message: its unit read (projected), turned into profiles,
 *            every audience of the run scanned into ONE sorted run each (`scanAudience`), spilled
 *            to D1 under the task's attempt; its result recorded, the task marked done. The task
 *            completing the set sends the run's message again.
 *   reduce   the run's message once every task is done: `reduceInput` gives each audience the
 *            tasks' runs as one spill store and their summed counts; execute.ts exports through the
 *            export service as any run (numbered files, manifest last, states promoted after).
 *
 * A dataflow exporting a dataset that reads a snapshot source (`datasets.source_id`) fans out the same
 * way: each task keeps its unit's records after the dataset's watermark, sorted by (updatedAt, id) into
 * one run (`datasetTask`); the reduce merges the runs (`mergedRecords`) into the dataset export.
 *
 * Reading a snapshot (planning, projection, readUnit, rows → profiles) is the host's `SnapshotAccess`.
 *
 * A run of a sharded organization's audiences (docs/SCALE.md, "Fan-out exports") fans out the same
 * way over shard units: one task per key range of a shard (`planShardTasks`), each paging its range
 * from its shard (`shardProfiles`) into the same scans; the reduce is the same.
 */
import type { AudienceMembership } from '../core/data/audience.ts';
import {
  type AudienceResume,
  type AudienceScan,
  type BaselineState,
  candidateKey,
  objectBaseline,
  scanAudience,
  STATEFUL_MODES,
} from '../core/data/export-plan.ts';
import { indexedRows, maxTasks, reduceStart, seekRow, taskRowBytes, unionSpill } from '../core/data/fanout.ts';
import { afterWatermark, mergedRecords, recordCodec, recordLineKey, rowsToRecords } from '../core/data/snapshot-dataset.ts';
import { ExternalSorter } from '../core/data/spill.ts';
import type { DatasetExportState } from '../core/data/store.ts';
import type { DatasetRecord } from '../core/data/model.ts';
import type { Row } from '../core/types.ts';
import { DATASET_MODES } from '../service/subjects.ts';
import { compileMapping, type MappingSpec } from '../core/data/mapping.ts';
import type { Profile } from '../core/data/model.ts';
import type { SpillStore } from '../core/data/spill.ts';
import type { ChunkedAudienceState } from '../core/data/store.ts';
import { type ErrorCode, ExportError } from '../core/errors.ts';
import { planSnapshot } from '../core/snapshot/plan.ts';
import { projection } from '../core/snapshot/projection.ts';
import { readUnit, snapshotProfiles } from '../core/snapshot/read.ts';
import type { ReadStats, SnapshotPlan, SnapshotUnit } from '../core/snapshot/types.ts';
import type { Platform } from '../core/platform.ts';
import { openSourceStore } from './source-secrets.ts';
import { planShardTasks, type ShardTaskUnit, shardPageSize, shardProfiles, shardsOf, shardTaskRows } from './shards/fanout.ts';
import type { ShardLayout } from './shards/types.ts';
import { parseShardLayout } from './store/shards.ts';
import { getSource } from './store/sources.ts';
import { type ExportStates, membershipOf } from '../service/subjects.ts';
import { MAX_ATTEMPTS, RETRYABLE, runAlerter, describeError, type Lease } from './consumer.ts';
import { d1ValueBytes, type Env, type QueueMessage, type RunMessage } from './env.ts';
import { runAudiences, sortBudgets } from './execute.ts';
import { d1DataReader, d1Spill, d1States, dropSpills } from './store/data.ts';
import { all, json } from './store/db.ts';
import { type DataflowRow, exportModeOf, getDataflow } from './store/resources.ts';
import { HEARTBEAT_SECONDS, type RunRow, getRun } from './store/runs.ts';
import {
  claimTask,
  dropTaskSpills,
  failTask,
  failWaitingRun,
  finishTask,
  insertTasks,
  listTasks,
  releaseRunIfDone,
  renewTask,
  requeueTask,
  type TaskRow,
  taskProgress,
  taskRun,
  taskSpillKey,
} from './store/tasks.ts';

/** What the columns a run reads depend on: its mapping (fields, dedup) and its audiences' rules. */
export interface SnapshotNeeds {
  readonly mapping: MappingSpec;
  readonly rules: readonly string[];
}

/** A source's snapshot as a run reads it (the host's reader: snapshot/ planSnapshot, readUnit…). */
export interface SnapshotReading {
  /** Lists the files and cuts the snapshot into units (planSnapshot). */
  plan(): Promise<SnapshotPlan>;
  /**
   * One unit's rows as profiles, projected to the columns the needs name, counting what it read in
   * `stats` (bytes fetched, requests, rows). `plan` holds the unit's file only (`unit.file` is 0).
   */
  profiles(plan: SnapshotPlan, unit: SnapshotUnit, stats: ReadStats): ReadableStream<readonly Profile[]>;
  /** A dataset's reading (absent: this reader reads profiles only). */
  readonly records?: DatasetReading;
}

/** A snapshot read as a dataset's records: the source's id and update-time columns, and a unit's rows. */
export interface DatasetReading {
  /** Column holding a record's id (default `id`). */
  readonly idColumn?: string | undefined;
  /** Column holding a record's update time (default `updatedAt`). */
  readonly updatedAtColumn?: string | undefined;
  /** One unit's rows projected to `columns` (the id and update-time columns, then the dataset's), counting what it read. */
  rows(plan: SnapshotPlan, unit: SnapshotUnit, columns: readonly string[], stats: ReadStats): ReadableStream<Row[]>;
}

/** Opens an organization's source for a run: its store (with its credentials) and its reader. */
export type SnapshotAccess = (env: Env, orgId: string, sourceId: string, needs: SnapshotNeeds) => Promise<SnapshotReading>;

/**
 * The Worker's snapshot access: the organization's source from D1 (`sources`), its store opened with
 * its credentials (S3 through its auth plugin, or an R2 binding), planned by `planSnapshot` and read
 * by `readUnit` with the run's projection — only the columns its rules and mapping name.
 */
export function storedSnapshots(platform: (env: Env) => Platform): SnapshotAccess {
  return async (env, orgId, sourceId, needs) => {
    const row = await getSource(env.DB, orgId, sourceId);
    if (!row) throw new ExportError('CONFIG_INVALID', `sourceId: source "${sourceId}" no longer exists`);
    const { source, store } = await openSourceStore(env, row, platform(env));
    return {
      plan: () => planSnapshot(store, source),
      profiles: (plan, unit, stats) =>
        snapshotProfiles(readUnit(store, plan, unit, projection(plan.schema, source, { rules: needs.rules, mappings: [needs.mapping] }), stats), source),
      records: {
        idColumn: source.idColumn,
        updatedAtColumn: source.updatedAtColumn,
        rows: (plan, unit, columns, stats) => readUnit(store, plan, unit, knownColumns(plan, columns), stats),
      },
    };
  };
}

/**
 * The columns of `columns` the snapshot has (a dataset column it lacks reads as missing); a snapshot
 * without a known schema (NDJSON) is asked for all of them.
 */
function knownColumns(plan: SnapshotPlan, columns: readonly string[]): string[] {
  if (plan.schema.length === 0) return [...columns];
  const known = new Set(plan.schema.map((c) => c.name));
  return columns.filter((name) => known.has(name));
}

/** A snapshot task's share as kept in its row: a plan of its one file, its unit, and how many tasks the run has. */
export interface SnapshotTaskUnit {
  readonly sourceId: string;
  readonly plan: SnapshotPlan;
  readonly unit: SnapshotUnit;
  readonly tasks: number;
}

/** A task's share as kept in its row: a snapshot's unit, or a key range of a sharded organization's shard. */
export type TaskUnit = SnapshotTaskUnit | ShardTaskUnit;

const isShardUnit = (unit: TaskUnit): unit is ShardTaskUnit => 'kind' in unit && unit.kind === 'shard';

/** Where a fanned-out run reads: a snapshot source, or the shards of a sharded organization's layout. */
export type FanoutOrigin = { readonly sourceId: string } | { readonly layout: ShardLayout };

/** What a task leaves for the reduce: each audience's scan (counts, runs, its rows' first keys), and what it read. */
export interface TaskResult {
  readonly audiences: Readonly<Record<string, AudienceScan & { readonly rows?: readonly string[] }>>;
  /**
   * A dataset's task: its run (0 or 1, rows' first keys), the records it kept, the rows it skipped, and
   * the sorted runs it spilled past its sort budget (merged into its run).
   */
  readonly dataset?: {
    readonly runs: number;
    readonly rows: readonly string[];
    readonly records: number;
    readonly skipped: Readonly<Record<string, number>>;
    readonly spilled: number;
  };
  readonly read: ReadStats;
}

/** The snapshot source a dataset reads (`datasets.source_id`), or undefined when its records are in D1. */
export async function datasetSourceOf(db: Env['DB'], orgId: string, datasetId: string): Promise<string | undefined> {
  const rows = await all<{ source_id: string | null }>(db, 'SELECT source_id FROM datasets WHERE org_id = ? AND id = ?', orgId, datasetId);
  return rows[0]?.source_id ?? undefined;
}

/** Messages per `sendBatch` (Cloudflare Queues' limit). */
const SEND_BATCH = 100;

/**
 * Where every audience of the run reads, in one query: a snapshot source, the shards of a sharded
 * organization (audiences without a source, an `org_shards` layout), or undefined — D1's profiles.
 */
export async function audienceOriginOf(db: Env['DB'], orgId: string, audienceIds: readonly string[]): Promise<FanoutOrigin | undefined> {
  if (audienceIds.length === 0) return undefined;
  const rows = await all<{ source_id: string | null; layout: string | null }>(
    db,
    `SELECT DISTINCT a.source_id, s.layout FROM audiences a LEFT JOIN org_shards s ON s.org_id = a.org_id
     WHERE a.org_id = ? AND a.id IN (${audienceIds.map(() => '?').join(', ')})`,
    orgId,
    ...audienceIds,
  );
  const sources = new Set(rows.map((r) => r.source_id));
  if (sources.size > 1) {
    throw new ExportError('CONFIG_INVALID', 'audienceIds: the audiences of one dataflow must all read the same place (one snapshot source, or the profiles in D1)');
  }
  const row = rows[0];
  if (row?.source_id) return { sourceId: row.source_id };
  return row?.layout ? { layout: parseShardLayout(row.layout) } : undefined;
}

/** What a run knows of its fan-out: planned now (it waits), or every task done (the reduce's input). */
export type FanoutPhase = { readonly fannedOut: number } | { readonly reduce: ReduceInput };

export interface ReduceInput {
  /**
   * Each audience's runs (every task's, as one store, each read from the row holding the first key
   * not yet decided when `resume` — the subject's position in a continued reduce — says where it is)
   * and where its merge starts.
   */
  audience(audienceId: string, resume?: unknown): { readonly spill: SpillStore; readonly start: AudienceResume };
  /** A dataset's records: every task's run merged in (updatedAt, id) order, and the rows its tasks skipped. */
  dataset(datasetId: string): { readonly records: ReadableStream<readonly DatasetRecord[]>; readonly skipped: Readonly<Record<string, number>> };
}

/**
 * The first message plans and fans out; once every task is done, the reduce's input. A task failed
 * for good fails the run; a message that comes while tasks still run finds the run waiting again.
 */
export async function fanoutPhase(
  env: Env,
  run: RunRow,
  flow: DataflowRow,
  audienceIds: readonly string[],
  origin: FanoutOrigin,
  access: SnapshotAccess | undefined,
  now: Date,
): Promise<FanoutPhase> {
  const progress = await taskProgress(env.DB, run.id);
  if (progress.failed !== undefined) {
    const error = json<{ code?: ErrorCode; message?: string }>(progress.failed) ?? {};
    throw new ExportError(error.code ?? 'INTERNAL', `A task of this run failed: ${error.message ?? 'unknown error'}`);
  }
  if (progress.total > 0 && progress.done < progress.total) return { fannedOut: progress.total - progress.done };
  if (progress.total > 0) return { reduce: await reduceInput(env, run) };
  const planned =
    'layout' in origin ? await shardUnits(env, run.org_id, origin.layout) : await snapshotUnits(env, run, flow, audienceIds, origin.sourceId, access);
  // An empty snapshot or organization has nothing to map: the reduce runs at once over no run.
  if (planned.length === 0) return { reduce: reduceOf([]) };
  const units = planned.map((unit) => JSON.stringify(unit));
  await insertTasks(env.DB, run.org_id, run.id, units, now);
  const messages = units.map((_, seq) => ({ body: { runId: run.id, orgId: run.org_id, task: seq } }));
  // A batch of 100 messages is one subrequest on Cloudflare (an invocation has 1,000).
  for (let i = 0; i < messages.length; i += SEND_BATCH) {
    const batch = messages.slice(i, i + SEND_BATCH);
    if (env.EXPORTS.sendBatch) await env.EXPORTS.sendBatch(batch);
    else for (const message of batch) await env.EXPORTS.send(message.body);
  }
  return { fannedOut: units.length };
}

/** A snapshot's units, one task each (a plan of its one file). */
async function snapshotUnits(
  env: Env,
  run: RunRow,
  flow: DataflowRow,
  audienceIds: readonly string[],
  sourceId: string,
  access: SnapshotAccess | undefined,
): Promise<SnapshotTaskUnit[]> {
  if (!access) throw new ExportError('CONFIG_INVALID', 'This host cannot read snapshot sources (no snapshot reader is configured)');
  const reading = await access(env, run.org_id, sourceId, await needsOf(env, run.org_id, flow, audienceIds));
  const plan = await reading.plan();
  if (plan.units.length > maxTasks()) {
    throw new ExportError(
      'CONFIG_INVALID',
      `rowsPerTask: the snapshot makes ${plan.units.length} tasks, more than the ${maxTasks()} one run may fan out to; raise the source's rowsPerTask`,
    );
  }
  return plan.units.map((unit) => {
    const file = plan.files[unit.file]!;
    return {
      sourceId,
      plan: { format: plan.format, schema: plan.schema, files: [file], units: [], bytes: file.size },
      unit: { ...unit, file: 0 },
      tasks: plan.units.length,
    };
  });
}

/** A sharded organization's key ranges, one task each (shards/fanout.ts). */
async function shardUnits(env: Env, orgId: string, layout: ShardLayout): Promise<ShardTaskUnit[]> {
  const rowsPerTask = shardTaskRows(env);
  const units = await planShardTasks(shardsOf(env), orgId, layout, rowsPerTask);
  if (units.length > maxTasks()) {
    throw new ExportError(
      'CONFIG_INVALID',
      `EXPORT_SHARD_TASK_ROWS: the organization's profiles make ${units.length} tasks of ${rowsPerTask}, more than the ${maxTasks()} one run may fan out to; raise EXPORT_SHARD_TASK_ROWS`,
    );
  }
  return units;
}

/** The columns a run reads depend on its mapping and its audiences' rules. */
async function needsOf(env: Env, orgId: string, flow: DataflowRow, audienceIds: readonly string[]): Promise<SnapshotNeeds> {
  // A dataset's tasks read its columns (DatasetReading), no rule or mapping.
  if (flow.dataset_id !== null) return { mapping: { fields: [] }, rules: [] };
  const data = d1DataReader(env.DB, orgId);
  const rules: string[] = [];
  for (const id of audienceIds) {
    const audience = await data.getAudience(id);
    if (!audience) throw new ExportError('CONFIG_INVALID', `Audience "${id}" no longer exists`);
    if (audience.kind !== 'rule') throw new ExportError('CONFIG_INVALID', `Audience "${id}" reads a snapshot source: only a rule audience can`);
    rules.push(audience.rule);
  }
  return { mapping: json<MappingSpec>(flow.mapping)!, rules };
}

/** Every task's result, as the reduce reads them. */
async function reduceInput(env: Env, run: RunRow): Promise<ReduceInput> {
  const tasks = await listTasks(env.DB, run.id);
  return reduceOf(
    tasks.map((t) => ({ seq: t.seq, attempt: t.attempt, result: json<TaskResult>(t.result)! })),
    (seq, attempt, subjectId, from) => taskRun(env.DB, run.org_id, run.id, taskSpillKey(seq, attempt, subjectId), from),
  );
}

function reduceOf(
  tasks: readonly { seq: number; attempt: number; result: TaskResult }[],
  open?: (seq: number, attempt: number, subjectId: string, fromRow: number) => SpillStore,
): ReduceInput {
  return {
    audience: (audienceId, resume) => {
      const scans = tasks.map((t) => ({ ...t, scan: t.result.audiences[audienceId] }));
      const missing = scans.find((s) => !s.scan);
      if (missing) throw new ExportError('INTERNAL', `Task ${missing.seq} has no result for audience "${audienceId}"`);
      const through = (resume as { plan?: AudienceResume } | undefined)?.plan?.decidedThrough;
      const parts = scans.filter((s) => s.scan!.runs > 0).map((s) => open!(s.seq, s.attempt, audienceId, seekRow(s.scan!.rows, through)));
      return { spill: unionSpill(parts), start: reduceStart(scans.map((s) => s.scan!)) };
    },
    dataset: (datasetId) => {
      const parts = tasks.filter((t) => (t.result.dataset?.runs ?? 0) > 0).map((t) => open!(t.seq, t.attempt, datasetId, 0));
      const skipped: Record<string, number> = {};
      for (const t of tasks) for (const [reason, n] of Object.entries(t.result.dataset?.skipped ?? {})) skipped[reason] = (skipped[reason] ?? 0) + n;
      return { records: mergedRecords(unionSpill(parts), parts.length), skipped };
    },
  };
}

/** Reports from `runTask` to its consumer. */
export type RunTask = (env: Env, task: TaskRow, lease: Lease) => Promise<TaskResult>;

/**
 * One task of a run (the map step): its unit read once, every audience of the run scanned from it
 * (the stream teed), each into one sorted run spilled under the task's attempt. What an earlier
 * attempt of the task spilled is dropped first.
 */
export async function runTask(env: Env, task: TaskRow, access: SnapshotAccess | undefined): Promise<TaskResult> {
  const run = await getRun(env.DB, task.org_id, task.run_id);
  const flow = run && (await getDataflow(env.DB, run.org_id, run.dataflow_id));
  if (!run || !flow) throw new ExportError('CONFIG_INVALID', 'The run or its dataflow no longer exists');
  const unit = json<TaskUnit>(task.unit)!;
  if (!isShardUnit(unit) && !access) throw new ExportError('CONFIG_INVALID', 'This host cannot read snapshot sources (no snapshot reader is configured)');
  if (flow.dataset_id !== null) {
    if (isShardUnit(unit)) throw new ExportError('INTERNAL', "A dataset's records are not read from profile shards");
    return datasetTask(env, task, run, flow, flow.dataset_id, unit, access!);
  }
  const audienceIds = runAudiences(flow, run);
  const mode = exportModeOf(flow);
  const mapping = compileMapping(json(flow.mapping));
  const valueBytes = d1ValueBytes(env);
  const states = d1States(env.DB, run.org_id, flow.id, run.id, valueBytes);
  const data = d1DataReader(env.DB, run.org_id);
  await dropTaskSpills(env.DB, run.org_id, run.id, task.seq);
  const audiences: { id: string; membership: AudienceMembership; baseline?: BaselineState }[] = [];
  const rules: string[] = [];
  for (const id of audienceIds) {
    const audience = await data.getAudience(id);
    if (!audience) throw new ExportError('CONFIG_INVALID', `Audience "${id}" no longer exists`);
    if (audience.kind === 'rule') rules.push(audience.rule);
    const baseline = STATEFUL_MODES.includes(mode) ? await baselineOf(states, id) : undefined;
    audiences.push({ id, membership: await membershipOf(data, audience), ...(baseline && { baseline }) });
  }
  const read: ReadStats = { bytesFetched: 0, requests: 0, rows: 0 };
  // A shard's key range (its RPCs counted in `read.requests`), or a snapshot's unit.
  const profiles = isShardUnit(unit)
    ? shardProfiles(shardsOf(env).shard(run.org_id, unit.shard), run.org_id, unit, shardPageSize(env), read)
    : (await access!(env, run.org_id, unit.sourceId, { mapping: json<MappingSpec>(flow.mapping)!, rules })).profiles(unit.plan, unit.unit, read);
  const streams = split(profiles, audiences.length);
  const rowBytes = taskRowBytes(unit.tasks, Math.floor(valueBytes * 0.9));
  const budget = Math.floor(sortBudgets(env, valueBytes, { partitioned: false, dedup: true }).dedup / Math.max(1, audiences.length));
  const scans = await Promise.all(
    audiences.map(async (a, i) => {
      // Rows of at most rowBytes, each row's first key kept: the reduce's merge memory, and where a continued reduce seeks.
      const output = indexedRows(d1Spill(env.DB, run.org_id, run.id, taskSpillKey(task.seq, task.attempt, a.id), valueBytes), rowBytes, candidateKey);
      const scan = await scanAudience({
        membership: a.membership,
        profiles: streams[i]!,
        mapping,
        now: new Date(run.scheduled_time),
        mode,
        baseline: a.baseline,
        state: STATEFUL_MODES.includes(mode),
        output,
        scratch: d1Spill(env.DB, run.org_id, run.id, `${taskSpillKey(task.seq, task.attempt, a.id)}:scratch`, valueBytes),
        sortBudget: budget,
      });
      return { ...scan, rows: output.firstKeys };
    }),
  );
  return { audiences: Object.fromEntries(audiences.map((a, i) => [a.id, scans[i]!])), read };
}

/** Lines per write of a dataset task's sorted run (indexedRows cuts them into rows of the task's row size). */
const RUN_WRITE_LINES = 16_384;

/**
 * A dataset's task (the map step): its unit's rows read once (projected to the dataset's columns and
 * the id and update-time columns) as records, those after the dataset's watermark kept (incremental;
 * every one in full), sorted by (updatedAt, id) — spilling past the sort budget — into ONE run spilled
 * under the task's attempt, in rows of the run's task row size (the reduce's merge memory).
 */
async function datasetTask(
  env: Env,
  task: TaskRow,
  run: RunRow,
  flow: DataflowRow,
  datasetId: string,
  unit: SnapshotTaskUnit,
  access: SnapshotAccess,
): Promise<TaskResult> {
  const mode = exportModeOf(flow);
  if (mode !== 'full' && mode !== 'incremental') throw new ExportError('CONFIG_INVALID', DATASET_MODES);
  const dataset = await d1DataReader(env.DB, run.org_id).getDataset(datasetId);
  if (!dataset) throw new ExportError('CONFIG_INVALID', `Dataset "${datasetId}" no longer exists`);
  const valueBytes = d1ValueBytes(env);
  const found = mode === 'incremental' ? await d1States(env.DB, run.org_id, flow.id, run.id, valueBytes).get(dataset.id) : undefined;
  const watermark = found?.kind === 'dataset' ? (found as DatasetExportState).watermark : undefined;
  await dropTaskSpills(env.DB, run.org_id, run.id, task.seq);
  const reading = (await access(env, run.org_id, unit.sourceId, { mapping: { fields: [] }, rules: [] })).records;
  if (!reading) throw new ExportError('CONFIG_INVALID', 'This host cannot read a dataset from a snapshot source');
  const read: ReadStats = { bytesFetched: 0, requests: 0, rows: 0 };
  const skipped: Record<string, number> = {};
  const key = taskSpillKey(task.seq, task.attempt, dataset.id);
  const budget = sortBudgets(env, valueBytes, { partitioned: false, dedup: true }).dedup;
  const sorter = new ExternalSorter<DatasetRecord>(d1Spill(env.DB, run.org_id, run.id, `${key}:scratch`, valueBytes), recordCodec, budget);
  const columns = [...new Set([reading.idColumn ?? 'id', reading.updatedAtColumn ?? 'updatedAt', ...dataset.schema.map((c) => c.name)])];
  const records = reading.rows(unit.plan, unit.unit, columns, read).pipeThrough(rowsToRecords(reading, skipped)).getReader();
  for (let next = await records.read(); !next.done; next = await records.read()) {
    for (const record of next.value) if (afterWatermark(record, watermark)) await sorter.add(record);
  }
  const output = indexedRows(d1Spill(env.DB, run.org_id, run.id, key, valueBytes), taskRowBytes(unit.tasks, Math.floor(valueBytes * 0.9)), recordLineKey);
  let kept = 0;
  let lines: string[] = [];
  for await (const batch of sorter.sortedBatches()) {
    for (const record of batch) lines.push(recordCodec.encode(record));
    kept += batch.length;
    if (lines.length >= RUN_WRITE_LINES) {
      await output.write(0, lines);
      lines = [];
    }
  }
  if (lines.length > 0) await output.write(0, lines);
  // The scratch runs were merged into the task's one run.
  const spilled = sorter.runs;
  if (spilled > 0) await d1Spill(env.DB, run.org_id, run.id, `${key}:scratch`, valueBytes).drop();
  return { audiences: {}, dataset: { runs: kept > 0 ? 1 : 0, rows: output.firstKeys, records: kept, skipped, spilled }, read };
}

/** An audience's committed state as a baseline (what its exits are checked against). */
async function baselineOf(states: ExportStates, audienceId: string): Promise<BaselineState | undefined> {
  const found = await states.get(audienceId);
  if (found?.kind !== 'audience') return undefined;
  if (found.version === 2 && states.chunks) {
    const chunked = found as ChunkedAudienceState;
    const chunks = states.chunks;
    return { mappingId: chunked.mappingId, members: chunked.members, entries: () => chunks.read(audienceId, chunked.generation, chunked.chunks) };
  }
  return found.version === 1 ? objectBaseline(found) : undefined;
}

/** One stream read by `n` consumers (teed); an empty list when nobody reads it. */
function split<T>(stream: ReadableStream<T>, n: number): ReadableStream<T>[] {
  if (n === 0) {
    void stream.cancel();
    return [];
  }
  const out: ReadableStream<T>[] = [];
  let rest = stream;
  for (let i = 0; i < n - 1; i++) {
    const [a, b] = rest.tee();
    out.push(a);
    rest = b;
  }
  out.push(rest);
  return out;
}

export interface TaskConsumerDeps {
  readonly runTask?: RunTask;
  readonly now?: () => Date;
  readonly finishing?: () => void;
  readonly heartbeatSeconds?: number;
}

/**
 * Handles a task's message: claim the task (a done or held task's duplicate message does nothing),
 * map it, record its result; the task completing the set sends the run's message. A retryable
 * failure (network, S3 5xx) puts the task back for the queue's retry, up to MAX_ATTEMPTS claims;
 * any other failure — or the last retry's — fails the task and the run, and drops every spill of
 * the run. True when the task was claimed and executed.
 */
export async function consumeTask(message: QueueMessage<RunMessage>, env: Env, deps: TaskConsumerDeps): Promise<boolean> {
  const now = deps.now ?? (() => new Date());
  const { runId, orgId } = message.body;
  const seq = message.body.task!;
  const task = await claimTask(env.DB, orgId, runId, seq, now());
  if (!task) {
    message.ack();
    return false;
  }
  let lost = false;
  let beat = Promise.resolve();
  const heartbeat = setInterval(() => {
    beat = beat.then(async () => {
      if (!lost && !(await renewTask(env.DB, runId, seq, task.attempt, now()).catch(() => true))) lost = true;
    });
  }, (deps.heartbeatSeconds ?? HEARTBEAT_SECONDS) * 1000);
  const stop = async () => {
    clearInterval(heartbeat);
    await beat;
    deps.finishing?.();
  };
  try {
    if (!deps.runTask) throw new ExportError('INTERNAL', 'This consumer cannot run the tasks of a fanned-out run');
    const result = await deps.runTask(env, task, { lost: () => lost }).finally(stop);
    if (!lost && (await finishTask(env.DB, runId, seq, task.attempt, result, now()))) {
      if (await releaseRunIfDone(env.DB, runId, now())) await env.EXPORTS.send({ runId, orgId });
    } else {
      // Another attempt holds the task, or the run is over: what this attempt spilled is nobody's.
      await dropTaskSpills(env.DB, orgId, runId, seq, task.attempt);
    }
  } catch (thrown) {
    const error = describeError(thrown);
    if (lost) return settle(message);
    if (RETRYABLE.has(String(error.code)) && task.attempt < MAX_ATTEMPTS) {
      if (await requeueTask(env.DB, runId, seq, task.attempt, error, now())) message.retry({ delaySeconds: 5 * task.attempt });
      else message.ack();
      return true;
    }
    await failTask(env.DB, runId, seq, task.attempt, error, now());
    if (await failWaitingRun(env.DB, runId, { ...error, task: seq }, now())) {
      await dropSpills(env.DB, orgId, runId);
      const run = await getRun(env.DB, orgId, runId);
      const flow = run && (await getDataflow(env.DB, orgId, run.dataflow_id));
      if (run) await runAlerter(env, run, flow, now)('run.failed', { error: { ...error, task: seq } });
    }
  }
  return settle(message);
}

function settle(message: QueueMessage<RunMessage>): true {
  message.ack();
  return true;
}
