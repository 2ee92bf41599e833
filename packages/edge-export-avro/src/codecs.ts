/**
 * Block codecs of Avro container files (Avro 1.11, "Required Codecs" and "Optional Codecs"):
 * `null`, `deflate` (raw RFC 1951 deflate, fflate), `snappy` (each block snappy-compressed, then
 * the CRC-32 of the uncompressed block, big-endian) and `zstandard` (each block one zstd frame, no
 * checksum suffix, as Java's ZstandardCodec writes). The first three are pure JavaScript and run
 * unchanged on workerd, Node and Deno (a host's native snappy where it offers one); zstd is the
 * host's (`Platform.zstd`), which workerd, Node and Deno all provide.
 */
import { type DeflateOptions, deflateSync } from 'fflate';
import type { ZstdCompress } from 'edge-export/plugin';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';

export const CODECS = ['null', 'deflate', 'snappy', 'zstandard'] as const;
export type CodecName = (typeof CODECS)[number];

/** zstd's own default level, the one Avro's Java writer uses too. */
export const ZSTD_LEVEL = 3;

export interface BlockCodec {
  readonly name: CodecName;
  /** Makes `compress` usable (a host's zstd is instantiated once, asynchronously); awaited before the first block. */
  ready?(): Promise<void>;
  compress(block: Uint8Array): Uint8Array;
}

export interface CodecOptions {
  /** Deflate's level (1–9, default 6) or zstandard's (1–19, default 3). */
  readonly level?: number;
  /** A native snappy in place of the portable one. */
  readonly snappy?: (input: Uint8Array) => Uint8Array;
  /** The host's zstd (`Platform.zstd`); `zstandard` needs it. */
  readonly zstd?: (level: number) => Promise<ZstdCompress>;
}

/**
 * The codec of a name, with its level and the host's native snappy or zstd.
 *
 * @example blockCodec('deflate', { level: 9 }).compress(bytes)
 */
export function blockCodec(name: CodecName, options: CodecOptions = {}): BlockCodec {
  switch (name) {
    case 'null':
      return { name, compress: (block) => block };
    case 'deflate': {
      const level = (options.level ?? 6) as DeflateOptions['level'];
      return { name, compress: (block) => deflateSync(block, { level }) };
    }
    case 'snappy': {
      const snappy = options.snappy ?? snappyCompress;
      return {
        name,
        compress: (block) => {
          const compressed = snappy(block);
          const out = new Uint8Array(compressed.byteLength + 4);
          out.set(compressed);
          new DataView(out.buffer).setUint32(compressed.byteLength, crc32(block));
          return out;
        },
      };
    }
    case 'zstandard': {
      const { zstd, level = ZSTD_LEVEL } = options;
      if (!zstd) throw new Error('format/avro: the zstandard codec needs the host\'s zstd (Platform.zstd)');
      let compress: ZstdCompress | undefined;
      return {
        name,
        ready: async () => {
          compress ??= await zstd(level);
        },
        compress: (block) => {
          if (!compress) throw new Error('format/avro: zstandard used before it was ready');
          return compress(block);
        },
      };
    }
  }
}

let table: Uint32Array | undefined;

/** CRC-32 (ISO 3309, the one zlib and Avro's snappy codec use). */
export function crc32(bytes: Uint8Array): number {
  table ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
