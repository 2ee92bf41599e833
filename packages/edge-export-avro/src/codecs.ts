/**
 * Block codecs of Avro container files (Avro 1.11, "Required Codecs" and "Optional Codecs"):
 * `null`, `deflate` (raw RFC 1951 deflate, fflate) and `snappy` (each block snappy-compressed, then
 * the CRC-32 of the uncompressed block, big-endian). All pure JavaScript and synchronous, so they run
 * unchanged on workerd, Node and Deno; a host's native snappy is used where it offers one.
 */
import { type DeflateOptions, deflateSync } from 'fflate';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';

export const CODECS = ['null', 'deflate', 'snappy'] as const;
export type CodecName = (typeof CODECS)[number];

export interface BlockCodec {
  readonly name: CodecName;
  compress(block: Uint8Array): Uint8Array;
}

/**
 * The codec of a name; `level` is deflate's (1–9, default 6); `snappy` replaces the portable snappy.
 *
 * @example blockCodec('deflate', { level: 9 }).compress(bytes)
 */
export function blockCodec(
  name: CodecName,
  options: { level?: number; snappy?: (input: Uint8Array) => Uint8Array } = {},
): BlockCodec {
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
