/**
 * The Parquet footer, built as row groups are written: each group's metadata is serialised (thrift
 * compact) when the group is done, so a file of many groups holds its footer as bytes (~100 B per
 * column chunk) rather than as objects with bigints and statistics (~1 KB each) until the end.
 *
 * The bytes come from hyparquet-writer's own `writeMetadata`, so the mapping of every field stays
 * theirs: a group's bytes are what a footer with that one group has where an empty footer has an
 * empty list. The assembled footer is byte for byte what `writeMetadata` writes for all the groups
 * at once (footer.test.ts).
 */
import type { FileMetaData, RowGroup, SchemaElement } from 'hyparquet';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import type { Writer } from 'hyparquet-writer/src/types.js';

const LIST_OF_STRUCTS = 0x0c; // compact protocol: list element type STRUCT, size in the high nibble
const NO_GROUP: RowGroup = { columns: [], total_byte_size: 0n, num_rows: 0n };

/** writeMetadata's output: the thrift FileMetaData followed by its length (uint32). */
function serialize(meta: FileMetaData): Uint8Array {
  const writer = new ByteWriter();
  writeMetadata(writer, meta);
  return writer.getBytes();
}

/**
 * Where the row-group list sits in an empty footer: `head` ends before the list header, `tail` is
 * everything after it (created_by, column orders, the struct's stop byte), length excluded.
 */
function splitEmpty(
  empty: Uint8Array,
  withGroup: Uint8Array,
): { at: number; head: Uint8Array; tail: Uint8Array } {
  let at = 0;
  while (at < empty.length && empty[at] === withGroup[at]) at++;
  // hyparquet-writer writes an empty list's header as 0x00 (size 0, no element type).
  if (empty[at] !== 0 || withGroup[at] !== (1 << 4) + LIST_OF_STRUCTS)
    throw new Error('parquet footer: unexpected metadata layout');
  return { at, head: empty.subarray(0, at), tail: empty.subarray(at + 1, empty.length - 4) };
}

export class FooterWriter {
  readonly #meta: FileMetaData;
  readonly #groups = new ByteWriter(64 * 1024);
  readonly #empty: Uint8Array;
  #count = 0;

  constructor(schema: SchemaElement[], createdBy: string) {
    this.#meta = {
      version: 1,
      created_by: createdBy,
      schema,
      num_rows: 0n,
      row_groups: [],
      metadata_length: 0,
    };
    this.#empty = serialize(this.#meta).slice();
  }

  /** Serialises one finished row group. */
  add(group: RowGroup): void {
    const one = serialize({ ...this.#meta, row_groups: [group] });
    const { at, tail } = splitEmpty(this.#empty, one);
    const end = one.length - 4 - tail.length;
    this.#groups.appendBytes(one.subarray(at + 1, end));
    this.#count++;
  }

  /** At least the bytes `write` will append for the groups added so far (length included). */
  get bytesSoFar(): number {
    // The empty footer, the groups, the list header (≤ 6 bytes) and num_rows growing (≤ 10 bytes).
    return this.#empty.length + this.#groups.offset + 16;
  }

  /** Writes the footer (metadata and its length) for `rows` rows in all. */
  write(out: Writer, rows: bigint): void {
    const meta = { ...this.#meta, num_rows: rows };
    if (this.#count === 0) {
      out.appendBytes(serialize(meta));
      return;
    }
    const { head, tail } = splitEmpty(serialize(meta), serialize({ ...meta, row_groups: [NO_GROUP] }));
    const start = out.offset;
    out.appendBytes(head);
    if (this.#count < 15) out.appendUint8((this.#count << 4) | LIST_OF_STRUCTS);
    else {
      out.appendUint8(0xf0 | LIST_OF_STRUCTS);
      out.appendVarInt(this.#count);
    }
    out.appendBytes(this.#groups.getBytes());
    out.appendBytes(tail);
    out.appendUint32(out.offset - start);
  }
}
