/**
 * The preview of a rule audience that reads a snapshot source: the same counts as over D1
 * (preview.ts: members, and those a draft mapping would skip), from the snapshot's first units, within
 * the preview's bound. The snapshot is planned like a source test (its first TEST_MAX_OBJECTS objects
 * listed, footers read), then read unit by unit until PREVIEW_MAX_PROFILES rows are counted. Past the
 * bound the counts are scaled to the snapshot's rows when they are known (Parquet footers of every
 * file); when they are not (NDJSON or CSV, or more objects than the plan lists) the preview is refused
 * with what to do instead, rather than guessed.
 */
import type { CompiledMapping } from '../core/data/mapping.ts';
import { ruleMembership } from '../core/data/audience.ts';
import type { ProfilePredicate } from '../core/data/audience.ts';
import { planSnapshot } from '../core/snapshot/plan.ts';
import { readUnit, snapshotProfiles } from '../core/snapshot/read.ts';
import type { ObjectStore, SnapshotSource } from '../core/snapshot/types.ts';
import { compileRule } from '../core/rules/index.ts';
import { ApiError } from './errors.ts';
import { type AudiencePreview, previewCounter } from './preview.ts';
import { firstObjects, TEST_MAX_OBJECTS } from './source-test.ts';

/** Counts a snapshot audience's members (rule `rule`) over the first `maxProfiles` rows of its source. */
export async function previewSnapshotAudience(
  opened: { source: SnapshotSource; store: ObjectStore },
  audience: { id: string; rule: string; sourceId: string },
  mapping: CompiledMapping | undefined,
  now: Date,
  maxProfiles: number,
): Promise<AudiencePreview> {
  const { source, store } = opened;
  const view = firstObjects(store, TEST_MAX_OBJECTS);
  const plan = await planSnapshot(view.store, source);
  const counter = previewCounter(ruleMembership(compileRule(audience.rule) as ProfilePredicate), mapping, now);
  const columns = plan.schema.map((c) => c.name);
  let complete = !view.more();
  units: for (const unit of plan.units) {
    const reader = snapshotProfiles(readUnit(store, plan, unit, columns), source).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const profile of value) {
          if (counter.scanned() === maxProfiles) {
            complete = false;
            break units;
          }
          counter.add(profile);
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
  if (complete) return counter.result(audience.id, counter.scanned(), true);
  const total = plan.rows !== undefined && !view.more() ? plan.rows : undefined;
  if (total === undefined) {
    throw new ApiError(
      409,
      'CONFLICT',
      `This audience's source ${audience.sourceId} holds more than the ${maxProfiles.toLocaleString('en')} profiles a preview counts, and how many rows it has is not known (${view.more() ? `more than ${TEST_MAX_OBJECTS} objects` : `${plan.format} files have no row counts`}), so the counts cannot be scaled: export it (a run reads every file) or test the source (POST /v1/sources/${audience.sourceId}/test)`,
      { sourceId: audience.sourceId },
    );
  }
  return counter.result(audience.id, total, false);
}
