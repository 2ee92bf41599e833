/** Cuts a byte stream into fixed-size parts, holding at most one part in memory at a time. */
export class PartReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private pending: Uint8Array | undefined;
  private done = false;

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly partSize: number,
  ) {
    this.reader = stream.getReader();
  }

  /** The next part: exactly `partSize` bytes, the last one shorter; null at the end. */
  async next(): Promise<Uint8Array | null> {
    if (this.done && !this.pending) return null;
    const part = new Uint8Array(this.partSize);
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
    if (filled === 0) return null;
    // The short last part is a view: no second copy (fetch and crypto.subtle take views).
    return filled === this.partSize ? part : part.subarray(0, filled);
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
