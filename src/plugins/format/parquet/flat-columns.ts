/**
 * Column buffers of the flat-schema Parquet writer: rows go straight into typed arrays (no bigint or
 * intermediate array per value), min/max are kept as they arrive, and each row group's column
 * leaves as PLAIN values (strings: a dictionary when it pays), ready for one data page.
 */
import { minMax, type Scratch, writeHybrid } from './encoding.ts';

/** One column chunk's encoded values, before compression. */
export interface EncodedColumn {
  /** PLAIN bytes of the dictionary entries (strings only, when the dictionary pays). */
  readonly dictionary?: { readonly bytes: Uint8Array; readonly count: number };
  /** The values: PLAIN, or the RLE_DICTIONARY indexes (bit width byte + hybrid runs). */
  readonly values: Uint8Array;
  readonly min?: unknown;
  readonly max?: unknown;
  readonly nanCount?: bigint;
}

/** Values of one column for the current row group; `encode` resets it for the next group. */
export interface ColumnBuffer {
  /** Appends a converted, non-null value. */
  add(value: unknown): void;
  /** Number of non-null values held. */
  readonly count: number;
  encode(scratch: Scratch): EncodedColumn;
}

const TWO_32 = 4_294_967_296;

/** INT64 (integer, timestamp): little-endian pairs of 32-bit halves; bigint only beyond 2^53. */
export class Int64Buffer implements ColumnBuffer {
  count = 0;
  #view = new DataView(new ArrayBuffer(8 * 1024));
  #min: number | bigint | undefined;
  #max: number | bigint | undefined;

  add(value: unknown): void {
    if (8 * (this.count + 1) > this.#view.byteLength) this.#grow();
    const at = 8 * this.count++;
    if (typeof value === 'number') {
      this.#view.setUint32(at, value >>> 0, true);
      this.#view.setInt32(at + 4, Math.floor(value / TWO_32) | 0, true);
    } else {
      this.#view.setBigInt64(at, value as bigint, true);
    }
    const v = value as number | bigint;
    if (this.#min === undefined || v < this.#min) this.#min = v;
    if (this.#max === undefined || v > this.#max) this.#max = v;
  }

  #grow(): void {
    const grown = new Uint8Array(this.#view.byteLength * 2);
    grown.set(new Uint8Array(this.#view.buffer));
    this.#view = new DataView(grown.buffer);
  }

  encode(): EncodedColumn {
    const out = {
      values: new Uint8Array(this.#view.buffer, 0, 8 * this.count),
      min: this.#min,
      max: this.#max,
    };
    this.count = 0;
    this.#min = this.#max = undefined;
    return out;
  }
}

/**
 * DOUBLE (a Float64Array) and INT32 dates (an Int32Array). For doubles, NaN is counted and left out
 * of min/max, and ±0 bounds are normalised (min -0, max +0: Parquet spec).
 */
export class NumberBuffer implements ColumnBuffer {
  count = 0;
  readonly #floating: boolean;
  #values: Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer>;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;
  #nan = 0;

  constructor(kind: 'double' | 'int32') {
    this.#floating = kind === 'double';
    this.#values = this.#allocate(1024);
  }

  add(value: unknown): void {
    if (this.count === this.#values.length) {
      const grown = this.#allocate(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    const v = value as number;
    this.#values[this.count++] = v;
    if (Number.isNaN(v)) this.#nan++;
    else {
      if (v < this.#min) this.#min = v;
      if (v > this.#max) this.#max = v;
    }
  }

  encode(): EncodedColumn {
    const seen = this.count > this.#nan;
    const floating = this.#floating;
    const out = {
      values: new Uint8Array(this.#values.buffer, 0, this.#values.BYTES_PER_ELEMENT * this.count),
      min: seen ? (floating && this.#min === 0 ? -0 : this.#min) : undefined,
      max: seen ? (floating && this.#max === 0 ? 0 : this.#max) : undefined,
      ...(floating && { nanCount: BigInt(this.#nan) }),
    };
    this.count = this.#nan = 0;
    this.#min = Number.POSITIVE_INFINITY;
    this.#max = Number.NEGATIVE_INFINITY;
    return out;
  }

  #allocate(length: number): Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer> {
    return this.#floating ? new Float64Array(length) : new Int32Array(length);
  }
}

/** BOOLEAN: PLAIN is one bit per value, least significant bit first. */
export class BooleanBuffer implements ColumnBuffer {
  count = 0;
  #bits = new Uint8Array(128);
  #seen = 0; // bit 0: a false, bit 1: a true

  add(value: unknown): void {
    const byte = this.count >> 3;
    if (byte === this.#bits.length) {
      const grown = new Uint8Array(this.#bits.length * 2);
      grown.set(this.#bits);
      this.#bits = grown;
    }
    if (value) this.#bits[byte]! |= 1 << (this.count & 7);
    this.#seen |= value ? 2 : 1;
    this.count++;
  }

  encode(): EncodedColumn {
    const length = (this.count + 7) >> 3;
    const seen = this.#seen;
    const out = {
      values: this.#bits.slice(0, length),
      min: seen ? !(seen & 1) : undefined,
      max: seen ? (seen & 2) !== 0 : undefined,
    };
    this.#bits.fill(0, 0, length);
    this.count = this.#seen = 0;
    return out;
  }
}

/** Sampled values used to decide whether a dictionary can pay, as hyparquet-writer does. */
const SAMPLE = 1000;
const encoder = new TextEncoder();

/**
 * BYTE_ARRAY (UTF-8 strings): held as strings until the group is written, then dictionary-encoded
 * when the sample says distinct values are rare and the dictionary at most halves the bytes,
 * else PLAIN (length-prefixed UTF-8).
 */
export class StringBuffer implements ColumnBuffer {
  #values: string[] = [];
  #chars = 0;

  get count(): number {
    return this.#values.length;
  }

  add(value: unknown): void {
    this.#values.push(value as string);
    this.#chars += (value as string).length;
  }

  encode(scratch: Scratch): EncodedColumn {
    const values = this.#values;
    const chars = this.#chars;
    this.#values = [];
    this.#chars = 0;
    if (values.length === 0) return { values: new Uint8Array(0) };
    const dictionary = sampleSaysDictionary(values) ? buildDictionary(values, chars) : undefined;
    if (dictionary) {
      const { entries, indexes } = dictionary;
      const joined = entries.join('');
      const bytes = plainStrings(entries, scratch, joined).slice();
      const rle = rleIndexes(indexes, entries.length, scratch);
      // PLAIN takes at least a byte per UTF-16 unit plus 4 per value: a dictionary that is not
      // smaller is not used, so a page never outgrows its PLAIN size (the byte limit counts on it).
      if (bytes.length + rle.length <= chars + 4 * values.length) {
        const [min, max] = minMax(entries, joined);
        return { dictionary: { bytes, count: entries.length }, values: rle, min, max };
      }
    }
    const joined = values.join('');
    const [min, max] = minMax(values, joined);
    return { values: plainStrings(values, scratch, joined), min, max };
  }
}

function sampleSaysDictionary(values: string[]): boolean {
  const n = Math.min(values.length, SAMPLE);
  if (n < 2) return true;
  const distinct = new Set<string>();
  for (let i = 0; i < n; i++) distinct.add(values[Math.floor((i * (values.length - 1)) / (n - 1))]!);
  return distinct.size <= 0.9 * n;
}

/** The dictionary, or undefined when its entries would take more than half the value bytes. */
function buildDictionary(
  values: string[],
  chars: number,
): { entries: string[]; indexes: Int32Array } | undefined {
  const ids = new Map<string, number>();
  const entries: string[] = [];
  const indexes = new Int32Array(values.length);
  let entryChars = 0;
  const budget = (chars + 4 * values.length) / 2;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    let id = ids.get(value);
    if (id === undefined) {
      id = entries.length;
      ids.set(value, id);
      entries.push(value);
      entryChars += value.length + 4;
      if (entryChars > budget) return undefined;
    }
    indexes[i] = id;
  }
  return { entries, indexes };
}

/** Length-prefixed UTF-8; all-ASCII text (the common case) is encoded in one call. */
function plainStrings(values: string[], scratch: Scratch, joined = values.join('')): Uint8Array {
  scratch.reset();
  const utf8 = encoder.encode(joined);
  // All ASCII: exactly that. Otherwise values are encoded one by one, where a surrogate half at a
  // value's edge takes 3 bytes (U+FFFD) instead of sharing a 4-byte pair: 3 per UTF-16 unit bounds it.
  const ascii = utf8.length === joined.length;
  scratch.ensure((ascii ? utf8.length : 3 * joined.length) + 4 * values.length);
  const { bytes } = scratch;
  let at = 0;
  if (ascii) {
    let from = 0;
    for (const value of values) {
      const length = value.length;
      bytes[at] = length & 0xff;
      bytes[at + 1] = (length >>> 8) & 0xff;
      bytes[at + 2] = (length >>> 16) & 0xff;
      bytes[at + 3] = length >>> 24;
      at += 4;
      if (length > 32) bytes.set(utf8.subarray(from, from + length), at);
      else for (let k = 0; k < length; k++) bytes[at + k] = utf8[from + k]!;
      at += length;
      from += length;
    }
  } else {
    for (const value of values) {
      const { written } = encoder.encodeInto(value, bytes.subarray(at + 4));
      scratch.view.setUint32(at, written, true);
      at += 4 + written;
    }
  }
  scratch.length = at;
  return scratch.used();
}

/** RLE_DICTIONARY data: the bit width, then the indexes as RLE / bit-packed hybrid runs. */
function rleIndexes(indexes: Int32Array, entries: number, scratch: Scratch): Uint8Array {
  const width = Math.max(1, Math.ceil(Math.log2(entries)));
  scratch.reset();
  scratch.ensure(1);
  scratch.bytes[scratch.length++] = width;
  writeHybrid(scratch, indexes, width);
  return scratch.used();
}
