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
import { type ExportMode, type ProfileChunk, planAudienceExport } from '../core/data/export-plan.ts';
import type { CompiledMapping } from '../core/data/mapping.ts';
import type { Audience } from '../core/data/model.ts';
import {
  type AudienceExportState,
  type DataStore,
  type DatasetExportState,
  type ExportState,
  pageBatches,
  pages,
} from '../core/data/store.ts';
import { ExportError } from '../core/errors.ts';
import { compileRule } from '../core/rules/index.ts';
import type { RowBatch, Schema } from '../core/types.ts';

/** One exported subject of a run. */
export interface Subject {
  /** The audience or dataset id (its export state's key). */
  readonly id: string;
  readonly audience?: { readonly id: string; readonly name: string };
  readonly dataset?: { readonly id: string };
  /** A folder template used instead of the output's (a dataset's `exportTime=` layout). */
  readonly folderPath?: string;
  /** Columns in order; inferred from the first row when absent. */
  readonly schema?: Schema;
  readonly rows: ReadableStream<RowBatch>;
  /** Rows read but not exported, by reason (final once `rows` is read to the end). */
  skipped(): Record<string, number>;
  /** Stages the subject's new export state; called once all its rows are published. */
  stage?(): Promise<void>;
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
}

/** What subjects read: the export side of a data store (D1, SQLite, memory). */
export type ExportData = Pick<
  DataStore,
  'getAudience' | 'listProfiles' | 'listUploadMembers' | 'getDataset' | 'listDatasetRecords'
>;

export interface AudienceSubjectInput {
  readonly audience: { readonly id: string; readonly name: string };
  readonly membership: AudienceMembership;
  /** Opens a fresh pass over every profile (called twice when the mapping deduplicates). */
  readonly profiles: () => ReadableStream<ProfileChunk>;
  readonly mapping: CompiledMapping;
  readonly mode: ExportMode;
  readonly now: Date;
  readonly states?: ExportStates;
}

/** An audience subject over any profile stream; its state goes to `states` when given. */
export async function audienceSubject(input: AudienceSubjectInput): Promise<Subject> {
  const { audience, states } = input;
  const found = await states?.get(audience.id);
  const plan = planAudienceExport({
    membership: input.membership,
    profiles: input.profiles,
    mapping: input.mapping,
    now: input.now,
    mode: input.mode,
    previous: found?.kind === 'audience' ? (found as AudienceExportState) : undefined,
    save: async (state) => states?.stage(audience.id, state),
  });
  return {
    id: audience.id,
    audience,
    schema: plan.schema,
    rows: plan.rows,
    skipped: () => ({ ...plan.stats.skipped }),
    stage: async () => {
      await plan.commit();
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
}

/** Subjects for stored audiences, in the order given; a missing audience fails the run. */
export async function audienceSubjects(
  input: StoredSubjectsInput & { readonly audienceIds: readonly string[]; readonly mapping: CompiledMapping },
): Promise<Subject[]> {
  const subjects: Subject[] = [];
  for (const id of input.audienceIds) {
    const audience = await input.data.getAudience(id);
    if (!audience) throw new ExportError('CONFIG_INVALID', `Audience "${id}" no longer exists`);
    subjects.push(
      await audienceSubject({
        audience: { id: audience.id, name: audience.name },
        membership: await membershipOf(input.data, audience),
        profiles: () => pageBatches((request) => input.data.listProfiles(request)),
        mapping: input.mapping,
        mode: input.mode,
        now: input.now,
        states: input.states,
      }),
    );
  }
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
