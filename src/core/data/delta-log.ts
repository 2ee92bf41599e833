/**
 * The changed and removed rows of a diff export, kept while its added rows are written and read back
 * afterwards as their own files. Each batch the plan diverts is one run of a spill store (D1 rows on
 * a Worker, memory in the CLI), so memory stays bounded and a paused run goes on appending.
 */
import { fromIterable } from '../streams.ts';
import type { Row, RowBatch, Schema } from '../types.ts';
import type { DeltaKind } from './export-plan.ts';
import { decodeValue, encodeValue, type SpillStore } from './spill.ts';

export type LoggedKind = Exclude<DeltaKind, 'added'>;

/** Batches logged so far, by kind: where a paused run goes on. */
export type DeltaLogPosition = Readonly<Record<LoggedKind, number>>;

export interface DeltaLog {
  /** Appends a batch of rows of one kind. */
  write(kind: LoggedKind, rows: RowBatch): Promise<void>;
  /** The rows of one kind in the order written, a batch at a time. */
  read(kind: LoggedKind): ReadableStream<RowBatch>;
  /** Batches written so far (kept in a paused run's position). */
  position(): DeltaLogPosition;
}

/**
 * A delta log over one spill store per kind; rows travel as their cells in schema order.
 *
 * @example const log = deltaLog({ changed: memorySpill(), removed: memorySpill() }, schema)
 */
export function deltaLog(spills: Readonly<Record<LoggedKind, SpillStore>>, schema: Schema, from?: DeltaLogPosition): DeltaLog {
  const batches = { changed: from?.changed ?? 0, removed: from?.removed ?? 0 };
  const names = schema.map((c) => c.name);
  return {
    async write(kind, rows) {
      if (rows.length === 0) return;
      await spills[kind].write(batches[kind]++, rows.map((row) => encodeValue(names.map((n) => row[n]))));
    },
    read(kind) {
      const count = batches[kind];
      return fromIterable(
        (async function* () {
          for (let run = 0; run < count; run++) {
            for await (const lines of spills[kind].read(run)) {
              yield lines.map((line) => {
                const cells = decodeValue(line) as unknown[];
                const row: Row = {};
                names.forEach((n, i) => {
                  row[n] = cells[i];
                });
                return row;
              });
            }
          }
        })(),
      );
    },
    position: () => ({ ...batches }),
  };
}
