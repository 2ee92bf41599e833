/**
 * The two halves of a fanned-out audience export (docs/SNAPSHOTS.md, "Fan-out"): every map task
 * scans its share of the profiles into ONE sorted run per audience (`scanAudience`), and the reduce
 * merges the runs of every task (`planAudienceExport` with `sorted` and a `resume` saying the scan
 * is done) over `unionSpill` — the tasks' stores seen as one, run n being the n-th task's run.
 *
 * The reduce's k-way merge holds one chunk of every run at once. A task therefore writes its run
 * in rows of at most `taskRowBytes(tasks)` bytes: the merge holds at most `REDUCE_MERGE_BYTES` of
 * spilled text whatever the number of tasks (a chunk is split into lines, so briefly twice that).
 */
import { ExportError } from '../errors.ts';
import { type AudienceResume, emptyStats, type ExportStats } from './export-plan.ts';
import type { SpillStore } from './spill.ts';

/** UTF-8 bytes of spilled rows the reduce's merge holds at once, across every task's run. */
export const REDUCE_MERGE_BYTES = 24 * 1024 * 1024;

/** The smallest row a task writes its run in (smaller rows cost more queries than they save). */
export const MIN_TASK_ROW_BYTES = 16 * 1024;

/**
 * The row size a task writes its sorted run in, so that one row of every task's run fits the
 * reduce's merge budget (`budget`, default REDUCE_MERGE_BYTES), within [`min` (MIN_TASK_ROW_BYTES), `max`].
 *
 * @example taskRowBytes(100, 1_800_000) // 251658: 100 runs of ~246 KiB rows hold 24 MiB
 */
export function taskRowBytes(
  tasks: number,
  max: number,
  budget = REDUCE_MERGE_BYTES,
  min = MIN_TASK_ROW_BYTES,
): number {
  return Math.max(min, Math.min(max, Math.floor(budget / Math.max(1, tasks))));
}

/** The most tasks one run may fan out to: past it, rows at MIN_TASK_ROW_BYTES would outgrow the merge budget. */
export function maxTasks(budget = REDUCE_MERGE_BYTES): number {
  return Math.floor(budget / MIN_TASK_ROW_BYTES);
}

/**
 * Every task's sorted run as the runs of one store, in the order given (the tasks' order): run n is
 * run 0 of `parts[n]`. The reduce only reads: nothing is written, and `drop` leaves the parts alone —
 * a reduce that fails and is retried must find them again; the host drops them when the run ends.
 */
export function unionSpill(parts: readonly SpillStore[]): SpillStore {
  return {
    write: async () => {
      throw new ExportError(
        'INTERNAL',
        "A fanned-out run's reduce never spills: every run was sorted by its task",
      );
    },
    read: (run) => {
      const part = parts[run];
      if (!part) throw new ExportError('INTERNAL', `The reduce asked for run ${run} of ${parts.length}`);
      return part.read(0);
    },
    drop: async () => {},
  };
}

/** The counts of several scans, summed (skip reasons by reason). */
export function sumStats(all: readonly ExportStats[]): ExportStats {
  const sum = emptyStats();
  for (const stats of all) {
    sum.evaluated += stats.evaluated;
    sum.members += stats.members;
    sum.exported += stats.exported;
    sum.joined += stats.joined;
    sum.changed += stats.changed;
    sum.unchanged += stats.unchanged;
    sum.exited += stats.exited;
    for (const [reason, n] of Object.entries(stats.skipped))
      sum.skipped[reason] = (sum.skipped[reason] ?? 0) + n;
  }
  return sum;
}

/** Where the reduce of one audience starts: every task scanned, none of the keys decided yet. */
export function reduceStart(
  scans: readonly { readonly stats: ExportStats; readonly runs: number }[],
): AudienceResume {
  return {
    stats: sumStats(scans.map((s) => s.stats)),
    stateMembers: 0,
    runs: scans.filter((s) => s.runs > 0).length,
    scanned: true,
  };
}
