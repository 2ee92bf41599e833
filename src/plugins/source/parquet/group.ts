/**
 * One Parquet row group read column by column: hyparquet decodes each column chunk once (typed arrays
 * for numbers, arrays of strings, dates…), and rows are built from those columns a slice at a time,
 * so only a slice's row objects exist at once instead of the whole group's.
 */
import type { AsyncBuffer, Compressors, DecodedArray, FileMetaData } from 'hyparquet';
import { parquetRead, parquetSchema } from 'hyparquet/src/index.js';
import type { Row } from '../../../core/types.ts';

/** A column of the group: its decoded pieces (in row order) and a cursor over them. */
interface GroupColumn {
  readonly name: string;
  readonly normalize: (value: unknown) => unknown;
  readonly pieces: { readonly start: number; readonly data: DecodedArray }[];
}

/** Where a read of the next rows stands in one column. */
interface Cursor {
  piece: number;
}

export interface GroupRead {
  readonly file: AsyncBuffer;
  readonly metadata: FileMetaData;
  /** The columns to read, by name, each with the normaliser of its values. */
  readonly columns: readonly (readonly [name: string, normalize: (value: unknown) => unknown])[];
  /** Absolute rows of the file: the row group's range. */
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly compressors?: Compressors;
}

/**
 * The decoded columns of rows [rowStart, rowEnd) of the file (one row group), handed out as rows
 * `take(n)` at a time. Row objects get their properties in the file's column order, as hyparquet's
 * own object rows do.
 */
export class DecodedGroup {
  readonly #columns: GroupColumn[];
  readonly #cursors: Cursor[];
  readonly #end: number;
  #next: number;

  private constructor(columns: GroupColumn[], rowStart: number, rowEnd: number) {
    this.#columns = columns;
    this.#cursors = columns.map(() => ({ piece: 0 }));
    this.#next = rowStart;
    this.#end = rowEnd;
  }

  /** Decodes the chosen columns of the rows (hyparquet's errors are thrown as they are). */
  static async read(options: GroupRead): Promise<DecodedGroup> {
    const { file, metadata, rowStart, rowEnd, compressors } = options;
    const byName = new Map<string, GroupColumn>();
    for (const [name, normalize] of options.columns) byName.set(name, { name, normalize, pieces: [] });
    if (byName.size > 0) {
      await parquetRead({
        file,
        metadata,
        columns: [...byName.keys()],
        rowStart,
        rowEnd,
        compressors,
        onChunk: ({ columnName, columnData, rowStart: start }) => {
          byName.get(columnName)?.pieces.push({ start, data: columnData });
        },
      });
    }
    // The file's order of the columns, which is the key order of hyparquet's object rows.
    const order = parquetSchema(metadata).children.map((child) => child.element.name);
    const columns = [...byName.values()].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    for (const column of columns) column.pieces.sort((a, b) => a.start - b.start);
    return new DecodedGroup(columns, rowStart, rowEnd);
  }

  /** Rows not yet taken. */
  get remaining(): number {
    return this.#end - this.#next;
  }

  /** The next rows, at most `max` of them (an empty array once all were taken). */
  take(max: number): Row[] {
    const from = this.#next;
    const count = Math.min(max, this.#end - from);
    const rows: Row[] = new Array(count);
    for (let i = 0; i < count; i++) rows[i] = {};
    const columns = this.#columns;
    for (let c = 0; c < columns.length; c++) {
      const { name, normalize, pieces } = columns[c]!;
      const cursor = this.#cursors[c]!;
      let i = 0;
      while (i < count) {
        const row = from + i;
        // Skip the pieces that end before this row; a row no piece holds reads as missing.
        let piece = pieces[cursor.piece];
        while (piece && row >= piece.start + piece.data.length) piece = pieces[++cursor.piece];
        if (!piece || row < piece.start) {
          rows[i++]![name] = normalize(undefined);
          continue;
        }
        const data = piece.data;
        const stop = Math.min(count, piece.start + data.length - from);
        for (let at = row - piece.start; i < stop; i++, at++) rows[i]![name] = normalize(data[at]);
      }
    }
    this.#next = from + count;
    return rows;
  }
}
