/**
 * What a run exports, one subject at a time: an audience (its members mapped to rows, in full or
 * incrementally against the state its last successful run left) or a dataset (its records, after the
 * last run's watermark). Hosts give the data and the state store; a file, D1 or SQLite all serve.
 */
import {
  type AudienceMembership,
  type ProfilePredicate,
  ruleMembership,
  uploadMembership,
} from '../core/data/audience.ts';
import { planDatasetExport } from '../core/data/dataset-export.ts';
import { type DeltaLog, type DeltaLogPosition, deltaLog, type LoggedKind } from '../core/data/delta-log.ts';
import {
  type AudienceResume,
  type DeltaKind,
  type ExportMode,
  type ProfileChunk,
  planAudienceExport,
  STATEFUL_MODES,
  type StateEntry,
  type StateSink,
} from '../core/data/export-plan.ts';
import { memorySpill, type SpillStore } from '../core/data/spill.ts';
import { pipeThrough } from '../core/streams.ts';
import type { CompiledMapping } from '../core/data/mapping.ts';
import type { Audience } from '../core/data/model.ts';
import {
  type AudienceExportState,
  type ChunkedAudienceState,
  type DataStore,
  type DatasetExportState,
  type ExportState,
  pageBatches,
  pages,
} from '../core/data/store.ts';
import { ExportError } from '../core/errors.ts';
import { compileRule } from '../core/rules/index.ts';
import type { RowBatch, Schema } from '../core/types.ts';
import type { FileNameOptions } from '../core/naming.ts';

/** One exported subject of a run. */
export interface Subject {
  /** The audience or dataset id (its export state's key). */
  readonly id: string;
  readonly audience?: { readonly id: string; readonly name: string };
  readonly dataset?: { readonly id: string };
  /** A folder template used instead of the output's (a dataset's `exportTime=` layout). */
  readonly folderPath?: string;
  /** File-name options used instead of the output's (an audience with its own naming in a dataflow). */
  readonly fileName?: FileNameOptions;
  /** A diff export's share of the subject: its files are named `…_<kind>` (see `audienceSeries`). */
  readonly kind?: DeltaKind;
  /** Columns in order; inferred from the first row when absent. */
  readonly schema?: Schema;
  readonly rows: ReadableStream<RowBatch>;
  /** Rows read but not exported, by reason (final once `rows` is read to the end). */
  skipped(): Record<string, number>;
  /** Stages the subject's new export state; called once all its rows are published. */
  stage?(): Promise<void>;
  /**
   * After its rows ended: where it stopped when its invocation's budget ran low (JSON, handed back
   * to its opener in the next invocation), or undefined when it is done.
   */
  paused?(): unknown;
}

/**
 * A run's view of export state: the committed states of its dataflow, and a place for this run's
 * new ones, which become current together (`promote`) only when the whole run has succeeded.
 */
export interface ExportStates {
  get(subjectId: string): Promise<ExportState | undefined>;
  stage(subjectId: string, state: ExportState): Promise<void>;
  /** Makes every state this run staged current at once. */
  promote(subjectIds: readonly string[]): Promise<void>;
  /** Drops whatever an earlier attempt of this run staged. */
  discard(): Promise<void>;
  /** Audience states in chunks (hosts with a database); without it a state is one object. */
  readonly chunks?: StateChunks;
}

/**
 * Audience state entries kept in chunks (each well under a database's value limit), by generation:
 * the run that wrote them. A run writes its own generation; its staged header makes it current.
 */
export interface StateChunks {
  /** This run's generation. */
  readonly generation: string;
  /** UTF-8 bytes a chunk may hold (under the store's value limit). */
  readonly maxBytes: number;
  /** A generation's first `chunks` chunks of entries for a subject, in key order. */
  read(subjectId: string, generation: string, chunks: number): AsyncIterable<readonly StateEntry[]>;
  /** Stores chunk `seq` (0, 1, …) of this run's entries for a subject. */
  write(subjectId: string, seq: number, entries: readonly StateEntry[]): Promise<void>;
}

/** Profiles per page of a stored audience: ~2.5 MB of D1 result at ~500 bytes a profile. */
export const PROFILE_PAGE = 5000;

const NON_ASCII = /[^\x00-\x7f]/;

/** At least the UTF-8 length of a string (a UTF-16 unit is at most 3 bytes), in one cheap pass. */
export function utf8Bound(text: string): number {
  // Mostly ASCII: one native scan answers, without a loop over every character.
  if (!NON_ASCII.test(text)) return text.length;
  let extra = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) extra += 2;
  return text.length + extra;
}

/** What subjects read: the export side of a data store (D1, SQLite, memory). */
export type ExportData = Pick<
  DataStore,
  'getAudience' | 'listProfiles' | 'listUploadMembers' | 'getDataset' | 'listDatasetRecords'
>;

export interface AudienceSubjectInput {
  readonly audience: { readonly id: string; readonly name: string };
  readonly membership: AudienceMembership;
  /** Opens a pass over the profiles (after profile id `after`, when a run resumes). */
  readonly profiles: (after?: string) => ReadableStream<ProfileChunk>;
  readonly mapping: CompiledMapping;
  readonly mode: ExportMode;
  readonly now: Date;
  readonly states?: ExportStates;
  /**
   * Keep a state for the next run: always for incremental dataflows; a full one needs none (the
   * CLI keeps one whenever `--state` is given, since its next run may be incremental).
   */
  readonly keepState?: boolean;
  /** Profiles arrive in id order (a store's keyset pages). */
  readonly ordered?: boolean;
  /** Take the sorted path even without dedup (see AudienceExportInput.sorted). */
  readonly sorted?: boolean;
  /** Where a deduplicating export's sorted runs spill (memory by default). */
  readonly spill?: SpillStore;
  /** True when the invocation's budget runs low: the subject stops between pages (see `paused`). */
  readonly pause?: () => boolean;
  /** The position `paused()` returned in an earlier invocation of the run. */
  readonly resume?: unknown;
  /** Bytes of candidates sorted in memory before a run spills (dedup only). */
  readonly sortBudget?: number;
  /** Diff mode: where the changed and removed rows wait for their files (memory by default). */
  readonly deltaSpills?: Readonly<Record<LoggedKind, SpillStore>>;
}

/** An audience's subject; in diff mode, its added rows, with the log of the others. */
export interface AudienceSubject extends Subject {
  /** Diff mode, once `rows` ended: how much of each logged kind there is to read. */
  deltas?(): DeltaLogPosition;
}

/** Where a paused audience subject goes on: the plan's position, the next state chunk, the delta log's length. */
interface AudiencePosition {
  readonly plan: AudienceResume;
  readonly stateSeq: number;
  readonly deltas?: DeltaLogPosition;
}

/** An audience subject over any profile stream; its state goes to `states` when given. */
export async function audienceSubject(input: AudienceSubjectInput): Promise<AudienceSubject> {
  const { audience, states } = input;
  const found = await states?.get(audience.id);
  const keep = states !== undefined && (input.keepState ?? STATEFUL_MODES.includes(input.mode));
  const chunks = states?.chunks;
  const resume = input.resume as AudiencePosition | undefined;
  let log: DeltaLog | undefined;
  const sink = keep && chunks ? chunkSink(states!, chunks, audience.id, resume?.stateSeq ?? 0) : undefined;
  const chunked = found?.kind === 'audience' && found.version === 2 ? found : undefined;
  const plan = planAudienceExport({
    membership: input.membership,
    profiles: input.profiles,
    mapping: input.mapping,
    now: input.now,
    mode: input.mode,
    ...(chunked && chunks
      ? {
          baseline: {
            mappingId: chunked.mappingId,
            members: chunked.members,
            entries: () => chunks.read(audience.id, chunked.generation, chunked.chunks),
          },
        }
      : { previous: found?.kind === 'audience' && found.version === 1 ? found : undefined }),
    ...(keep && (sink ? { state: sink } : { save: (state: AudienceExportState) => states!.stage(audience.id, state) })),
    ...(input.ordered && { ordered: true }),
    ...(input.sorted && { sorted: true }),
    ...(input.spill && { spill: input.spill }),
    ...(input.sortBudget && { sortBudget: input.sortBudget }),
    ...(resume && { resume: resume.plan }),
    ...(input.pause && { pause: input.pause }),
    ...(input.mode === 'diff' && { divert: (kind: LoggedKind, rows: RowBatch) => log!.write(kind, rows) }),
  });
  if (input.mode === 'diff') {
    const spills = input.deltaSpills ?? { changed: memorySpill(), removed: memorySpill() };
    log = deltaLog(spills, plan.schema, resume?.deltas);
  }
  const delta = log;
  return {
    id: audience.id,
    audience,
    schema: plan.schema,
    // The last logged rows are written when the rows end (a pause ends them too).
    rows: delta ? pipeThrough(plan.rows, new TransformStream<RowBatch, RowBatch>({ flush: () => delta.flush() })) : plan.rows,
    ...(delta && { kind: 'added' as const, deltas: () => delta.position() }),
    skipped: () => ({ ...plan.stats.skipped }),
    stage: async () => {
      await plan.commit();
    },
    paused: () => {
      const at = plan.paused();
      return at && ({ plan: at, stateSeq: sink?.seq ?? 0, ...(delta && { deltas: delta.position() }) } satisfies AudiencePosition);
    },
  };
}

/** What reading an audience's logged rows needs: nothing is evaluated again. */
export interface LoggedInput {
  readonly audience: { readonly id: string; readonly name: string };
  readonly mapping: CompiledMapping;
  /** Where the diff's changed and removed rows wait (the same stores its added subject wrote to). */
  readonly spills: Readonly<Record<LoggedKind, SpillStore>>;
  /** True when the invocation's budget runs low: reading stops between runs of the log. */
  readonly pause?: () => boolean;
}

/** Where a paused logged subject goes on: the log's length, and the next run of it to read. */
interface LoggedPosition {
  readonly deltas: DeltaLogPosition;
  readonly next: number;
}

/**
 * An audience's entries in a run: its subject, or in diff mode its added rows, then its changed
 * rows, then its removed rows, each kind its own files. The added rows are exported as they are
 * decided, the others logged meanwhile and read back after (each may pause and resume on its own).
 * `base` gives what the logged kinds need, and is called once: both see the same spill stores.
 */
export function audienceSeries(
  mode: ExportMode,
  open: (resume?: unknown) => Promise<AudienceSubjectInput>,
  base: () => Promise<LoggedInput>,
): ((resume?: unknown) => Promise<Subject>)[] {
  if (mode !== 'diff') return [async (resume?: unknown) => audienceSubject(await open(resume))];
  let based: Promise<LoggedInput> | undefined;
  const common = () => (based ??= base());
  let deltas: DeltaLogPosition | undefined;
  const added = async (resume?: unknown): Promise<Subject> => {
    const subject = await audienceSubject({ ...(await open(resume)), deltaSpills: (await common()).spills });
    return {
      ...subject,
      stage: async () => {
        await subject.stage?.();
        deltas = subject.deltas?.();
      },
    };
  };
  const logged = (kind: LoggedKind) => async (resume?: unknown): Promise<Subject> => {
    const at = resume as LoggedPosition | undefined;
    deltas = at?.deltas ?? deltas;
    if (!deltas) throw new ExportError('INTERNAL', `The ${kind} rows of a diff export were opened before its added rows were written`);
    const input = await common();
    const from = deltas;
    const read = deltaLog(input.spills, input.mapping.schema, from).read(kind, at?.next ?? 0, input.pause);
    return {
      id: input.audience.id,
      audience: input.audience,
      kind,
      schema: input.mapping.schema,
      rows: read.rows,
      skipped: () => ({}),
      paused: () => {
        const next = read.stoppedAt();
        return next === undefined ? undefined : ({ deltas: from, next } satisfies LoggedPosition);
      },
    };
  };
  return [added, logged('changed'), logged('removed')];
}

/** A state sink writing this run's entries in chunks (from `seq`), then staging the header. */
function chunkSink(states: ExportStates, chunks: StateChunks, subjectId: string, from: number): StateSink & { readonly seq: number } {
  let seq = from;
  let pending: StateEntry[] = [];
  let chars = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const entries = pending;
    pending = [];
    chars = 0;
    await chunks.write(subjectId, seq++, entries);
  };
  return {
    get seq() {
      return seq;
    },
    write: async (entries) => {
      for (const entry of entries) {
        const size = utf8Bound(entry[0]) + entry[1].length + 2;
        if (chars + size > chunks.maxBytes) await flush();
        pending.push(entry);
        chars += size;
      }
    },
    flush,
    close: async (header) => {
      await flush();
      const state: ChunkedAudienceState = { ...header, version: 2, generation: chunks.generation, chunks: seq };
      await states.stage(subjectId, state);
    },
  };
}

/** The membership of a stored audience: its compiled rule, or its uploaded identities. */
export async function membershipOf(data: ExportData, audience: Audience): Promise<AudienceMembership> {
  if (audience.kind === 'rule') return ruleMembership(compileRule(audience.rule) as ProfilePredicate);
  return uploadMembership(pages((request) => data.listUploadMembers(audience.id, request)));
}

export interface StoredSubjectsInput {
  readonly data: ExportData;
  readonly states: ExportStates;
  readonly mode: ExportMode;
  /** The run's evaluation time (its scheduled time). */
  readonly now: Date;
  /** Profiles per page read (stores clamp it); the next page is read while one is processed. */
  readonly pageSize?: number;
  /** Where a subject's deduplication spills its sorted runs (memory by default). */
  readonly spill?: (subjectId: string) => SpillStore;
  /** True when the invocation's budget runs low (see AudienceSubjectInput.pause). */
  readonly pause?: () => boolean;
  /** Bytes of candidates a deduplicating subject sorts in memory before it spills a run. */
  readonly sortBudget?: number;
  /** Where a diff export's changed and removed rows wait for their files (memory by default). */
  readonly deltaSpill?: (subjectId: string, kind: LoggedKind) => SpillStore;
  /**
   * A fanned-out run's reduce (worker/fanout.ts): an audience's profiles were scanned by the run's
   * tasks; its subject merges their sorted runs (`spill`), starting from their summed counts (`start`).
   */
  readonly reduce?: (audienceId: string) => { readonly spill: SpillStore; readonly start: AudienceResume };
}

/**
 * Openers of stored audiences' subjects, in the order given (a subject is opened only when the run
 * reaches it, with its resume position when the run resumes there); a missing audience fails the run.
 */
export function audienceSubjectOpeners(
  input: StoredSubjectsInput & { readonly audienceIds: readonly string[]; readonly mapping: CompiledMapping },
): ((resume?: unknown) => Promise<Subject>)[] {
  return input.audienceIds.flatMap((id) => {
    const audienceOf = async () => {
      const audience = await input.data.getAudience(id);
      if (!audience) throw new ExportError('CONFIG_INVALID', `Audience "${id}" no longer exists`);
      return audience;
    };
    const spill = input.deltaSpill ?? (() => memorySpill());
    return audienceSeries(
      input.mode,
      async (resume?: unknown) => {
        const audience = await audienceOf();
        const reduced = input.reduce?.(audience.id);
        const start: AudiencePosition | undefined = reduced && { plan: reduced.start, stateSeq: 0 };
        return {
          audience: { id: audience.id, name: audience.name },
          membership: await membershipOf(input.data, audience),
          profiles: reduced
            ? () => {
                throw new ExportError('INTERNAL', "A fanned-out run's reduce reads no profile: its tasks scanned them");
              }
            : (after?: string) =>
                pageBatches((request) => input.data.listProfiles(request), input.pageSize ?? PROFILE_PAGE, { prefetch: true, after }),
          mapping: input.mapping,
          mode: input.mode,
          now: input.now,
          states: input.states,
          ordered: true,
          ...(reduced ? { sorted: true, spill: reduced.spill } : input.spill && { spill: input.spill(audience.id) }),
          ...(input.pause && { pause: input.pause }),
          ...(input.sortBudget && { sortBudget: input.sortBudget }),
          ...((resume ?? start) !== undefined && { resume: resume ?? start }),
        };
      },
      async () => {
        const audience = await audienceOf();
        return {
          audience: { id: audience.id, name: audience.name },
          mapping: input.mapping,
          spills: { changed: spill(audience.id, 'changed'), removed: spill(audience.id, 'removed') },
          ...(input.pause && { pause: input.pause }),
        };
      },
    );
  });
}

/** Subjects for stored audiences, all opened now (see `audienceSubjectOpeners`; not in diff mode, whose kinds open in turn). */
export async function audienceSubjects(
  input: StoredSubjectsInput & { readonly audienceIds: readonly string[]; readonly mapping: CompiledMapping },
): Promise<Subject[]> {
  if (input.mode === 'diff') throw new ExportError('INTERNAL', 'A diff export opens its kinds one after another: use audienceSubjectOpeners');
  const subjects: Subject[] = [];
  for (const open of audienceSubjectOpeners(input)) subjects.push(await open());
  return subjects;
}

/**
 * The subject of a stored dataset: its records in schema order, the first run in full, later ones
 * after the last run's watermark, into the reference's `<folder>/<datasetId>/exportTime=YYYYMMDDHHMM/`.
 */
export async function datasetSubject(
  input: StoredSubjectsInput & { readonly datasetId: string; readonly folderPath: string },
): Promise<Subject> {
  const dataset = await input.data.getDataset(input.datasetId);
  if (!dataset) throw new ExportError('CONFIG_INVALID', `Dataset "${input.datasetId}" no longer exists`);
  if (input.mode !== 'full' && input.mode !== 'incremental') throw new ExportError('CONFIG_INVALID', DATASET_MODES);
  const found = await input.states.get(dataset.id);
  const plan = planDatasetExport({
    store: input.data,
    dataset,
    mode: input.mode,
    now: input.now,
    previous: found?.kind === 'dataset' ? (found as DatasetExportState) : undefined,
    save: (state) => input.states.stage(dataset.id, state),
  });
  return {
    id: dataset.id,
    dataset: { id: dataset.id },
    folderPath: datasetFolder(input.folderPath),
    schema: plan.schema,
    rows: plan.rows,
    skipped: () => ({ ...plan.stats.skipped }),
    stage: async () => {
      await plan.commit();
    },
  };
}

/** Why a dataset cannot export in insert-only or diff mode (configuration checks say the same). */
export const DATASET_MODES =
  "exportMode: a dataset exports in full or incremental mode; insert-only and diff compare member keys with the last run's state, which only audiences keep";

/**
 * The reference's dataset layout as a folder template: `<folder>/%DATASET_ID%/exportTime=%YYYY%%MM%%DD%%HH%%MI%`
 * (UTC, from the run's scheduled time).
 *
 * @example datasetFolder('exports') // 'exports/%DATASET_ID%/exportTime=%YYYY%%MM%%DD%%HH%%MI%'
 */
export function datasetFolder(folderPath: string): string {
  const base = folderPath.replace(/\/+$/, '');
  return `${base ? `${base}/` : ''}%DATASET_ID%/exportTime=%YYYY%%MM%%DD%%HH%%MI%`;
}
