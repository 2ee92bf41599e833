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
import { type SpillStore, utf8Bound } from './spill.ts';

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
  // `max` (the store's row limit) wins over `min`: a row is never cut by the store behind our back.
  return Math.min(max, Math.max(min, Math.floor(budget / Math.max(1, tasks))));
}

/**
 * D1 queries every invocation of the reduce spends per task before it merges anything (it opens each
 * task's run and reads where it starts): measured ≈ 2 (bench/sharded.ts, docs/SCALE.md: 56 tasks, 236
 * queries; 204, 432; 403, 827).
 */
export const REDUCE_QUERIES_PER_TASK = 2;

/**
 * Queries of an invocation's 1,000 (D1's limit) the reduce needs besides opening the runs: 110 the
 * budget keeps for a pause and the run's outcome (src/worker/budget.ts), and 200 for reading the runs
 * and writing the files, so that every continuation of the reduce makes progress.
 */
const REDUCE_OTHER_QUERIES = 110 + 200;

/**
 * The most tasks one run may fan out to: the fewer of what the reduce's merge memory allows (rows at
 * MIN_TASK_ROW_BYTES) and what one reduce invocation can open within D1's 1,000 queries and still
 * read (345). Past it a reduce would spend every invocation re-opening the runs (measured: at 803
 * tasks it was claimed 619 times without finishing), so the plan refuses instead.
 */
export function maxTasks(budget = REDUCE_MERGE_BYTES, queries = 1_000): number {
  return Math.min(
    Math.floor(budget / MIN_TASK_ROW_BYTES),
    Math.floor((queries - REDUCE_OTHER_QUERIES) / REDUCE_QUERIES_PER_TASK),
  );
}

/**
 * Rows per task for a plan over `shards` key-range sources (one split per shard) that made `tasks`
 * tasks of at most `rowsPerTask` rows: the same when they fit `cap`, else rows per task raised so the
 * plan made again makes at most `cap` (each shard makes ⌈its rows / rowsPerTask⌉ tasks, so at most
 * rows / rowsPerTask + shards in all; rows ≤ tasks × rowsPerTask). Undefined when that needs more
 * than `maxRows` a task: the run is too big for one reduce.
 *
 * @example fitTaskRows(1_000, 100_000, 32, 345, 1_000_000) // 319,489: 100M rows of 32 shards in ≤ 345 tasks
 */
export function fitTaskRows(
  tasks: number,
  rowsPerTask: number,
  shards: number,
  cap: number,
  maxRows: number,
): number | undefined {
  if (tasks <= cap) return rowsPerTask;
  if (shards >= cap) return undefined;
  const rows = Math.ceil((tasks * rowsPerTask) / (cap - shards));
  return rows <= maxRows ? rows : undefined;
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

/**
 * A task's output store that writes its run in rows of at most `rowBytes` UTF-8 bytes (one
 * `store.write` per row; a longer line gets a row of its own) and records each row's first key:
 * a reduce that continues in another invocation starts every run at the row holding the first key
 * it has not decided (`seekRow`), instead of reading it again from its start.
 */
export function indexedRows(
  store: SpillStore,
  rowBytes: number,
  keyOf: (line: string) => string,
): SpillStore & { readonly firstKeys: readonly string[] } {
  const firstKeys: string[] = [];
  let row: string[] = [];
  let bytes = 0;
  const flush = async (run: number) => {
    if (row.length === 0) return;
    const lines = row;
    row = [];
    bytes = 0;
    firstKeys.push(keyOf(lines[0]!));
    await store.write(run, lines);
  };
  return {
    firstKeys,
    write: async (run, lines) => {
      for (const line of lines) {
        const size = utf8Bound(line) + 1;
        if (bytes + size > rowBytes + 1) await flush(run);
        row.push(line);
        bytes += size;
      }
      // A row never spans two writes (a scan writes tens of thousands of lines at a time).
      await flush(run);
    },
    read: (run) => store.read(run),
    drop: () => store.drop(),
  };
}

/** The row of a run to start reading at when every key up to `decidedThrough` is decided: the last one starting at or before it. */
export function seekRow(
  firstKeys: readonly string[] | undefined,
  decidedThrough: string | undefined,
): number {
  if (!firstKeys || decidedThrough === undefined) return 0;
  let lo = 0;
  let hi = firstKeys.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (firstKeys[mid]! <= decidedThrough) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
