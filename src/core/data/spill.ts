/**
 * Sorting more than fits in memory: values are buffered up to a byte budget, sorted, and written as
 * runs to a spill store (D1 rows on a Worker, files in the CLI, memory in a test); the runs are then read
 * back together in one k-way merge. Values travel as text lines (`encodeValue` keeps what JSON
 * would lose: dates, bigints, bytes, -0, NaN, ±Infinity).
 */

/** Where sorted runs go: written once each, read back in order, dropped at the end. */
export interface SpillStore {
  /** Stores one run: its lines, in order, in one or more calls. */
  write(run: number, lines: readonly string[]): Promise<void>;
  /** The lines of a run in the order written, in chunks. */
  read(run: number): AsyncIterable<readonly string[]>;
  /** Removes every run. */
  drop(): Promise<void>;
}

/** Runs kept in memory (tests, embedders): the interface without the storage. */
export function memorySpill(): SpillStore {
  const runs = new Map<number, string[][]>();
  return {
    write: async (run, lines) => {
      const chunks = runs.get(run) ?? [];
      chunks.push([...lines]);
      runs.set(run, chunks);
    },
    read: (run) => {
      const chunks = runs.get(run) ?? [];
      return (async function* () {
        yield* chunks;
      })();
    },
    drop: async () => runs.clear(),
  };
}

/**
 * Sorts items by `key` through a spill store: `add` buffers, and spills a sorted run whenever the
 * buffer passes `budget` bytes of heap; `sortedBatches()` yields every item in key order.
 * The last buffer is never spilled to be read back: it is sorted in place and merged from memory
 * (`spill()` still writes it when a caller must stop halfway through the merge).
 */
export class ExternalSorter<T> {
  readonly #buffer: { key: string; line: string }[] = [];
  #bytes = 0;
  #runs = 0;

  constructor(
    private readonly store: SpillStore,
    private readonly codec: { encode(item: T): string; decode(line: string): T; key(item: T): string },
    private readonly budget = 16 * 1024 * 1024,
    /** Lines per `store.write` call (a store packs them into rows as it sees fit). */
    private readonly chunkLines = 65_536,
    /** Runs already on the store (an earlier invocation spilled them): they are merged too. */
    runs = 0,
  ) {
    this.#runs = runs;
  }

  /** Runs spilled so far. */
  get runs(): number {
    return this.#runs;
  }

  async add(item: T): Promise<void> {
    if (this.push(item)) await this.spill();
  }

  /**
   * Buffers an item without waiting; true when the buffer passed its budget and should `spill()`.
   * The budget counts heap bytes as V8 keeps them: a string of Latin-1 text takes a byte a character,
   * any other two; each entry adds its object, its array slot and two string headers (64 at most).
   */
  push(item: T): boolean {
    const line = this.codec.encode(item);
    const key = this.codec.key(item);
    this.#buffer.push({ key, line });
    const width = WIDE.test(line) || WIDE.test(key) ? 2 : 1;
    this.#bytes += (line.length + key.length) * width + 64;
    return this.#bytes >= this.budget;
  }

  /** Writes the buffer as one sorted run (the whole buffer, even while `sortedBatches()` reads it). */
  async spill(): Promise<void> {
    const buffer = this.#buffer;
    if (buffer.length === 0) return;
    buffer.sort(byKey);
    const run = this.#runs++;
    for (let i = 0; i < buffer.length; i += this.chunkLines) {
      const end = Math.min(buffer.length, i + this.chunkLines);
      const lines = new Array<string>(end - i);
      for (let j = i; j < end; j++) lines[j - i] = buffer[j]!.line;
      await this.store.write(run, lines);
    }
    buffer.length = 0;
    this.#bytes = 0;
  }

  /** Every item in key order (items of one key in no particular order), one at a time. */
  async *sorted(): AsyncGenerator<T> {
    for await (const batch of this.sortedBatches()) yield* batch;
  }

  /**
   * Every item in key order, in batches of up to `size`: the spilled runs and the buffer, merged.
   * A caller that stops before the end and must go on later calls `spill()` and reads no further:
   * the buffer is then a run like the others, read from its start (the caller skips what it had decided).
   */
  async *sortedBatches(size = 1024): AsyncGenerator<T[]> {
    const buffer = this.#buffer;
    buffer.sort(byKey);
    const cursors: Cursor<T>[] = await Promise.all(
      Array.from({ length: this.#runs }, async (_, run) => {
        const cursor = new RunCursor(this.store.read(run)[Symbol.asyncIterator](), this.codec);
        await cursor.advance();
        return cursor;
      }),
    );
    if (buffer.length > 0) {
      const memory = new MemoryCursor(buffer, this.codec);
      memory.advance();
      cursors.push(memory);
    }
    const heap = new MinHeap<Cursor<T>>((a, b) => a.key! < b.key!);
    for (const c of cursors) if (c.item !== undefined) heap.push(c);
    let batch: T[] = [];
    while (heap.size > 0) {
      const top = heap.peek()!;
      batch.push(top.item!);
      // Only a run cursor at the end of its chunk waits: every other step is synchronous.
      const wait = top.advance();
      if (wait) await wait;
      if (top.item === undefined) heap.pop();
      else heap.replaceTop(top);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
    buffer.length = 0;
    this.#bytes = 0;
  }
}

const NON_ASCII = /[^\x00-\x7f]/;

/** At least the UTF-8 length of a string (a UTF-16 unit is at most 3 bytes), in one cheap pass. */
export function utf8Bound(text: string): number {
  // Mostly ASCII: one native scan answers, without a loop over every character.
  if (!NON_ASCII.test(text)) return text.length;
  let extra = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) extra += 2;
  return text.length + extra;
}

/** A character beyond Latin-1: V8 then keeps the whole string at two bytes a character. */
const WIDE = /[^\x00-\xff]/;

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The head of one sorted sequence; `advance()` returns a promise only when it must wait. */
interface Cursor<T> {
  item: T | undefined;
  key: string | undefined;
  advance(): Promise<void> | undefined;
}

/** The head of the buffer, sorted in memory: its keys are known without decoding. */
class MemoryCursor<T> implements Cursor<T> {
  item: T | undefined;
  key: string | undefined;
  #at = 0;

  constructor(
    private readonly entries: readonly { key: string; line: string }[],
    private readonly codec: { decode(line: string): T },
  ) {}

  advance(): undefined {
    const entry = this.entries[this.#at++];
    this.item = entry && this.codec.decode(entry.line);
    this.key = entry?.key;
    return undefined;
  }
}

/** The head of one spilled run. */
class RunCursor<T> implements Cursor<T> {
  item: T | undefined;
  key: string | undefined;
  #lines: readonly string[] = [];
  #at = 0;

  constructor(
    private readonly chunks: AsyncIterator<readonly string[]>,
    private readonly codec: { decode(line: string): T; key(item: T): string },
  ) {}

  advance(): Promise<void> | undefined {
    if (this.#at >= this.#lines.length) return this.next();
    this.item = this.codec.decode(this.#lines[this.#at++]!);
    this.key = this.codec.key(this.item);
    return undefined;
  }

  private async next(): Promise<void> {
    while (this.#at >= this.#lines.length) {
      const next = await this.chunks.next();
      if (next.done) {
        this.item = undefined;
        this.key = undefined;
        return;
      }
      this.#lines = next.value;
      this.#at = 0;
    }
    this.item = this.codec.decode(this.#lines[this.#at++]!);
    this.key = this.codec.key(this.item);
  }
}

/** A binary min-heap by `less`. */
class MinHeap<T> {
  readonly #items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.#items.length;
  }
  peek(): T | undefined {
    return this.#items[0];
  }
  push(item: T): void {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) this.replaceTop(last);
    return top;
  }
  /** Puts `item` at the top and sifts it down. */
  replaceTop(item: T): void {
    const a = this.#items;
    a[0] = item;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < a.length && this.less(a[l]!, a[smallest]!)) smallest = l;
      if (r < a.length && this.less(a[r]!, a[smallest]!)) smallest = r;
      if (smallest === i) return;
      [a[i], a[smallest]] = [a[smallest]!, a[i]!];
      i = smallest;
    }
  }
}

/**
 * A value as JSON text that decodes to an equal value: dates, bigints, bytes and the numbers JSON
 * has no literal for (-0, NaN, ±Infinity) are tagged; strings, booleans, null, lists and plain
 * objects are themselves.
 */
export function encodeValue(value: unknown): string {
  // Most values need no tag: JSON as they are, without copying them first.
  return JSON.stringify(needsTag(value) ? tag(value) : value);
}

export function decodeValue(text: string): unknown {
  // Every tag is an object key starting with `$`, so its text holds `"$`; text without it has none.
  return text.includes('"$') ? untag(JSON.parse(text)) : JSON.parse(text);
}

/** Whether JSON would not give `value` back as it is (or a key could be read as a tag). */
function needsTag(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      return !Number.isFinite(value) || Object.is(value, -0);
    case 'object':
      break;
    default:
      return true;
  }
  if (value === null) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (needsTag(item)) return true;
    return false;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return true;
  for (const k in value as Record<string, unknown>) {
    if (k.startsWith('$') || needsTag((value as Record<string, unknown>)[k])) return true;
  }
  return false;
}

function tag(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { $n: Object.is(value, -0) ? '-0' : String(value) };
    case 'bigint':
      return { $b: value.toString() };
    default:
      break;
  }
  if (value instanceof Date) return { $d: value.getTime() };
  if (value instanceof Uint8Array) return { $u: [...value] };
  if (Array.isArray(value)) return value.map(tag);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) setOwn(out, k, tag(v));
  // A plain object whose only key looks like a tag is wrapped so it is not read back as one.
  const keys = Object.keys(out);
  return keys.length === 1 && keys[0]!.startsWith('$') ? { $o: out } : out;
}

function untag(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(untag);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const v = record[k];
    if (k === '$n') return v === '-0' ? -0 : Number(v);
    if (k === '$b') return BigInt(v as string);
    if (k === '$d') return new Date(v as number);
    if (k === '$u') return new Uint8Array(v as number[]);
    if (k === '$o') return untagObject(v as Record<string, unknown>);
  }
  return untagObject(record);
}

function untagObject(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) setOwn(out, k, untag(v));
  return out;
}

/**
 * `out[k] = v` as an own property even for the key `__proto__` (which JSON.parse gives as one, and an
 * assignment would take as the object's prototype instead, losing the value).
 */
function setOwn(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}
