/**
 * An independent reader for the tests: the `avsc` package (Node), with the snappy codec from the
 * native `snappy` package and the CRC-32 check from node:zlib, and zstandard (which avsc does not
 * know) from `fzstd`, a separate pure-JS zstd decoder — none of them this package's or the host's code.
 */
import { Readable } from 'node:stream';
import { crc32, inflateRaw } from 'node:zlib';
import avsc from 'avsc';
import { decompress as unzstd } from 'fzstd';
import snappy from 'snappy';

export interface ReadBack {
  readonly schema: unknown;
  readonly codec: string;
  readonly records: Record<string, unknown>[];
  /** Row counts of the file's blocks, in order. */
  readonly blocks: number[];
}

type Callback = (error: Error | null, data?: Buffer) => void;
const codecs = {
  null: (buffer: Buffer, callback: Callback) => callback(null, buffer),
  deflate: (buffer: Buffer, callback: Callback) => inflateRaw(buffer, callback),
  snappy: (buffer: Buffer, callback: Callback) => {
    try {
      const data = snappy.uncompressSync(buffer.subarray(0, -4)) as Buffer;
      if (crc32(data) !== buffer.readUInt32BE(buffer.length - 4)) throw new Error('snappy block: CRC-32 mismatch');
      callback(null, data);
    } catch (error) {
      callback(error as Error);
    }
  },
  // Avro 1.11 "zstandard": the block is one zstd frame, nothing after it (unlike snappy's CRC).
  zstandard: (buffer: Buffer, callback: Callback) => {
    try {
      callback(null, Buffer.from(unzstd(buffer)));
    } catch (error) {
      callback(error as Error);
    }
  },
};

/** avsc's `long` as a bigint: exact over the whole signed 64-bit range (its default stops at 2^53). */
const bigLong = avsc.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(0),
  toBuffer: (n: bigint) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(n);
    return buffer;
  },
  fromJSON: (n: number | string) => BigInt(n),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/** Reads a whole Avro object container file with avsc; `bigints` reads longs as bigints. */
export async function readAvro(bytes: Uint8Array, options: { bigints?: boolean } = {}): Promise<ReadBack> {
  const decoder = new avsc.streams.BlockDecoder({
    codecs,
    ...(options.bigints && { parseHook: (schema: avsc.Schema) => avsc.Type.forSchema(schema, { registry: { long: bigLong } }) }),
  });
  let schema: unknown;
  let codec = '';
  // The schema as written in the header (avsc's own view of it drops docs, defaults and logical types).
  decoder.on('metadata', (_type: avsc.Type, name: string, header: { meta: Record<string, Buffer> }) => {
    schema = JSON.parse(header.meta['avro.schema']!.toString());
    codec = name;
  });
  const records: Record<string, unknown>[] = [];
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('data', (record: Record<string, unknown>) => records.push({ ...record }));
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  Readable.from([Buffer.from(bytes)]).pipe(decoder);
  await done;
  return { schema, codec, records, blocks: blocksOf(bytes).map((b) => b.count) };
}

/** Each block's row count and (compressed) data, walking the container by hand: header, then count/size/data/sync. */
export function blocksOf(bytes: Uint8Array): { count: number; data: Uint8Array }[] {
  let pos = 4;
  const long = () => {
    let shift = 0n;
    let z = 0n;
    for (;;) {
      const b = bytes[pos++]!;
      z |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) break;
    }
    return Number((z >> 1n) ^ -(z & 1n));
  };
  // Not `pos += long()`: that reads pos before long() moves it past the length.
  const skip = (n: number) => {
    pos += n;
  };
  for (let entries = long(); entries !== 0; entries = long()) {
    for (let i = 0; i < entries * 2; i++) skip(long());
  }
  pos += 16;
  const blocks: { count: number; data: Uint8Array }[] = [];
  while (pos < bytes.length) {
    const count = long();
    const size = long();
    blocks.push({ count, data: bytes.subarray(pos, pos + size) });
    skip(size + 16);
  }
  return blocks;
}
