/**
 * Avro's binary encoding (Avro 1.11 specification, "Binary Encoding") into one growing buffer: longs
 * and ints as zig-zag varints, doubles as 8 little-endian bytes, strings and bytes length-prefixed.
 * A block of rows is written here, then taken whole (`take`) to be compressed.
 */

const MAX_LONG = 2n ** 63n;
const encoder = new TextEncoder();

export class AvroWriter {
  buf: Uint8Array;
  pos = 0;
  #view: DataView;

  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
    this.#view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.#view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  /** An Avro `long` (or `int`): zig-zag, then 7 bits a byte, low bits first. Exact up to ±2^63. */
  long(n: number): void {
    if (n >= -0x40000000 && n < 0x40000000) {
      let z = ((n << 1) ^ (n >> 31)) >>> 0;
      this.reserve(5);
      while (z > 0x7f) {
        this.buf[this.pos++] = (z & 0x7f) | 0x80;
        z >>>= 7;
      }
      this.buf[this.pos++] = z;
      return;
    }
    this.bigLong(BigInt(n));
  }

  /** A `long` from a bigint; throws outside the signed 64-bit range. */
  bigLong(n: bigint): void {
    if (n < -MAX_LONG || n >= MAX_LONG)
      throw new RangeError(`${n} does not fit an Avro long (signed 64-bit)`);
    let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
    this.reserve(10);
    while (z > 0x7fn) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
  }

  double(x: number): void {
    this.reserve(8);
    this.#view.setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  bytes(data: Uint8Array): void {
    this.long(data.byteLength);
    this.reserve(data.byteLength);
    this.buf.set(data, this.pos);
    this.pos += data.byteLength;
  }

  /**
   * A UTF-8 string, length first. Encoded in place after room for a 5-byte length (strings are far
   * below 2^35 bytes), then moved back when the length takes fewer bytes. Lone surrogates become
   * U+FFFD, as every UTF-8 encoder writes them.
   */
  string(s: string): void {
    this.reserve(5 + s.length * 3);
    const start = this.pos;
    const { written } = encoder.encodeInto(s, this.buf.subarray(start + 5));
    this.long(written);
    const prefix = this.pos - start;
    if (prefix < 5) this.buf.copyWithin(this.pos, start + 5, start + 5 + written);
    this.pos += written;
  }

  /** The bytes written so far (a copy), and an empty writer. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }
}
