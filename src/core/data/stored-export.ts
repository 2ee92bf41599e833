/**
 * Store-backed wiring of the export plans: load the audience (or dataset) and its export state for
 * a dataflow, build the membership, and return a plan whose `commit()` writes the state back.
 * The rule compiler is passed in, so this module does not depend on the rule engine.
 */
import { ExportError } from '../errors.ts';
import {
  type AudienceMembership,
  type ProfilePredicate,
  ruleMembership,
  uploadMembership,
} from './audience.ts';
import { type DatasetPlan, planDatasetExport } from './dataset-export.ts';
import { type AudiencePlan, type ExportMode, planAudienceExport } from './export-plan.ts';
import type { CompiledMapping } from './mapping.ts';
import type { Audience } from './model.ts';
import {
  type DataStore,
  DEFAULT_PAGE_SIZE,
  stateSlot,
  streamProfiles,
  streamUploadMembers,
} from './store.ts';

/** Turns rule source into a predicate (the rule engine's `compileRule`). */
export type RuleCompiler = (source: string) => ProfilePredicate;

/** The membership of a stored audience: its compiled rule, or its uploaded identities. */
export async function audienceMembership(
  store: DataStore,
  audience: Audience,
  compileRule: RuleCompiler,
): Promise<AudienceMembership> {
  if (audience.kind === 'rule') return ruleMembership(compileRule(audience.rule));
  return uploadMembership(streamUploadMembers(store, audience.id));
}

export interface StoredAudienceExport {
  readonly store: DataStore;
  readonly dataflowId: string;
  readonly audienceId: string;
  readonly compileRule: RuleCompiler;
  readonly mapping: CompiledMapping;
  readonly mode: ExportMode;
  readonly now: Date;
  readonly pageSize?: number;
}

/** Plans an audience export from a store; `commit()` saves the state under (dataflow, `audience:<id>`). */
export async function planStoredAudienceExport(
  options: StoredAudienceExport,
): Promise<AudiencePlan & { audience: Audience }> {
  const { store, dataflowId, audienceId } = options;
  const audience = await store.getAudience(audienceId);
  if (!audience) throw new ExportError('CONFIG_INVALID', `Audience ${audienceId} does not exist`);
  const slot = await stateSlot(store, { dataflowId, subjectId: `audience:${audienceId}` }, 'audience');
  const plan = planAudienceExport({
    membership: await audienceMembership(store, audience, options.compileRule),
    profiles: () => streamProfiles(store, options.pageSize ?? DEFAULT_PAGE_SIZE),
    mapping: options.mapping,
    now: options.now,
    mode: options.mode,
    previous: slot.previous,
    save: slot.save,
  });
  return { ...plan, audience };
}

/** Plans a dataset export from a store; `commit()` saves the watermark under (dataflow, `dataset:<id>`). */
export async function planStoredDatasetExport(options: {
  readonly store: DataStore;
  readonly dataflowId: string;
  readonly datasetId: string;
  readonly mode: ExportMode;
  readonly now: Date;
}): Promise<DatasetPlan> {
  const { store, dataflowId, datasetId } = options;
  const dataset = await store.getDataset(datasetId);
  if (!dataset) throw new ExportError('CONFIG_INVALID', `Dataset ${datasetId} does not exist`);
  const slot = await stateSlot(store, { dataflowId, subjectId: `dataset:${datasetId}` }, 'dataset');
  return planDatasetExport({
    store,
    dataset,
    mode: options.mode,
    now: options.now,
    previous: slot.previous,
    save: slot.save,
  });
}
