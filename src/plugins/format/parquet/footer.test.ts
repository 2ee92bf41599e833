import type { ColumnChunk, RowGroup } from 'hyparquet';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { describe, expect, it } from 'vitest';
import type { Schema } from '../../../core/types.ts';
import { FooterWriter } from './footer.ts';
import { toSchemaElements } from './schema.ts';

const schema: Schema = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'name', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'vip', type: 'boolean' },
  { name: 'seen', type: 'timestamp' },
];
const elements = toSchemaElements(schema, 'micros');

/** A row group as FlatParquetWriter records it, with statistics of every kind and varied offsets. */
function group(g: number): RowGroup {
  const columns: ColumnChunk[] = elements.slice(1).map((element, c) => {
    const offset = BigInt(4 + g * 100_000 + c * 9_000);
    const min = [BigInt(g * 10), `a${g}`, -g / 3, false, BigInt(-g) * 1_000_000n][c];
    const max = [BigInt(g * 10 + 9), `zé${g}`, g * 1e300, true, BigInt(g) * 86_400_000_000n][c];
    return {
      file_offset: offset,
      meta_data: {
        type: element.type!,
        encodings: c === 1 ? ['PLAIN', 'RLE_DICTIONARY', 'RLE'] : ['PLAIN', 'RLE'],
        path_in_schema: [element.name],
        codec: 'SNAPPY',
        num_values: BigInt(10_000 + g),
        total_uncompressed_size: BigInt(80_000 + c),
        total_compressed_size: BigInt(9_001 - c),
        data_page_offset: c === 1 ? offset + 500n : offset,
        dictionary_page_offset: c === 1 ? offset : undefined,
        statistics: {
          null_count: BigInt(g % 3),
          min_value: min as never,
          max_value: max as never,
          ...(c === 2 && { nan_count: BigInt(g % 2) }),
        },
      },
    };
  });
  return {
    columns,
    total_byte_size: BigInt(400_000 + g),
    num_rows: BigInt(10_000 + g),
    file_offset: BigInt(4 + g * 100_000),
    total_compressed_size: BigInt(44_000 + g),
  };
}

describe('FooterWriter', () => {
  it.each([0, 1, 14, 15, 16, 300])('writes what writeMetadata writes for %i row groups', (count) => {
    const groups = Array.from({ length: count }, (_, g) => group(g));
    const rows = groups.reduce((sum, g) => sum + g.num_rows, 0n);
    const footer = new FooterWriter(elements, 'edge-export test');
    for (const g of groups) footer.add(g);
    const ours = new ByteWriter();
    ours.appendUint32(0x31524150);
    footer.write(ours, rows);

    const reference = new ByteWriter();
    reference.appendUint32(0x31524150);
    writeMetadata(reference, {
      version: 1,
      created_by: 'edge-export test',
      schema: elements,
      num_rows: rows,
      row_groups: groups,
      metadata_length: 0,
    });
    expect(ours.offset).toBe(reference.offset);
    expect(ours.getBytes()).toEqual(reference.getBytes());
  });
});
