/**
 * Per-audience schedules inside one dataflow, as the reference's activation flow sets them: each
 * audience may run on its own schedule (or only on demand) instead of the dataflow's. Audiences that
 * keep the dataflow's schedule run together, one run per slot, under the dataflow's run keys as
 * before; an audience with its own schedule gets a run of its own per slot, keyed by its id.
 */
import { dueRuns, runKey, type DueOptions } from './due.ts';
import type { Schedule } from './model.ts';

/** One audience's own schedule: a schedule, or null for "only on demand" (absent: the dataflow's). */
export interface AudienceSchedule {
  readonly id: string;
  readonly schedule?: Schedule | null;
}

export interface ScheduledDataflow {
  readonly id: string;
  /** The dataflow's schedule, which audiences without their own follow; absent: on demand. */
  readonly schedule?: Schedule | undefined;
  /** Every audience of the dataflow, in order (none for a dataset dataflow). */
  readonly audienceIds: readonly string[];
  /** Audiences with their own schedule. */
  readonly audiences?: readonly AudienceSchedule[];
}

/** One run a tick should create. */
export interface DueRun {
  /** Its unique run key: the store makes each key run once. */
  readonly key: string;
  readonly slot: Date;
  /** The audiences it exports; absent: all of the dataflow's (and its dataset). */
  readonly audienceIds?: readonly string[];
}

export interface DueAudienceOptions extends Omit<DueOptions, 'evaluations'> {
  /** For `afterEvaluation` schedules: when evaluations touching these audiences were closed. */
  readonly evaluations?: (audienceIds: readonly string[]) => readonly Date[];
}

/**
 * The runs of a dataflow due in (lastTick, now]: one per slot of its own schedule for the audiences
 * that follow it, and one per slot of each audience's own schedule. Runs come oldest slot first.
 *
 * @example dueAudienceRuns({ id, schedule: daily6, audienceIds: [a, b], audiences: [{ id: b, schedule: hourly3 }] }, lastTick, now)
 */
export function dueAudienceRuns(
  flow: ScheduledDataflow,
  lastTick: Date,
  now: Date,
  options: DueAudienceOptions = {},
): { runs: DueRun[]; missed: number } {
  const own = new Map((flow.audiences ?? []).filter((a) => a.schedule !== undefined).map((a) => [a.id, a.schedule]));
  const shared = flow.audienceIds.filter((id) => !own.has(id));
  const runs: DueRun[] = [];
  let missed = 0;
  const add = (schedule: Schedule, audienceIds: readonly string[], prefix: string, only?: readonly string[]) => {
    const afterEvaluation = schedule.time === 'afterEvaluation';
    const due = dueRuns(schedule, lastTick, now, {
      ...(options.maxCatchUp !== undefined && { maxCatchUp: options.maxCatchUp }),
      ...(afterEvaluation && { evaluations: options.evaluations?.(audienceIds) ?? [] }),
    });
    missed += due.missed;
    for (const slot of due.slots) {
      // `once` after evaluation: one run ever, whichever tick brings the first evaluation.
      const key = afterEvaluation && schedule.frequency === 'once' ? `${prefix}:once-after-evaluation` : runKey(prefix, slot);
      runs.push({ key, slot, ...(only && { audienceIds: only }) });
    }
  };
  // The dataflow's own slots: its dataset, or the audiences that keep its schedule (all of them: no list).
  if (flow.schedule && (flow.audienceIds.length === 0 || shared.length > 0)) {
    add(flow.schedule, shared, flow.id, shared.length === flow.audienceIds.length ? undefined : shared);
  }
  for (const id of flow.audienceIds) {
    const schedule = own.get(id);
    if (schedule) add(schedule, [id], `${flow.id}:${id}`, [id]);
  }
  runs.sort((a, b) => a.slot.getTime() - b.slot.getTime());
  return { runs, missed };
}
