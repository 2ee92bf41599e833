/**
 * One Parquet row group read column by column, each column chunk decoded once, and rows built from
 * the decoded columns a slice at a time, so only a slice's row objects exist at once instead of the
 * whole group's.
 *
 * A flat column (a top-level scalar, the common case) is decoded page by page with hyparquet's own
 * page readers, but kept as each page gives it: its definition levels, its values as decoded
 * (typed arrays for numbers) and, for dictionary pages, the indexes into the dictionary, converted
 * once. A value is looked up only when its row is built, where hyparquet would first copy every
 * value (nulls included) into one array per column. Nested columns (lists, structs) are assembled
 * by hyparquet (`parquetRead`'s `onChunk`).
 */
import type { AsyncBuffer, ColumnMetaData, Compressors, DecodedArray, FileMetaData, SchemaTree } from 'hyparquet';
import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { parquetRead, parquetSchema } from 'hyparquet/src/index.js';
import { getMaxDefinitionLevel, getTreePath, isFlatColumn } from 'hyparquet/src/schema.js';
import type { Row } from '../../../core/types.ts';

type Normalize = (value: unknown) => unknown;

export interface GroupRead {
  readonly file: AsyncBuffer;
  readonly metadata: FileMetaData;
  /** The columns to read, by name, each with the normaliser of its values. */
  readonly columns: readonly (readonly [name: string, normalize: Normalize])[];
  /** The row group's index, and its rows in the file: [rowStart, rowEnd). */
  readonly group: number;
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly compressors?: Compressors;
}

/** A decoded column of the group: fills `count` rows' property from row `from` of the group on. */
interface GroupColumn {
  readonly name: string;
  fill(rows: Row[], from: number, count: number): void;
}

/**
 * The decoded columns of one row group, handed out as rows `take(n)` at a time. Row objects get
 * their properties in the file's column order, as hyparquet's own object rows do.
 */
export class DecodedGroup {
  readonly #columns: GroupColumn[];
  readonly #rows: number;
  #next = 0;

  private constructor(columns: GroupColumn[], rows: number) {
    this.#columns = columns;
    this.#rows = rows;
  }

  /** Decodes the chosen columns of the group (hyparquet's errors are thrown as they are). */
  static async read(options: GroupRead): Promise<DecodedGroup> {
    const { metadata, rowStart, rowEnd } = options;
    const tree = parquetSchema(metadata);
    const group = metadata.row_groups[options.group];
    const flat: Promise<GroupColumn>[] = [];
    const nested: NestedColumn[] = [];
    // A column named twice is read once (its property is set once either way).
    for (const [name, normalize] of new Map(options.columns)) {
      const path = getTreePath(tree, [name]);
      const chunk = group?.columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name);
      if (chunk?.meta_data && !chunk.file_path && isFlatColumn(path)) {
        flat.push(readFlatColumn(options, name, normalize, path, chunk.meta_data, rowEnd - rowStart));
      } else {
        nested.push(new NestedColumn(name, normalize, rowStart));
      }
    }
    // Every read is awaited before any error is thrown, so no rejection is left unhandled.
    const results = await Promise.allSettled<unknown>([...flat, readNested(options, nested)]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const columns: GroupColumn[] = [...nested];
    for (const result of results.slice(0, flat.length)) columns.push((result as PromiseFulfilledResult<GroupColumn>).value);
    // The file's order of the columns, which is the key order of hyparquet's object rows.
    const order = tree.children.map((child) => child.element.name);
    columns.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    return new DecodedGroup(columns, rowEnd - rowStart);
  }

  /** Rows not yet taken. */
  get remaining(): number {
    return this.#rows - this.#next;
  }

  /** The next rows, at most `max` of them (an empty array once all were taken). */
  take(max: number): Row[] {
    const from = this.#next;
    const count = Math.min(max, this.#rows - from);
    const rows: Row[] = new Array(count);
    for (let i = 0; i < count; i++) rows[i] = {};
    for (const column of this.#columns) column.fill(rows, from, count);
    this.#next = from + count;
    return rows;
  }
}

/** One data page of a flat column: which rows hold a value, and the values (or dictionary indexes). */
interface FlatPage {
  readonly rows: number;
  /** Definition levels, one per row; empty when every row has a value. */
  readonly defs: ArrayLike<number>;
  readonly maxDef: number;
  readonly values: DecodedArray;
  /** Set when `values` are indexes into it (dictionary-encoded pages). */
  readonly dictionary: DecodedArray | undefined;
  /**
   * Set when `values` are still raw numbers (a typed array): hyparquet's conversion (timestamps to
   * dates…) is then applied to the values of one slice of rows at a time, when they are built.
   */
  readonly convert: ((raw: DecodedArray) => DecodedArray) | undefined;
}

/** A flat column's pages, read in row order by a cursor (page, row in page, value in page). */
class FlatColumn implements GroupColumn {
  #page = 0;
  #row = 0;
  #value = 0;

  constructor(
    readonly name: string,
    readonly normalize: Normalize,
    readonly pages: FlatPage[],
  ) {}

  fill(rows: Row[], _from: number, count: number): void {
    const { name, normalize, pages } = this;
    let i = 0;
    while (i < count) {
      const page = pages[this.#page];
      // Rows past the decoded pages read as missing, as hyparquet's arrays give them.
      if (!page) {
        for (; i < count; i++) rows[i]![name] = normalize(undefined);
        return;
      }
      const { defs, maxDef, dictionary } = page;
      const stop = Math.min(count, i + page.rows - this.#row);
      let row = this.#row;
      let value = this.#value;
      // Values (not rows: nulls take none) are indexed from `base`, the first of this slice's.
      let values = page.values;
      let base = 0;
      if (page.convert) {
        let n = stop - i;
        if (defs.length > 0) {
          n = 0;
          for (let r = row; r < row + stop - i; r++) if (defs[r] === maxDef) n++;
        }
        values = page.convert((values as Exclude<DecodedArray, unknown[]>).subarray(value, value + n));
        base = value;
      }
      if (defs.length === 0) {
        if (dictionary) for (; i < stop; i++, value++) rows[i]![name] = normalize(dictionary[values[value] as number]);
        else for (; i < stop; i++, value++) rows[i]![name] = normalize(values[value - base]);
        row += value - this.#value;
      } else {
        for (; i < stop; i++, row++) {
          if (defs[row] !== maxDef) rows[i]![name] = normalize(null);
          else if (dictionary) rows[i]![name] = normalize(dictionary[values[value++] as number]);
          else rows[i]![name] = normalize(values[value++ - base]);
        }
      }
      if (row >= page.rows) {
        this.#page++;
        this.#row = this.#value = 0;
      } else {
        this.#row = row;
        this.#value = value;
      }
    }
  }
}

/**
 * Reads a flat column chunk page by page, as hyparquet's `readColumn` does, but without assembling
 * the pages into one array of values and nulls: dictionary pages are converted once, data pages
 * keep their definition levels and values.
 */
async function readFlatColumn(
  options: GroupRead,
  name: string,
  normalize: Normalize,
  schemaPath: SchemaTree[],
  meta: ColumnMetaData,
  groupRows: number,
): Promise<GroupColumn> {
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  const bytes = await options.file.slice(start, start + Number(meta.total_compressed_size));
  const decoder = {
    pathInSchema: meta.path_in_schema,
    element: schemaPath[schemaPath.length - 1]!.element,
    schemaPath,
    ...meta,
    compressors: options.compressors,
    parsers: DEFAULT_PARSERS,
  };
  const maxDef = getMaxDefinitionLevel(schemaPath);
  const reader = { view: new DataView(bytes), offset: 0 };
  const pages: FlatPage[] = [];
  let dictionary: DecodedArray | undefined;
  let rows = 0;
  while (rows < groupRows && reader.offset < reader.view.byteLength - 1) {
    const header = parquetHeader(reader);
    const at = reader.offset;
    let page: { definitionLevels: number[] | undefined; dataPage: DecodedArray; encoding: string; rows: number };
    if (header.type === 'DATA_PAGE' && header.data_page_header) {
      const daph = header.data_page_header;
      const raw = new Uint8Array(bytes, at, header.compressed_page_size);
      reader.offset += header.compressed_page_size;
      const body = decompressPage(raw, Number(header.uncompressed_page_size), meta.codec, options.compressors);
      const { definitionLevels, dataPage } = readDataPage(body, daph, decoder);
      page = { definitionLevels, dataPage, encoding: daph.encoding, rows: daph.num_values };
    } else if (header.type === 'DATA_PAGE_V2' && header.data_page_header_v2) {
      const daph2 = header.data_page_header_v2;
      const raw = new Uint8Array(bytes, at, header.compressed_page_size);
      reader.offset += header.compressed_page_size;
      const { definitionLevels, dataPage } = readDataPageV2(raw, header, decoder);
      page = { definitionLevels, dataPage, encoding: daph2.encoding, rows: daph2.num_rows };
    } else {
      // Dictionary pages, and anything else hyparquet reads or refuses with its own error.
      const { data } = readPage(reader, header, decoder, dictionary, undefined, 0);
      if (header.type === 'DICTIONARY_PAGE' && data) dictionary = convert(data, decoder);
      continue;
    }
    const indexed = dictionary !== undefined && page.encoding.endsWith('_DICTIONARY');
    // Typed arrays stay raw (converted a slice at a time); byte arrays (strings…) are converted now,
    // as their raw form (a view per value) would take more memory than the converted one.
    const raw = !indexed && ArrayBuffer.isView(page.dataPage);
    pages.push({
      rows: page.rows,
      defs: page.definitionLevels ?? [],
      maxDef,
      values: indexed || raw ? page.dataPage : convert(page.dataPage, decoder),
      dictionary: indexed ? dictionary : undefined,
      convert: raw ? (values) => convert(values, decoder) : undefined,
    });
    rows += page.rows;
  }
  return new FlatColumn(name, normalize, pages);
}

/** A column hyparquet assembles (lists, structs): its decoded pieces, in row order. */
class NestedColumn implements GroupColumn {
  readonly pieces: { start: number; data: DecodedArray }[] = [];
  #piece = 0;

  constructor(
    readonly name: string,
    readonly normalize: Normalize,
    readonly rowStart: number,
  ) {}

  fill(rows: Row[], from: number, count: number): void {
    const { name, normalize, pieces } = this;
    let i = 0;
    while (i < count) {
      const row = this.rowStart + from + i;
      // Skip the pieces that end before this row; a row no piece holds reads as missing.
      let piece = pieces[this.#piece];
      while (piece && row >= piece.start + piece.data.length) piece = pieces[++this.#piece];
      if (!piece || row < piece.start) {
        rows[i++]![name] = normalize(undefined);
        continue;
      }
      const data = piece.data;
      const stop = Math.min(count, piece.start + data.length - this.rowStart - from);
      for (let at = row - piece.start; i < stop; i++, at++) rows[i]![name] = normalize(data[at]);
    }
  }
}

async function readNested(options: GroupRead, columns: NestedColumn[]): Promise<void> {
  if (columns.length === 0) return;
  const byName = new Map(columns.map((c) => [c.name, c]));
  const { file, metadata, rowStart, rowEnd, compressors } = options;
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
  for (const column of columns) column.pieces.sort((a, b) => a.start - b.start);
}
