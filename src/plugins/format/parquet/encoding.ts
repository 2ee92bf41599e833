/**
 * Byte-level pieces of the flat Parquet writer: a reusable growable buffer, the RLE / bit-packed
 * hybrid encoding (definition levels, dictionary indexes) and UTF-8 ordering of string bounds.
 */

/** A growable byte buffer reused from page to page. */
export class Scratch {
  bytes = new Uint8Array(1 << 16);
  view = new DataView(this.bytes.buffer);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(need, this.bytes.byteLength * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** A view of what was written (valid until the next write). */
  used(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/**
 * The RLE / bit-packed hybrid encoding (Parquet spec): runs of 8 or more equal values as RLE runs,
 * the rest bit-packed in groups of 8 (the last group padded with zeros).
 */
export function writeHybrid(out: Scratch, values: ArrayLike<number>, width: number): void {
  const n = values.length;
  const valueBytes = (width + 7) >> 3;
  let packedFrom = -1;
  let i = 0;
  while (i < n) {
    const v = values[i]!;
    let run = 1;
    while (i + run < n && values[i + run] === v) run++;
    if (run >= 8) {
      if (packedFrom >= 0) writePacked(out, values, packedFrom, i, width);
      packedFrom = -1;
      out.ensure(10 + valueBytes);
      varint(out, run * 2);
      for (let b = 0; b < valueBytes; b++) out.bytes[out.length++] = (v >>> (8 * b)) & 0xff;
      i += run;
    } else {
      if (packedFrom < 0) packedFrom = i;
      i += 8;
    }
  }
  if (packedFrom >= 0) writePacked(out, values, packedFrom, Math.min(i, n), width);
}

/** Bit-packs values[from, to) in groups of 8 (at most 63 groups per header, as parquet-mr does). */
function writePacked(out: Scratch, values: ArrayLike<number>, from: number, to: number, width: number): void {
  for (let start = from; start < to; start += 63 * 8) {
    const groups = Math.ceil((Math.min(to, start + 63 * 8) - start) / 8);
    out.ensure(2 + groups * width);
    varint(out, groups * 2 + 1);
    let buffer = 0;
    let bits = 0;
    for (let k = 0; k < groups * 8; k++) {
      const index = start + k;
      const v = index < to ? values[index]! : 0;
      buffer |= v << bits;
      bits += width;
      while (bits >= 8) {
        out.bytes[out.length++] = buffer & 0xff;
        buffer >>>= 8;
        bits -= 8;
      }
    }
  }
}

function varint(out: Scratch, value: number): void {
  let v = value;
  while (v > 0x7f) {
    out.bytes[out.length++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out.bytes[out.length++] = v;
}

const HIGH = /[\ud800-\uffff]/;

/**
 * Min and max in UTF-8 byte order (code point order). `<` compares UTF-16 units, which agrees unless
 * a surrogate meets U+E000–FFFF, so the exact comparison runs only when `joined` holds such text.
 */
export function minMax(values: string[], joined: string): [string | undefined, string | undefined] {
  let min = values[0]!;
  let max = min;
  if (HIGH.test(joined)) {
    for (let i = 1; i < values.length; i++) {
      const v = values[i]!;
      if (compareUtf8(v, min) < 0) min = v;
      else if (compareUtf8(v, max) > 0) max = v;
    }
  } else {
    for (let i = 1; i < values.length; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      else if (v > max) max = v;
    }
  }
  return [min, max];
}

export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  if (x < 0xd800 && y < 0xd800) return x - y;
  // Surrogates (U+D800–DFFF) stand for code points above U+FFFF: they sort after U+E000–FFFF.
  const rank = (c: number) => (c >= 0xd800 && c <= 0xdfff ? c + 0x2000 : c >= 0xe000 ? c - 0x800 : c);
  return rank(x) - rank(y);
}
