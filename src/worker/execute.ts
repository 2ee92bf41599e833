/**
 * The real export of one run, through the export service every host shares: the dataflow's
 * destination becomes an export definition (the destination model's manifest), its audiences or
 * dataset become subjects read from D1, in-flight multipart uploads are kept in the run's row so a
 * redelivered run resumes them, and the subjects' new states are promoted only once the run's
 * files and manifest are all published.
 */
import { compileMapping } from '../core/data/mapping.ts';
import { ExportError } from '../core/errors.ts';
import type { Platform } from '../core/platform.ts';
import type { UploadState, UploadStateStore } from '../core/types.ts';
import { destinationDefinition } from '../service/destination.ts';
import { type ExportDefinition, exportService, type RunCheckpoint } from '../service/export-service.ts';
import { audienceSubjectOpeners, datasetSubject, utf8Bound } from '../service/subjects.ts';
import type { SpillStore } from '../core/data/spill.ts';
import { type StoredDestination, destinationOf, openDestination } from './destination-secrets.ts';
import { d1ValueBytes, type Env } from './env.ts';
import { d1DataReader, d1Spill, d1States, dropSpills } from './store/data.ts';
import { json } from './store/db.ts';
import { getOrganization } from './store/orgs.ts';
import { type DataflowRow, type DestinationRow, exportModeOf, getDataflow, getDestination } from './store/resources.ts';
import { type RunOutcome, type RunRow, saveMultipart } from './store/runs.ts';
import type { AudienceSettings } from './schemas.ts';
import { audienceOriginOf, datasetSourceOf, fanoutPhase, type SnapshotAccess } from './fanout.ts';
import { dropReduceSpills } from './store/tasks.ts';

export interface ExecuteOptions {
  /**
   * True when the invocation's budget runs low: the run pauses between pages and continues later.
   * `owed`: D1 queries the run still has to make for rows already read (see `partitionSpill`).
   */
  readonly pause?: (owed?: number) => boolean;
  /** Reads snapshot sources (fanout.ts): a dataflow whose audiences read one is fanned out. */
  readonly snapshots?: SnapshotAccess;
}

/**
 * Exports one run (or the next part of it) with the host's platform; throws ExportError (recorded
 * on the run) when anything fails. A run that outgrows its invocation returns `{continued}`: the
 * consumer keeps the checkpoint and sends the run to the queue again.
 */
export async function executeRun(
  env: Env,
  run: RunRow,
  platform: Platform,
  options: ExecuteOptions = {},
): Promise<RunOutcome | { continued: RunCheckpoint } | { fannedOut: number }> {
  const flow = await getDataflow(env.DB, run.org_id, run.dataflow_id);
  const row = flow && (await getDestination(env.DB, run.org_id, flow.destination_id));
  if (!flow || !row) throw new ExportError('CONFIG_INVALID', 'The dataflow or its destination no longer exists');
  const audienceIds = flow.dataset_id === null ? runAudiences(flow, run) : [];
  // Audiences or a dataset reading a snapshot source, or audiences of a sharded organization's profiles:
  // the run is mapped by its tasks first (one per snapshot unit or shard key range), then reduced here.
  const datasetSource = flow.dataset_id !== null ? await datasetSourceOf(env.DB, run.org_id, flow.dataset_id) : undefined;
  const origin = datasetSource !== undefined ? { sourceId: datasetSource } : await audienceOriginOf(env.DB, run.org_id, audienceIds);
  const phase = origin && (await fanoutPhase(env, run, flow, audienceIds, origin, options.snapshots, platform.now()));
  if (phase && 'fannedOut' in phase) return phase;
  const reduce = phase?.reduce;
  const destination = await openDestination(env, row);
  const prepared = await exportService(platform).prepare(await definitionOf(env, row, destination, flow));
  const scheduledTime = new Date(run.scheduled_time);
  const reader = d1DataReader(env.DB, run.org_id);
  const valueBytes = d1ValueBytes(env);
  const states = d1States(env.DB, run.org_id, flow.id, run.id, valueBytes);
  const checkpoint = json<RunCheckpoint>(run.checkpoint);
  if (!checkpoint) {
    // A run (re)starting from the top starts from the committed states: what an earlier attempt
    // staged or spilled goes. A continued run keeps them: it goes on from its checkpoint.
    await states.discard();
    // A fanned-out run keeps its tasks' sorted runs: the reduce reads them.
    await (reduce ? dropReduceSpills : dropSpills)(env.DB, run.org_id, run.id);
  }
  const partitions = partitionSpill(env.DB, run, valueBytes);
  const budgets = sortBudgets(env, valueBytes, { partitioned: Boolean(flow.partition_by), dedup: Boolean(json<{ dedup?: unknown }>(flow.mapping)?.dedup) });
  const pause = options.pause && (() => options.pause!(partitions.owed()));
  const input = {
    data: reader,
    states,
    mode: exportModeOf(flow),
    now: scheduledTime,
    spill: (subjectId: string) => d1Spill(env.DB, run.org_id, run.id, subjectId, valueBytes),
    // A diff run's changed and removed rows wait beside its sorted runs (dropped with them).
    deltaSpill: (subjectId: string, kind: string) => d1Spill(env.DB, run.org_id, run.id, `${subjectId}:${kind}`, valueBytes),
    ...(Number(env.EXPORT_PROFILE_PAGE) > 0 && { pageSize: Number(env.EXPORT_PROFILE_PAGE) }),
    // Dedup holds up to 64 MiB of candidates (as ExternalSorter counts them; ~56 MiB of workerd's
    // heap for ASCII text) before it spills a sorted run, and merges the last run from memory: an
    // audience of ~300k members of 9 columns (1M profiles in the bench, ~54 MiB) never spills. A run
    // spilled at a pause is ~25 rows of ASCII text, at most ~54 of text beyond Latin-1 (3 UTF-8 bytes
    // for 2 heap bytes), within the pause reserve (budget.ts). Partitioned, it leaves a quarter to
    // the partition sort (sortBudgets).
    sortBudget: budgets.dedup,
    ...(pause && { pause }),
  };
  const namings = new Map((json<AudienceSettings[]>(flow.audience_settings) ?? []).flatMap((a) => (a.naming ? [[a.id, a.naming] as const] : [])));
  const subjects =
    flow.dataset_id !== null
      ? [
          await datasetSubject({
            ...input,
            datasetId: flow.dataset_id,
            folderPath: destination.folderPath,
            ...(reduce && { snapshot: reduce.dataset(flow.dataset_id) }),
          }),
        ]
      : audienceSubjectOpeners({
          ...input,
          audienceIds,
          mapping: compileMapping(json(flow.mapping)),
          ...(reduce && { reduce: (id: string, resume?: unknown) => reduce.audience(id, resume) }),
        }).map((open, i) => {
          // An audience with its own file naming: its files are named by it, not by the dataflow's.
          const fileName = namings.get(audienceIds[i]!);
          return fileName ? async (resume?: unknown) => ({ ...(await open(resume)), fileName }) : open;
        });
  const report = await prepared.run(subjects, {
    runId: run.id,
    scheduledTime,
    uploads: multipartStore(env, run),
    checkpoint,
    // A partitioned subject sorts its rows by partition, spilling to D1 past its share (sortBudgets).
    spill: partitions.store,
    sortBudget: budgets.partition,
    commit: async () => {
      await states.promote(flow.dataset_id !== null ? [flow.dataset_id] : audienceIds);
      await dropSpills(env.DB, run.org_id, run.id);
    },
  });
  if (report.continued) return { continued: report.continued };
  return {
    rows: report.rows,
    bytes: report.bytes,
    files: [...report.files, ...(report.manifest ? [report.manifest] : [])],
    skipped: report.skipped,
  };
}

/**
 * Bytes of heap (as ExternalSorter counts them) the run's two sorts may hold before they spill:
 * deduplication's candidates, and a partitioned export's rows. Both hold at once: dedup's merge feeds
 * the partition sort while dedup's last run is still in memory (it is merged from there). So with
 * both, they share one budget — the partition sort takes a quarter of dedup's and dedup keeps the
 * rest — and together they hold no more than dedup alone (32 values' worth: 64,000,000 bytes at D1's
 * 2 MB values, what the Worker's 128 MB heap was measured to carry beside everything else;
 * bench/audiences.ts). Alone, the partition sort holds a quarter of that (16,000,000).
 * `EXPORT_SORT_BUDGET` sets the whole budget (tests force it low).
 */
export function sortBudgets(env: Pick<Env, 'EXPORT_SORT_BUDGET'>, valueBytes: number, run: { partitioned: boolean; dedup: boolean }): { dedup: number; partition: number } {
  const forced = Number(env.EXPORT_SORT_BUDGET) > 0 ? Number(env.EXPORT_SORT_BUDGET) : undefined;
  const total = forced ?? Math.min(64 * 1024 * 1024, valueBytes * 32);
  if (!run.partitioned || !run.dedup) return { dedup: total, partition: forced ?? Math.floor(total / 4) };
  const partition = Math.floor(total / 4);
  return { dedup: total - partition, partition };
}

/**
 * Where partitioned subjects sort their rows (D1, `export_spill`), and how many D1 queries reading
 * back what they spilled will still take: the run pauses early enough to leave them in its budget.
 * A spilled write of `n` UTF-8 bytes is read back in at most 2·⌈n / row⌉ + 1 queries (rows are packed
 * to 90% of the value limit and cut before a line that would not fit; one more query finds the end).
 */
function partitionSpill(db: Env['DB'], run: RunRow, valueBytes: number): { store: (key: string) => SpillStore; owed: () => number } {
  let owed = 0;
  const rowBytes = Math.floor(valueBytes * 0.9);
  return {
    owed: () => owed,
    store: (key) => {
      const store = d1Spill(db, run.org_id, run.id, key, valueBytes);
      return {
        write: async (runNo, lines) => {
          await store.write(runNo, lines);
          let bytes = 0;
          for (const line of lines) bytes += utf8Bound(line) + 1;
          owed += 2 * Math.ceil(bytes / rowBytes) + 1;
        },
        read: (runNo) =>
          (async function* () {
            for await (const chunk of store.read(runNo)) {
              owed = Math.max(0, owed - 1);
              yield chunk;
            }
          })(),
        drop: async () => {
          owed = 0;
          await store.drop();
        },
      };
    },
  };
}

/**
 * The audiences a run exports: the dataflow's, or those its slot was for (a per-audience schedule)
 * that are still in the dataflow.
 */
export function runAudiences(flow: DataflowRow, run: RunRow): string[] {
  const all = json<string[]>(flow.audience_ids) ?? [];
  const only = json<string[]>(run.audience_ids);
  if (!only) return all;
  const kept = all.filter((id) => only.includes(id));
  if (kept.length === 0) throw new ExportError('CONFIG_INVALID', `The audiences of this run (${only.join(', ')}) are no longer in the dataflow`);
  return kept;
}

/**
 * Gives up a run that continued over several invocations: the files its checkpoint lists (published
 * by earlier invocations) are taken back, so a failed run leaves nothing behind.
 */
export async function abandonRun(env: Env, run: RunRow, platform: Platform): Promise<void> {
  const checkpoint = json<RunCheckpoint>(run.checkpoint);
  // Nothing was published yet; what the run (or a fanned-out run's tasks) spilled goes.
  if (!checkpoint) return dropSpills(env.DB, run.org_id, run.id);
  const flow = await getDataflow(env.DB, run.org_id, run.dataflow_id);
  const row = flow && (await getDestination(env.DB, run.org_id, flow.destination_id));
  if (!flow || !row) return dropSpills(env.DB, run.org_id, run.id);
  const prepared = await exportService(platform).prepare(await definitionOf(env, row, await openDestination(env, row), flow));
  await prepared.remove(checkpoint.files);
  await dropSpills(env.DB, run.org_id, run.id);
}

/** A dataflow's export definition: its destination, its file naming, and the organization's names. */
export async function definitionOf(
  env: Env,
  row: DestinationRow,
  destination: StoredDestination,
  flow?: DataflowRow,
): Promise<ExportDefinition> {
  const org = await getOrganization(env.DB, row.org_id);
  return destinationDefinition({
    destination: destinationOf(destination),
    info: { id: row.id, name: row.name, organization: org?.name ?? row.org_id, sandbox: org?.sandbox ?? 'prod' },
    ...(destination.externalId !== undefined && { externalId: destination.externalId }),
    ...(flow && { fileName: json(flow.naming) ?? {} }),
    fileNameAt: 'naming',
    ...(flow?.partition_by && { partitionBy: json(flow.partition_by) }),
    partitionByAt: 'partitionBy',
  });
}

/**
 * In-flight multipart uploads of a run, persisted in the run row (upload id and part ETags). One
 * consumer holds a run at a time (lease), so writes are serialised here rather than in SQL.
 */
function multipartStore(env: Env, run: RunRow): UploadStateStore {
  const uploads = new Map(Object.entries(json<Record<string, Omit<UploadState, 'key'>>>(run.multipart) ?? {}));
  let chain = Promise.resolve();
  const persist = () => (chain = chain.then(() => saveMultipart(env.DB, run.id, Object.fromEntries(uploads))));
  return {
    get: async (key) => uploads.get(key),
    put: async (state) => {
      const parts = state.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, size: p.size }));
      uploads.set(state.key, { uploadId: state.uploadId, parts });
      await persist();
    },
    delete: async (key) => {
      if (uploads.delete(key)) await persist();
    },
  };
}
