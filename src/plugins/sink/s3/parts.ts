/**
 * Cuts a byte stream into fixed-size parts, holding at most one part in memory at a time. Buffers of
 * parts given back with `release` are reused: a fixed set instead of a fresh multi-MiB allocation per
 * part, which on Node let the native heap fragment and RSS creep up over long uploads.
 */
export class PartReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly free: ArrayBuffer[] = [];
  private pending: Uint8Array | undefined;
  private done = false;

  /** `keep`: buffers held for reuse, at most (the parts in flight + the one being filled). */
  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly partSize: number,
    private readonly keep = 5,
  ) {
    this.reader = stream.getReader();
  }

  /** The next part: exactly `partSize` bytes, the last one shorter; null at the end. */
  async next(): Promise<Uint8Array | null> {
    if (this.done && !this.pending) return null;
    const reused = this.free.pop();
    const part = reused ? new Uint8Array(reused) : new Uint8Array(this.partSize);
    let filled = 0;
    while (filled < this.partSize) {
      const chunk = this.pending ?? (await this.read());
      this.pending = undefined;
      if (!chunk) break;
      const take = Math.min(chunk.byteLength, this.partSize - filled);
      part.set(take === chunk.byteLength ? chunk : chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.byteLength) this.pending = chunk.subarray(take);
    }
    if (filled === 0) {
      if (reused) this.free.push(reused);
      return null;
    }
    // The short last part is a view: no second copy (fetch and crypto.subtle take views).
    return filled === this.partSize ? part : part.subarray(0, filled);
  }

  /**
   * True when the stream has no bytes left. Reads one chunk ahead to know, so a caller deciding
   * between one PUT and a multipart upload need not fill (and hold) a whole further part.
   */
  async atEnd(): Promise<boolean> {
    while (!this.pending || this.pending.byteLength === 0) {
      const chunk = await this.read();
      if (!chunk) {
        this.pending = undefined;
        return true;
      }
      this.pending = chunk;
    }
    return false;
  }

  /** Takes back a part's buffer once nothing reads the part any more (its upload settled). */
  release(part: Uint8Array): void {
    const buffer = part.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength === this.partSize && this.free.length < this.keep) {
      if (!this.free.includes(buffer)) this.free.push(buffer);
    }
  }

  /** Stops reading and cancels the source (after a failure). */
  async cancel(reason?: unknown): Promise<void> {
    this.done = true;
    this.pending = undefined;
    await this.reader.cancel(reason).catch(() => undefined);
  }

  private async read(): Promise<Uint8Array | undefined> {
    if (this.done) return undefined;
    const { value, done } = await this.reader.read();
    if (done) {
      this.done = true;
      return undefined;
    }
    return value;
  }
}
