/** Text → bytes for the CSV encodings: UTF-8 via TextEncoder, UTF-16 by code unit. */
import { wellFormed } from '../values.ts';
import type { CsvEncoding } from './options.ts';

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** UTF-16 code units; a lone surrogate becomes U+FFFD, as UTF-8 output has it (docs/VALUES.md). */
function utf16(littleEndian: boolean): (text: string) => Uint8Array {
  const swap = littleEndian !== hostLittleEndian;
  return (raw) => {
    const text = wellFormed(raw);
    const units = new Uint16Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const u = text.charCodeAt(i);
      units[i] = swap ? ((u & 0xff) << 8) | (u >> 8) : u;
    }
    return new Uint8Array(units.buffer);
  };
}

/** How to turn text into bytes, the BOM to start the file with, and the charset label. */
export interface TextCodec {
  readonly encode: (text: string) => Uint8Array;
  /** Prefix for the first chunk ('' or U+FEFF, encoded like the rest). */
  readonly bom: string;
  readonly charset: string;
  /** Bytes per UTF-16 code unit, at least (to size chunks). */
  readonly minBytesPerUnit: number;
}

/** `UTF-16` means little-endian with a BOM (what Excel and Windows tools expect); Java would pick big-endian. */
export function textCodec(encoding: CsvEncoding): TextCodec {
  switch (encoding) {
    case 'UTF-16':
      return { encode: utf16(true), bom: '\uFEFF', charset: 'utf-16', minBytesPerUnit: 2 };
    case 'UTF-16LE':
      return { encode: utf16(true), bom: '', charset: 'utf-16le', minBytesPerUnit: 2 };
    case 'UTF-16BE':
      return { encode: utf16(false), bom: '', charset: 'utf-16be', minBytesPerUnit: 2 };
    default: {
      const encoder = new TextEncoder();
      return { encode: (text) => encoder.encode(text), bom: '', charset: 'utf-8', minBytesPerUnit: 1 };
    }
  }
}
