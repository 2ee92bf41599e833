/**
 * The changed and removed rows of a diff export, kept while its added rows are written and read back
 * afterwards as their own files. Rows are buffered and written in runs of a spill store (D1 rows on a
 * Worker, files in the CLI), so memory stays bounded; a paused run goes on appending, and a paused
 * read goes on from the run it stopped before.
 */
import { fromIterable } from '../streams.ts';
import type { Row, RowBatch, Schema } from '../types.ts';
import type { DeltaKind } from './export-plan.ts';
import { decodeValue, encodeValue, type SpillStore } from './spill.ts';

export type LoggedKind = Exclude<DeltaKind, 'added'>;

/** Runs written so far, by kind: where a paused run goes on. */
export type DeltaLogPosition = Readonly<Record<LoggedKind, number>>;

/** Rows buffered per kind before they are written as one run (a few hundred KB of text). */
const RUN_ROWS = 4096;

/** Reading one kind back: its rows from run `from`, and where it stopped when `pause` asked. */
export interface DeltaRead {
  readonly rows: ReadableStream<RowBatch>;
  /** After `rows` ended: the next run to read when it paused, else undefined. */
  stoppedAt(): number | undefined;
}

export interface DeltaLog {
  /** Appends rows of one kind (buffered: `flush()` writes what is left). */
  write(kind: LoggedKind, rows: RowBatch): Promise<void>;
  /** Writes the buffered rows. */
  flush(): Promise<void>;
  /**
   * The rows of one kind in the order written, a run at a time, from run `from`; `pause` is asked
   * between runs (a paused reader goes on from `stoppedAt()` in another invocation).
   */
  read(kind: LoggedKind, from?: number, pause?: () => boolean): DeltaRead;
  /** Runs written so far (after `flush()`: everything). */
  position(): DeltaLogPosition;
}

/**
 * A delta log over one spill store per kind; rows travel as their cells in schema order.
 *
 * @example const log = deltaLog({ changed: memorySpill(), removed: memorySpill() }, schema)
 */
export function deltaLog(spills: Readonly<Record<LoggedKind, SpillStore>>, schema: Schema, from?: DeltaLogPosition): DeltaLog {
  const runs = { changed: from?.changed ?? 0, removed: from?.removed ?? 0 };
  const pending: Record<LoggedKind, string[]> = { changed: [], removed: [] };
  const names = schema.map((c) => c.name);
  const put = async (kind: LoggedKind) => {
    if (pending[kind].length === 0) return;
    const lines = pending[kind];
    pending[kind] = [];
    await spills[kind].write(runs[kind]++, lines);
  };
  const decode = (line: string): Row => {
    const cells = decodeValue(line) as unknown[];
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = cells[i];
    return row;
  };
  return {
    async write(kind, rows) {
      for (const row of rows) pending[kind].push(encodeValue(names.map((n) => row[n])));
      if (pending[kind].length >= RUN_ROWS) await put(kind);
    },
    async flush() {
      await put('changed');
      await put('removed');
    },
    read(kind, start = 0, pause) {
      const count = runs[kind];
      let stopped: number | undefined;
      const rows = fromIterable(
        (async function* () {
          for (let run = start; run < count; run++) {
            if (run > start && pause?.()) {
              stopped = run;
              return;
            }
            for await (const lines of spills[kind].read(run)) yield lines.map(decode);
          }
        })(),
      );
      return { rows, stoppedAt: () => stopped };
    },
    position: () => ({ ...runs }),
  };
}
