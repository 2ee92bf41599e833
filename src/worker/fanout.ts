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
 * Reading a snapshot (planning, projection, readUnit, rows → profiles) is the host's `SnapshotAccess`.
 */
import type { AudienceMembership } from '../core/data/audience.ts';
import {
  type AudienceResume,
  type AudienceScan,
  type BaselineState,
  objectBaseline,
  scanAudience,
  STATEFUL_MODES,
} from '../core/data/export-plan.ts';
import { maxTasks, reduceStart, taskRowBytes, unionSpill } from '../core/data/fanout.ts';
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
    };
  };
}

/** A task's share as kept in its row: a plan of its one file, its unit, and how many tasks the run has. */
export interface TaskUnit {
  readonly sourceId: string;
  readonly plan: SnapshotPlan;
  readonly unit: SnapshotUnit;
  readonly tasks: number;
}

/** What a task leaves for the reduce: each audience's scan (counts, runs), and what it read. */
export interface TaskResult {
  readonly audiences: Readonly<Record<string, AudienceScan>>;
  readonly read: ReadStats;
}

/** The snapshot source every audience of the run reads, or undefined when they read D1. */
export async function snapshotSourceOf(db: Env['DB'], orgId: string, audienceIds: readonly string[]): Promise<string | undefined> {
  if (audienceIds.length === 0) return undefined;
  const rows = await all<{ source_id: string | null }>(
    db,
    `SELECT DISTINCT source_id FROM audiences WHERE org_id = ? AND id IN (${audienceIds.map(() => '?').join(', ')})`,
    orgId,
    ...audienceIds,
  );
  const sources = new Set(rows.map((r) => r.source_id));
  if (sources.size > 1) {
    throw new ExportError('CONFIG_INVALID', 'audienceIds: the audiences of one dataflow must all read the same place (one snapshot source, or the profiles in D1)');
  }
  return rows[0]?.source_id ?? undefined;
}

/** What a run knows of its fan-out: planned now (it waits), or every task done (the reduce's input). */
export type FanoutPhase = { readonly fannedOut: number } | { readonly reduce: ReduceInput };

export interface ReduceInput {
  /** Each audience's runs (every task's, as one store) and where its merge starts. */
  audience(audienceId: string): { readonly spill: SpillStore; readonly start: AudienceResume };
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
  sourceId: string,
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
  if (!access) throw new ExportError('CONFIG_INVALID', 'This host cannot read snapshot sources (no snapshot reader is configured)');
  const reading = await access(env, run.org_id, sourceId, await needsOf(env, run.org_id, flow, audienceIds));
  const plan = await reading.plan();
  if (plan.units.length > maxTasks()) {
    throw new ExportError(
      'CONFIG_INVALID',
      `rowsPerTask: the snapshot makes ${plan.units.length} tasks, more than the ${maxTasks()} one run may fan out to; raise the source's rowsPerTask`,
    );
  }
  // An empty snapshot has nothing to map: the reduce runs at once over no run.
  if (plan.units.length === 0) return { reduce: reduceOf([]) };
  const units = plan.units.map((unit) => {
    const file = plan.files[unit.file]!;
    const task: TaskUnit = {
      sourceId,
      plan: { format: plan.format, schema: plan.schema, files: [file], units: [], bytes: file.size },
      unit: { ...unit, file: 0 },
      tasks: plan.units.length,
    };
    return JSON.stringify(task);
  });
  await insertTasks(env.DB, run.org_id, run.id, units, now);
  for (let seq = 0; seq < units.length; seq++) await env.EXPORTS.send({ runId: run.id, orgId: run.org_id, task: seq });
  return { fannedOut: units.length };
}

/** The columns a run reads depend on its mapping and its audiences' rules. */
async function needsOf(env: Env, orgId: string, flow: DataflowRow, audienceIds: readonly string[]): Promise<SnapshotNeeds> {
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
  const valueBytes = d1ValueBytes(env);
  return reduceOf(
    tasks.map((t) => ({ seq: t.seq, attempt: t.attempt, result: json<TaskResult>(t.result)! })),
    (seq, attempt, subjectId, rowBytes) => d1Spill(env.DB, run.org_id, run.id, taskSpillKey(seq, attempt, subjectId), spillValueBytes(rowBytes, valueBytes)),
    valueBytes,
  );
}

/** The value limit a task's store is opened with so that its rows are at most `rowBytes` (d1Spill packs to 90%). */
function spillValueBytes(rowBytes: number, valueBytes: number): number {
  return Math.min(valueBytes, Math.ceil(rowBytes / 0.9));
}

function reduceOf(
  tasks: readonly { seq: number; attempt: number; result: TaskResult }[],
  open?: (seq: number, attempt: number, subjectId: string, rowBytes: number) => SpillStore,
  valueBytes = 0,
): ReduceInput {
  const rowBytes = taskRowBytes(tasks.length, Math.floor(valueBytes * 0.9));
  return {
    audience: (audienceId) => {
      const scans = tasks.map((t) => ({ ...t, scan: t.result.audiences[audienceId] }));
      const missing = scans.find((s) => !s.scan);
      if (missing) throw new ExportError('INTERNAL', `Task ${missing.seq} has no result for audience "${audienceId}"`);
      const parts = scans.filter((s) => s.scan!.runs > 0).map((s) => open!(s.seq, s.attempt, audienceId, rowBytes));
      return { spill: unionSpill(parts), start: reduceStart(scans.map((s) => s.scan!)) };
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
  if (!access) throw new ExportError('CONFIG_INVALID', 'This host cannot read snapshot sources (no snapshot reader is configured)');
  const unit = json<TaskUnit>(task.unit)!;
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
  const reading = await access(env, run.org_id, unit.sourceId, { mapping: json<MappingSpec>(flow.mapping)!, rules });
  const read: ReadStats = { bytesFetched: 0, requests: 0, rows: 0 };
  const streams = split(reading.profiles(unit.plan, unit.unit, read), audiences.length);
  const rowBytes = taskRowBytes(unit.tasks, Math.floor(valueBytes * 0.9));
  const budget = Math.floor(sortBudgets(env, valueBytes, { partitioned: false, dedup: true }).dedup / Math.max(1, audiences.length));
  const scans = await Promise.all(
    audiences.map((a, i) =>
      scanAudience({
        membership: a.membership,
        profiles: streams[i]!,
        mapping,
        now: new Date(run.scheduled_time),
        mode,
        baseline: a.baseline,
        state: STATEFUL_MODES.includes(mode),
        output: d1Spill(env.DB, run.org_id, run.id, taskSpillKey(task.seq, task.attempt, a.id), spillValueBytes(rowBytes, valueBytes)),
        scratch: d1Spill(env.DB, run.org_id, run.id, `${taskSpillKey(task.seq, task.attempt, a.id)}:scratch`, valueBytes),
        sortBudget: budget,
      }),
    ),
  );
  return { audiences: Object.fromEntries(audiences.map((a, i) => [a.id, scans[i]!])), read };
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
