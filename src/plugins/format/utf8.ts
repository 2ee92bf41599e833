/**
 * Byte output of the text formats: rows are written straight into UTF-8 chunks (ASCII by char code,
 * the rest through `TextEncoder.encodeInto`) instead of into a string that a TextEncoder then copies
 * again. Numbers and ISO timestamps are written digit by digit, with no string in between.
 */

const encoder = new TextEncoder();

/** Powers of ten that are exact doubles (10^0 … 10^22). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The number of fraction digits of the shortest decimal that round-trips to `abs` when that decimal
 * has at most 15 significant digits, else -1 (integers, and values needing 16–17 digits).
 *
 * Why this is exact: if d = m / 10^k round-trips to x and m < 10^15, then |x·10^k − m| < 0.12, and
 * the rounded product is off by less than another 0.12, so `Math.round` finds m and the correctly
 * rounded `m / 10^k` gives back x. Decimals with ≤ 15 significant digits lie more than 4 ulps apart,
 * so that m is the only one of its length: the shortest decimal `String()` prints. Trying k upwards
 * finds the fewest digits first. `abs` must be in [1e-6, 1e15) (where `String` prints no exponent).
 */
export function decimalScale(abs: number): number {
  if (Number.isInteger(abs)) return -1;
  for (let k = 1; k < POW10.length; k++) {
    const m = Math.round(abs * POW10[k]!);
    if (m >= 1e15) return -1;
    if (m / POW10[k]! === abs) return k;
  }
  return -1;
}

/**
 * `String(x)` of a double, faster, except -0, which is `-0.0` (String gives `0`, and readers that
 * type by text would read an integer zero). Values with ≤ 15 significant digits go through `decimalScale`.
 * V8's shortest round-trip conversion falls back to a slow bignum path on values that need 16–17
 * digits (as `i * 0.37` often does); for those the shortest digits are those of the first of
 * `toPrecision(16, 17)` that parses back to `x` (ties, where `toPrecision` and `String` differ, and
 * values where either would print an exponent go to `String` itself).
 */
export function formatDouble(x: number): string {
  const abs = x < 0 ? -x : x;
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0';
  if (!(abs >= 1e-6 && abs < 1e15) || Number.isInteger(x)) return String(x);
  const k = decimalScale(abs);
  if (k > 0) {
    const digits = String(Math.round(abs * POW10[k]!));
    const point = digits.length - k;
    const text =
      point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${'0'.repeat(-point)}${digits}`;
    return x < 0 ? `-${text}` : text;
  }
  let digits = 16;
  let text = x.toPrecision(16);
  if (Number(text) !== x) {
    digits = 17;
    text = x.toPrecision(17);
  }
  // x exactly halfway between two candidates: toPrecision rounds up, String picks the even one. A tie
  // needs x's exact decimal expansion to end within 18 significant digits, so x has at most 23
  // fraction bits (abs ≥ 1e-6 adds at most 5 leading zeros): anything finer skips the slow check.
  if (Number.isInteger(abs * 2 ** 23) && x.toPrecision(digits + 3).endsWith('500')) return String(x);
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--; // trailing zeros of the fraction
  if (text.charCodeAt(end - 1) === 46) end--; // a bare '.'
  return end === text.length ? text : text.slice(0, end);
}

/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in epoch milliseconds: where ISO text has 4-digit years. */
const YEAR_0 = -62_167_219_200_000;
const YEAR_10000 = 253_402_300_800_000;
const DAY = 86_400_000;

/**
 * A growing UTF-8 buffer handed on in chunks. Writers `reserve` before writing by index; `full` says
 * when a chunk's worth is there, and `take` hands the bytes over and starts a new buffer (the bytes
 * given away are never written again).
 *
 * @example const out = new Utf8Chunks(); out.text('é,'); out.double(0.1); out.take() // 'é,0.1'
 */
export class Utf8Chunks {
  buf: Uint8Array;
  pos = 0;
  readonly #size: number;
  #day = Number.NaN;
  /** `yyyy-MM-ddT` of #day. */
  readonly #dayText = new Uint8Array(11);

  constructor(chunkBytes = 64 * 1024) {
    this.#size = chunkBytes;
    this.buf = new Uint8Array(chunkBytes + (chunkBytes >> 2));
  }

  /** True once at least a chunk's worth of bytes is written. */
  get full(): boolean {
    return this.pos >= this.#size;
  }

  /** A chunk's worth of bytes. */
  get chunkBytes(): number {
    return this.#size;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
    }
  }

  /** The bytes written so far; writing goes on in a new buffer. */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(this.#size + (this.#size >> 2));
    this.pos = 0;
    return out;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  /** Bytes kept as they are (constant parts of a line); short ones (keys) by a loop, cheaper than `set`. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n);
    if (n > 32) this.buf.set(b, this.pos);
    else {
      const buf = this.buf;
      const p = this.pos;
      for (let i = 0; i < n; i++) buf[p + i] = b[i]!;
    }
    this.pos += n;
  }

  /** Any text, as UTF-8 (lone surrogates become U+FFFD, as with TextEncoder). */
  text(s: string): void {
    const n = s.length;
    this.reserve(n * 3);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = p + encoder.encodeInto(i === 0 ? s : s.slice(i), buf.subarray(p)).written;
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** A safe integer, as `String(n)` prints it. */
  int(n: number): void {
    this.reserve(17);
    if (n < 0) {
      this.buf[this.pos++] = 45;
      n = -n;
    }
    this.pos = writeDigits(this.buf, this.pos, n, digitCount(n));
  }

  /** A number, as `formatDouble` prints it. */
  double(x: number): void {
    const abs = x < 0 ? -x : x;
    if (Number.isInteger(x) && abs < 2 ** 53 && !Object.is(x, -0)) {
      this.int(x);
      return;
    }
    const k = abs >= 1e-6 && abs < 1e15 ? decimalScale(abs) : -1;
    if (k < 0) {
      this.text(formatDouble(x));
      return;
    }
    const m = Math.round(abs * POW10[k]!);
    const count = digitCount(m);
    this.reserve(count + k + 3);
    const buf = this.buf;
    if (x < 0) buf[this.pos++] = 45;
    if (count > k) {
      const whole = Math.floor(m / POW10[k]!);
      this.pos = writeDigits(this.buf, this.pos, whole, count - k);
      buf[this.pos++] = 46;
      this.pos = writeDigits(this.buf, this.pos, m - whole * POW10[k]!, k);
    } else {
      buf[this.pos++] = 48;
      buf[this.pos++] = 46;
      this.pos = writeDigits(this.buf, this.pos, m, k);
    }
  }

  /**
   * An instant as `toISOString()` prints it (`length` 24), or its date part (`length` 10). False, and
   * nothing written, outside years 0000–9999 or for an invalid date.
   */
  iso(date: Date, length: 24 | 10): boolean {
    return this.isoMs(date.getTime(), length);
  }

  /** `iso` of epoch milliseconds (a Date's `getTime()`), with no Date needed unless the day changes. */
  isoMs(t: number, length: 24 | 10): boolean {
    if (!(t >= YEAR_0 && t < YEAR_10000)) return false;
    const day = Math.floor(t / DAY);
    if (day !== this.#day) {
      encoder.encodeInto(new Date(t).toISOString().slice(0, 11), this.#dayText);
      this.#day = day;
    }
    this.reserve(24);
    const buf = this.buf;
    const dayText = this.#dayText;
    let p = this.pos;
    for (let i = 0; i < length && i < 11; i++) buf[p++] = dayText[i]!;
    if (length === 10) {
      this.pos = p;
      return true;
    }
    // Milliseconds into the day fit an int32: integer % and / instead of floating-point ones.
    let rest = (t - day * DAY) | 0;
    const ms = rest % 1000;
    rest = (rest / 1000) | 0;
    const s = rest % 60;
    rest = (rest / 60) | 0;
    const mi = rest % 60;
    p = two(buf, p, (rest / 60) | 0);
    buf[p++] = 58;
    p = two(buf, p, mi);
    buf[p++] = 58;
    p = two(buf, p, s);
    buf[p++] = 46;
    const hundreds = (ms / 100) | 0;
    buf[p++] = 48 + hundreds;
    p = two(buf, p, ms - hundreds * 100);
    buf[p++] = 90;
    this.pos = p;
    return true;
  }

  /**
   * An instant as `isoTimestamp` prints it: `isoMs(t, 24)`, with the microseconds (when not 0) as
   * three more fraction digits before the `Z`. False, and nothing written, where `isoMs` is.
   */
  isoMicros(t: number, micros: number): boolean {
    if (!this.isoMs(t, 24)) return false;
    if (micros === 0) return true;
    this.reserve(3);
    const buf = this.buf;
    let p = this.pos - 1; // over the Z
    const hundreds = (micros / 100) | 0;
    buf[p++] = 48 + hundreds;
    p = two(buf, p, micros - hundreds * 100);
    buf[p++] = 90;
    this.pos = p;
    return true;
  }
}

/** Writes `count` digits of `n` (an integer < 2^53) ending at `p + count`; returns `p + count`. */
function writeDigits(buf: Uint8Array, p: number, n: number, count: number): number {
  const end = p + count;
  let i = end;
  // Above 2^31 peel off 8 digits at a time in floating point, then stay in int32 arithmetic.
  while (n >= 2_147_483_648) {
    const high = Math.floor(n / 1e8);
    let low = n - high * 1e8;
    for (let k = 0; k < 8; k++) {
      const q = (low / 10) | 0;
      buf[--i] = 48 + low - q * 10;
      low = q;
    }
    n = high;
  }
  while (i > p) {
    const q = (n / 10) | 0;
    buf[--i] = 48 + n - q * 10;
    n = q;
  }
  return end;
}

function digitCount(n: number): number {
  let count = 1;
  while (count < 16 && n >= POW10[count]!) count++;
  return count;
}

function two(buf: Uint8Array, p: number, n: number): number {
  const tens = (n / 10) | 0;
  buf[p] = 48 + tens;
  buf[p + 1] = 48 + n - tens * 10;
  return p + 2;
}
