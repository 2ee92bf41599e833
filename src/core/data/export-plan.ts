/**
 * Export plans for audiences: which rows a run writes, in full, incremental, insert-only or diff
 * mode, and the state that a successful run leaves for the next one.
 *
 * - Full: every current member, status `realized`.
 * - Incremental (after a first full run): members that joined or whose exported values changed
 *   since the last successful run, plus those that exited (status `exited`). Without a baseline
 *   (first run, or the mapping changed) an incremental run exports in full.
 * - Insert-only: only members that joined since the last successful run (all of them the first
 *   time); members that changed or exited are counted, never written. No status column.
 * - Diff: the incremental rows sorted by kind, without a status column: joined members are
 *   `added` (the plan's `rows`), changed and exited ones go to `divert` (the host logs them and
 *   writes them as their own files after the added ones). Exited rows are `removed`.
 * - State: member key → fingerprint of its exported cells (status column excluded), in key order.
 *   It is read and written as a stream (`BaselineState`, `StateSink`), so no value grows with the
 *   audience and memory does not either: hosts keep it in chunks.
 * - Dedup (mapping.dedup): the latest qualified record per key wins — greatest qualifiedAt, then
 *   greatest updatedAt, then the smallest profile id. Every candidate row is sorted by key through
 *   a spill store (memory bounded by the sort budget), so one pass over the profiles is enough.
 * - Without dedup, profiles read in id order (`ordered`: a store's keyset pages) are merged with
 *   the baseline as they stream: no sort, no map. Profiles in any other order (a file) stream in
 *   their own order against the baseline held in memory (the CLI's case).
 * - Exited rows are mapped from the profile when it still exists (mandatory checks do not apply),
 *   otherwise only the key columns are filled. A member skipped for a missing mandatory field is
 *   no longer exported, so a previously exported one is reported as exited.
 * - `commit()` finishes the new state; call it only after every row was read. A run that fails
 *   (or is never committed) leaves the previous state untouched. Rows come out in profile order,
 *   with dedup in key order; exits of members no profile accounts for come last.
 */
import { ExportError } from '../errors.ts';
import { BATCH_ROWS, iterate } from '../streams.ts';
import type { Row, RowBatch, Schema } from '../types.ts';
import type { AudienceMembership } from './audience.ts';
import { fingerprint } from './fingerprint.ts';
import {
  type CompiledMapping,
  coerce,
  type MemberKey,
  mapValues,
  memberKeys,
  type RowContext,
  toRow,
} from './mapping.ts';
import type { Profile } from './model.ts';
import { decodeValue, encodeValue, ExternalSorter, memorySpill, type SpillStore } from './spill.ts';
import type { AudienceExportState } from './store.ts';

/** Every export mode, as configurations name them. */
export const EXPORT_MODES = ['full', 'incremental', 'insert-only', 'diff'] as const;
export type ExportMode = (typeof EXPORT_MODES)[number];

/** The modes that keep a state and compare each run with the last successful one. */
export const STATEFUL_MODES: readonly ExportMode[] = ['incremental', 'insert-only', 'diff'];

/** What a row of a diff export is: a member that joined, one whose values changed, one that left. */
export type DeltaKind = 'added' | 'changed' | 'removed';

/** Profiles arrive one by one or in arrays (a page, a source batch): one stream read per chunk. */
export type ProfileChunk = Profile | readonly Profile[];

/** One member of an export state: its key and the fingerprint of what was exported for it. */
export type StateEntry = readonly [key: string, fingerprint: string];

/** The state of the last successful run, read back in key order, in chunks of any size. */
export interface BaselineState {
  /** Fingerprint of the mapping it was made with; another mapping makes the run a full one. */
  readonly mappingId: string;
  /** How many entries it holds. */
  readonly members: number;
  /** Its entries in key order; each call reads them afresh. */
  entries(): AsyncIterable<readonly StateEntry[]>;
}

/** What a new state is made of: the header `commit()` writes after every entry. */
export interface AudienceStateHeader {
  readonly kind: 'audience';
  readonly exportedAt: string;
  readonly mappingId: string;
  readonly members: number;
}

/** Where a run writes its new state: entries in key order as they are decided, then the header. */
export interface StateSink {
  write(entries: readonly StateEntry[]): Promise<void>;
  /** Stores whatever it still holds (a plan that pauses calls it: the next invocation goes on). */
  flush?(): Promise<void>;
  close(header: AudienceStateHeader): Promise<void>;
}

/**
 * Where an invocation stopped a run it could not finish (its query, CPU or time budget ran low):
 * everything before is decided, exported and in the state; the next invocation goes on from here.
 */
export interface AudienceResume {
  /** Counts so far. */
  readonly stats: ExportStats;
  /** Entries written to the new state so far. */
  readonly stateMembers: number;
  /** The last profile id scanned (profiles resume after it); absent once the scan is done. */
  readonly cursor?: string;
  /** With dedup: sorted runs spilled so far, and the last key decided once the scan is done. */
  readonly runs?: number;
  readonly scanned?: boolean;
  readonly decidedThrough?: string;
}

export interface AudienceExportInput {
  readonly membership: AudienceMembership;
  /** Opens a pass over the profiles, after profile id `after` when given (called once). */
  readonly profiles: (after?: string) => ReadableStream<ProfileChunk>;
  readonly mapping: CompiledMapping;
  readonly now: Date;
  readonly mode: ExportMode;
  /** The last successful run's state, streamed in key order. */
  readonly baseline?: BaselineState | undefined;
  /** Receives the new state (only what an incremental dataflow needs: leave it out for full ones). */
  readonly state?: StateSink | undefined;
  /** The last state as one object (small exports, tests); see `baseline`. */
  readonly previous?: AudienceExportState | undefined;
  /** Receives the new state as one object at `commit()`; see `state`. */
  readonly save?: ((state: AudienceExportState) => Promise<void>) | undefined;
  /** Profiles arrive in id order (a store's keyset pages): without dedup, no sort is needed. */
  readonly ordered?: boolean;
  /**
   * Take the sorted path even without dedup (a snapshot's rows): candidates are sorted by member key
   * (the profile id), so two rows with one id are decided together — the best wins, the other is
   * counted `duplicate` — exactly as dedup decides a key.
   */
  readonly sorted?: boolean;
  /** Where sorted runs spill when candidates outgrow `sortBudget`; memory by default. */
  readonly spill?: SpillStore;
  /** Bytes of encoded candidates held before a sorted run is spilled (default 16 MiB). */
  readonly sortBudget?: number;
  /** Where an earlier invocation stopped this run (ordered or deduplicating plans only). */
  readonly resume?: AudienceResume | undefined;
  /**
   * Diff mode: receives the `changed` and `removed` rows (`rows` carries only the `added` ones),
   * a batch at a time, before the batch of `rows` they came with is handed on.
   */
  readonly divert?: (kind: Exclude<DeltaKind, 'added'>, rows: RowBatch) => Promise<void>;
  /**
   * Asked between pages (and, with dedup, between decided keys): true stops the rows there, so the
   * run can go on in another invocation from `plan.paused()`. Ordered or deduplicating plans only.
   * Called often: it should only compare counters.
   */
  readonly pause?: () => boolean;
}

export interface ExportStats {
  /** Profiles read. */
  evaluated: number;
  /** Profiles in the audience now. */
  members: number;
  exported: number;
  joined: number;
  changed: number;
  unchanged: number;
  exited: number;
  /** Rows not exported, by reason: `missing:<source>`, `invalid:<source>`, `duplicate`. */
  skipped: Record<string, number>;
}

export interface AudiencePlan {
  /** Columns of every row (a status column is appended in incremental mode when unmapped). */
  readonly schema: Schema;
  readonly rows: ReadableStream<RowBatch>;
  /** Final once `rows` has been read to the end. */
  readonly stats: ExportStats;
  /** False when this run exports in full (no usable baseline or full mode). */
  readonly incremental: boolean;
  /** Finishes the new state; only valid after `rows` was read to the end and the plan did not pause. */
  commit(): Promise<AudienceStateHeader>;
  /** After `rows` ended: where the run stopped when `pause` asked it to, else undefined (it is done). */
  paused(): AudienceResume | undefined;
}

/** A candidate row of the sorted path: a member's row, or a non-member's exit row for its key. */
interface Candidate {
  /** 1: a member's row; 0: the exit row of a key the baseline holds. */
  readonly m: 0 | 1;
  readonly key: string;
  /** The key's parts (the key is their JSON), when known: a line refers to a cell equal to the only part. */
  readonly parts?: readonly string[];
  /** qualifiedAt and updatedAt (ms), profile id: who wins a key. */
  readonly q: number;
  readonly u: number;
  readonly pid: string;
  readonly fp: string;
  readonly cells: readonly unknown[];
}

/**
 * A candidate as one line of the sort. The line is what a deduplicating export spills and reads
 * back, so it is kept short: a key of one part, or a profile id, equal to one of the cells is that
 * cell's index, and updatedAt is its distance from qualifiedAt (often the same instant).
 */
const candidateCodec = {
  key: (c: Candidate) => c.key,
  encode: (c: Candidate) => {
    const k = c.parts?.length === 1 ? c.cells.indexOf(c.parts[0]) : -1;
    const p = c.cells.indexOf(c.pid);
    const du = Number.isFinite(c.q) && Number.isFinite(c.u) ? c.q - c.u : [c.u];
    return encodeValue([c.m, k >= 0 ? k : c.key, c.q, du, p >= 0 ? p : c.pid, c.fp, c.cells]);
  },
  decode: (line: string): Candidate => {
    const [m, k, q, du, p, fp, cells] = decodeValue(line) as [0 | 1, string | number, number, number | [number], string | number, string, unknown[]];
    return {
      m,
      key: typeof k === 'number' ? JSON.stringify([cells[k]]) : k,
      q,
      u: typeof du === 'number' ? q - du : du[0],
      pid: typeof p === 'number' ? (cells[p] as string) : p,
      fp,
      cells,
    };
  },
};

/** Plans an audience export: rows to write, counts, and the state to commit on success. */
export function planAudienceExport(input: AudienceExportInput): AudiencePlan {
  const mapping = input.mode === 'incremental' ? withStatusColumn(input.mapping) : input.mapping;
  if (input.mode === 'diff' && !input.divert) throw new ExportError('INTERNAL', 'A diff export needs somewhere to put its changed and removed rows');
  const baseline = baselineOf(input);
  const incremental = STATEFUL_MODES.includes(input.mode) && baseline !== undefined;
  const sink = input.state ?? (input.save ? objectSink(input.save) : undefined);
  const run = new Run({ ...input, mapping }, incremental ? baseline : undefined, sink);
  let finished = false;
  let iterator: AsyncIterator<RowBatch> | undefined;
  const rows = new ReadableStream<RowBatch>(
    {
      async pull(controller) {
        iterator ??= (input.mapping.dedup || input.sorted ? run.sorted() : input.ordered ? run.merged() : run.streamed())[Symbol.asyncIterator]();
        for (;;) {
          const { value, done } = await iterator.next();
          for (const [kind, diverted] of run.takeDiverted()) await input.divert!(kind, diverted);
          if (done) break;
          // A batch of only changed or removed rows leaves nothing here: read on.
          if (value.length > 0) return controller.enqueue(value);
        }
        finished = true;
        controller.close();
      },
      async cancel(reason) {
        await iterator?.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return {
    schema: mapping.schema,
    rows,
    stats: run.stats,
    incremental,
    paused: () => run.pausedAt,
    async commit() {
      if (!finished || run.pausedAt) throw new ExportError('INTERNAL', 'Export state can only be committed after every row was read');
      const header: AudienceStateHeader = {
        kind: 'audience',
        exportedAt: input.now.toISOString(),
        mappingId: input.mapping.id,
        members: run.stateMembers,
      };
      await sink?.close(header);
      return header;
    },
  };
}

/** What a map task scans for one audience: its share of the profiles (see `scanAudience`). */
export interface AudienceScanInput {
  readonly membership: AudienceMembership;
  readonly profiles: ReadableStream<ProfileChunk>;
  /** The dataflow's mapping, as `planAudienceExport` takes it (the status column is added alike). */
  readonly mapping: CompiledMapping;
  readonly now: Date;
  readonly mode: ExportMode;
  /** The last successful run's state: candidates are kept for exits only for keys it may hold. */
  readonly baseline?: BaselineState | undefined;
  /** The reduce keeps a state (an incremental dataflow): candidates carry their fingerprints. */
  readonly state: boolean;
  /** Receives the task's one sorted run (run 0), in chunks of lines. */
  readonly output: SpillStore;
  /** Where runs spill when candidates outgrow `sortBudget`, before they are merged into `output`; dropped after. */
  readonly scratch?: SpillStore;
  /** Bytes of encoded candidates held before a sorted run is spilled to `scratch` (default 16 MiB). */
  readonly sortBudget?: number;
}

/** What a map task's scan of one audience left for the reduce. */
export interface AudienceScan {
  /** Counts of the scan: profiles read, members, rows skipped (missing, invalid). */
  readonly stats: ExportStats;
  /** 1 when it wrote a sorted run to `output` (run 0), 0 when it had no candidate. */
  readonly runs: 0 | 1;
}

/**
 * The scan half of the sorted path, on its own: a share of the profiles is scanned into candidates
 * sorted by member key — with exits against the baseline's key set, exactly as `planAudienceExport`
 * scans — and left as ONE sorted run on `output` (runs spilled past the sort budget are merged into
 * it). The merge half is `planAudienceExport` with `sorted` and a `resume` that says the scan is
 * done (`{stats, stateMembers: 0, runs, scanned: true}`), over a spill store whose runs are the
 * scans' outputs: the Worker's fan-out maps with the first and reduces with the second.
 */
export async function scanAudience(input: AudienceScanInput): Promise<AudienceScan> {
  const mapping = input.mode === 'incremental' ? withStatusColumn(input.mapping) : input.mapping;
  const usable = input.baseline && input.baseline.mappingId === input.mapping.id ? input.baseline : undefined;
  const baseline = STATEFUL_MODES.includes(input.mode) ? usable : undefined;
  const run = new Run(
    { membership: input.membership, profiles: () => input.profiles, mapping, now: input.now, mode: input.mode, sorted: true },
    baseline,
    input.state ? DISCARD_SINK : undefined,
  );
  const scratch = input.scratch ?? memorySpill();
  let final = false;
  let written = false;
  let spilled = false;
  const output = async (lines: readonly string[]) => {
    written = true;
    await input.output.write(0, lines);
  };
  // Runs go to the scratch store while the scan outgrows the budget; the last buffer, when it is
  // the only run, goes straight to the output (no merge, no decoding again).
  const routed: SpillStore = {
    write: (runNo, lines) => {
      if (final) return output(lines);
      spilled = true;
      return scratch.write(runNo, lines);
    },
    read: (runNo) => scratch.read(runNo),
    drop: () => scratch.drop(),
  };
  const sorter = new ExternalSorter<Candidate>(routed, candidateCodec, input.sortBudget);
  try {
    await run.scanAll(input.profiles, sorter);
    if (sorter.runs === 0) {
      final = true;
      await sorter.spill();
    } else {
      let lines: string[] = [];
      for await (const batch of sorter.sortedBatches()) {
        for (const candidate of batch) lines.push(candidateCodec.encode(candidate));
        if (lines.length >= MERGED_LINES) {
          await output(lines);
          lines = [];
        }
      }
      if (lines.length > 0) await output(lines);
    }
  } finally {
    if (spilled) await scratch.drop();
  }
  return { stats: run.stats, runs: written ? 1 : 0 };
}

/** Lines per write of a task's merged run (its store packs them into rows). */
const MERGED_LINES = 65_536;

/** A scan computes fingerprints when a state will be kept; it writes none itself. */
const DISCARD_SINK: StateSink = { write: async () => {}, close: async () => {} };

/** The usable baseline: streamed, or the object form; none when made with another mapping. */
function baselineOf(input: AudienceExportInput): BaselineState | undefined {
  if (input.baseline) return input.baseline.mappingId === input.mapping.id ? input.baseline : undefined;
  const previous = input.previous;
  if (!previous || previous.mappingId !== input.mapping.id) return undefined;
  return objectBaseline(previous);
}

/** A state kept as one object, read as a baseline: its entries in key order, in chunks. */
export function objectBaseline(state: AudienceExportState): BaselineState {
  const entries = Object.entries(state.members).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    mappingId: state.mappingId,
    members: entries.length,
    entries: async function* () {
      for (let i = 0; i < entries.length; i += 4096) yield entries.slice(i, i + 4096);
    },
  };
}

/** Counts before anything was read. */
export function emptyStats(): ExportStats {
  return { evaluated: 0, members: 0, exported: 0, joined: 0, changed: 0, unchanged: 0, exited: 0, skipped: {} };
}

/** A sink that gathers the state into one object and hands it to `save` at close. */
function objectSink(save: (state: AudienceExportState) => Promise<void>): StateSink {
  const members: Record<string, string> = {};
  return {
    write: async (entries) => {
      for (const [key, fp] of entries) members[key] = fp;
    },
    close: (header) => save({ kind: 'audience', version: 1, exportedAt: header.exportedAt, mappingId: header.mappingId, members }),
  };
}

/** The baseline's entries one at a time, refilled a chunk at a time. */
class BaselineCursor {
  readonly #chunks: AsyncIterator<readonly StateEntry[]> | undefined;
  #chunk: readonly StateEntry[] = [];
  #at = 0;
  #ended: boolean;

  constructor(baseline: BaselineState | undefined) {
    this.#chunks = baseline?.entries()[Symbol.asyncIterator]();
    this.#ended = !this.#chunks;
  }

  /** True when `peek` needs `fill()` first. */
  get empty(): boolean {
    return this.#at >= this.#chunk.length && !this.#ended;
  }

  async fill(): Promise<void> {
    while (this.#at >= this.#chunk.length && !this.#ended) {
      const next = await this.#chunks!.next();
      if (next.done) this.#ended = true;
      else {
        this.#chunk = next.value;
        this.#at = 0;
      }
    }
  }

  /** The next entry (after `fill()`), or undefined at the end. */
  peek(): StateEntry | undefined {
    return this.#chunk[this.#at];
  }

  next(): StateEntry {
    return this.#chunk[this.#at++]!;
  }
}

class Run {
  readonly stats: ExportStats = emptyStats();
  /** Entries of the new state. */
  stateMembers = 0;
  /** Set when the plan stopped early at `pause`'s request. */
  pausedAt: AudienceResume | undefined;
  #state: StateEntry[] = [];
  #out: Row[] = [];
  /** Diff mode: the changed and removed rows, taken by the plan after each batch. */
  #diverted: { changed: Row[]; removed: Row[] } = { changed: [], removed: [] };
  readonly #fpIndexes: number[];
  readonly #fingerprints: boolean;
  readonly #baseline: BaselineCursor;

  constructor(
    private readonly input: AudienceExportInput,
    private readonly baseline: BaselineState | undefined,
    private readonly sink: StateSink | undefined,
  ) {
    this.#fpIndexes = input.mapping.fields.flatMap((f, i) => (f.source === 'segmentMembership.status' ? [] : [i]));
    // Fingerprints only serve a state: a full export of a full dataflow computes none.
    this.#fingerprints = baseline !== undefined || sink !== undefined;
    this.#baseline = new BaselineCursor(baseline);
    const resume = input.resume;
    if (resume) {
      Object.assign(this.stats, structuredClone(resume.stats));
      this.stateMembers = resume.stateMembers;
    }
  }

  /** Skips baseline entries up to and including `key`: an earlier invocation decided them. */
  private async skipBaseline(key: string | undefined): Promise<void> {
    if (!this.baseline || key === undefined) return;
    const base = this.#baseline;
    for (;;) {
      if (base.empty) await base.fill();
      const next = base.peek();
      if (next === undefined || next[0] > key) return;
      base.next();
    }
  }

  /** Stops here: flushes the state written so far and records where to go on. */
  private async stop(at: Omit<AudienceResume, 'stats' | 'stateMembers'>): Promise<void> {
    await this.flushState();
    await this.sink?.flush?.();
    this.pausedAt = { stats: structuredClone(this.stats), stateMembers: this.stateMembers, ...at };
  }

  /**
   * Profiles in id order, without dedup: each profile is merged with the baseline as it streams by
   * (its key is its id), so neither a sort nor a map is needed.
   */
  async *merged(): AsyncGenerator<RowBatch> {
    const { membership, mapping, now } = this.input;
    const base = this.#baseline;
    const after = this.input.resume?.cursor;
    let last = after === undefined ? '' : JSON.stringify([after]);
    await this.skipBaseline(after === undefined ? undefined : last);
    let cursor = after;
    const reader = this.input.profiles(after).getReader();
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      for (const profile of profilesOf(chunk)) {
        this.stats.evaluated++;
        cursor = profile.id;
        const [key] = memberKeys(mapping, profile) as MemberKey[];
        if (key!.key <= last && last !== '') {
          throw new ExportError('INTERNAL', `Profiles are not in id order (${key!.key} after ${last}); the store must read them ordered by id`);
        }
        last = key!.key;
        let before: string | undefined;
        if (this.baseline) {
          if (base.empty) await base.fill();
          while (base.peek() !== undefined && base.peek()![0] < key!.key) {
            this.keyOnlyExit(base.next()[0]);
            if (base.empty) await base.fill();
          }
          if (base.peek()?.[0] === key!.key) before = base.next()[1];
        }
        const member = membership.test(profile, now);
        if (member) this.stats.members++;
        const cells = member ? this.cells(profile, key!, 'realized') : undefined;
        if (typeof cells === 'string') this.skip(cells);
        if (Array.isArray(cells)) {
          const fp = this.#fingerprints ? this.fingerprint(cells) : '';
          this.emit(cells, this.classify(before, fp));
          const wait = this.keep(key!.key, fp);
          if (wait) await wait;
        } else if (before !== undefined) {
          this.exit(this.cells(profile, key!, 'exited', true) as unknown[]);
        }
      }
      if (this.full) yield this.drain();
      if (this.input.pause?.()) {
        await reader.cancel();
        await this.stop({ ...(cursor !== undefined && { cursor }) });
        if (this.pending) yield this.drain();
        return;
      }
    }
    yield* this.remainingExits();
  }

  /**
   * Without dedup, profiles in any order: each is decided as it streams by, against the baseline
   * loaded into a map (memory grows with the baseline: the CLI's file sources).
   */
  async *streamed(): AsyncGenerator<RowBatch> {
    const { membership, mapping, now } = this.input;
    const before = new Map<string, string>();
    if (this.baseline) for await (const chunk of this.baseline.entries()) for (const [key, fp] of chunk) before.set(key, fp);
    const next: StateEntry[] = [];
    for await (const chunk of iterate(this.input.profiles())) {
      for (const profile of profilesOf(chunk)) {
        this.stats.evaluated++;
        const [key] = memberKeys(mapping, profile) as MemberKey[];
        const previous = before.get(key!.key);
        before.delete(key!.key);
        const member = membership.test(profile, now);
        if (member) this.stats.members++;
        const cells = member ? this.cells(profile, key!, 'realized') : undefined;
        if (typeof cells === 'string') this.skip(cells);
        if (Array.isArray(cells)) {
          const fp = this.#fingerprints ? this.fingerprint(cells) : '';
          this.emit(cells, this.classify(previous, fp));
          if (this.sink) next.push([key!.key, fp]);
        } else if (previous !== undefined && this.baseline) {
          this.exit(this.cells(profile, key!, 'exited', true) as unknown[]);
        }
      }
      if (this.full) yield this.drain();
    }
    // The state is written in key order, like every state.
    next.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [key, fp] of next) await this.keep(key, fp);
    for (const key of [...before.keys()].sort()) {
      this.keyOnlyExit(key);
      if (this.full) yield this.drain();
    }
    await this.flushState();
    if (this.pending) yield this.drain();
  }

  /**
   * With dedup: every candidate row goes through an external sort by key, then each key's
   * candidates are decided together, merged with the baseline as both stream in key order.
   */
  async *sorted(): AsyncGenerator<RowBatch> {
    const spill = this.input.spill ?? memorySpill();
    const resume = this.input.resume;
    const sorter = new ExternalSorter<Candidate>(spill, candidateCodec, this.input.sortBudget, undefined, resume?.runs ?? 0);
    let keep = false;
    try {
      if (!resume?.scanned) {
        const stopped = await this.scanAll(this.input.profiles(resume?.cursor), sorter, resume?.cursor);
        if (stopped) {
          // The candidates so far are spilled: the next invocation scans on, then merges them all.
          await this.stop({ runs: sorter.runs, ...(stopped.cursor !== undefined && { cursor: stopped.cursor }) });
          keep = true;
          return;
        }
        // The scan is done. The last candidates stay in memory for the merge; a pause in the
        // merge spills them first, so the next invocation finds every run on the store.
      }
      const through = resume?.decidedThrough;
      await this.skipBaseline(through);
      let group: Candidate[] = [];
      for await (const batch of sorter.sortedBatches()) {
        for (const candidate of batch) {
          if (through !== undefined && candidate.key <= through) continue;
          if (group.length > 0 && group[0]!.key !== candidate.key) {
            const wait = this.decide(group);
            if (wait) await wait;
            const key = group[0]!.key;
            group = [];
            if (this.full) yield this.drain();
            if (this.input.pause?.()) {
              await sorter.spill();
              await this.stop({ runs: sorter.runs, scanned: true, decidedThrough: key });
              keep = true;
              if (this.pending) yield this.drain();
              return;
            }
          }
          group.push(candidate);
        }
      }
      if (group.length > 0) await this.decide(group);
      yield* this.remainingExits();
    } finally {
      // A paused run keeps its spilled runs for the next invocation; a finished (or failed) one drops them.
      if (!keep) await spill.drop();
    }
  }

  /**
   * The scan half of the sorted path: every profile's candidates go to the sorter (exits only for
   * keys the baseline may hold). When `pause` asks, the scan stops after a page with the candidates
   * so far spilled, and says where it stopped; otherwise the last candidates stay in the sorter's memory.
   */
  async scanAll(profiles: ReadableStream<ProfileChunk>, sorter: ExternalSorter<Candidate>, from?: string): Promise<{ cursor?: string } | undefined> {
    const exits = this.baseline ? await KeySet.of(this.baseline) : undefined;
    const reader = profiles.getReader();
    let cursor = from;
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) return undefined;
      for (const profile of profilesOf(chunk)) {
        cursor = profile.id;
        // Synchronous per profile; only a spill waits.
        if (this.scan(profile, sorter, exits)) await sorter.spill();
      }
      if (this.input.pause?.()) {
        await reader.cancel();
        await sorter.spill();
        return { ...(cursor !== undefined && { cursor }) };
      }
    }
  }

  /**
   * Adds a profile's candidates: a row per member key, an exit row per key the baseline may hold.
   * True when the sorter's buffer is full and should spill.
   */
  private scan(profile: Profile, sorter: ExternalSorter<Candidate>, exits: KeySet | undefined): boolean {
    const { membership, mapping, now } = this.input;
    this.stats.evaluated++;
    const member = membership.test(profile, now);
    if (member) this.stats.members++;
    // A profile outside the audience matters only as a possible exit.
    else if (!exits) return false;
    const keys = memberKeys(mapping, profile);
    if (typeof keys === 'string') {
      if (member) this.skip(keys);
      return false;
    }
    const u = Date.parse(profile.updatedAt);
    let full = false;
    for (const key of keys) {
      const cells = member ? this.cells(profile, key, 'realized') : undefined;
      if (typeof cells === 'string') this.skip(cells);
      if (Array.isArray(cells)) {
        const q = Date.parse(membership.qualifiedAt(profile));
        const fp = this.#fingerprints ? this.fingerprint(cells) : '';
        full = sorter.push({ m: 1, key: key.key, parts: key.parts, q, u, pid: profile.id, fp, cells }) || full;
      } else if (exits?.has(key.key)) {
        const exit = this.cells(profile, key, 'exited', true) as unknown[];
        full = sorter.push({ m: 0, key: key.key, parts: key.parts, q: 0, u, pid: profile.id, fp: '', cells: exit }) || full;
      }
    }
    return full;
  }

  /**
   * One key's candidates: the best member wins (others are duplicates), else an exit if it was a
   * member. Synchronous unless the baseline or the state sink must be waited for.
   */
  private decide(group: readonly Candidate[]): Promise<void> | undefined {
    return this.baseline ? this.decideAgainstBaseline(group) : this.settle(group, undefined);
  }

  private async decideAgainstBaseline(group: readonly Candidate[]): Promise<void> {
    const key = group[0]!.key;
    const base = this.#baseline;
    let before: string | undefined;
    if (base.empty) await base.fill();
    while (base.peek() !== undefined && base.peek()![0] < key) {
      this.keyOnlyExit(base.next()[0]);
      if (base.empty) await base.fill();
    }
    if (base.peek()?.[0] === key) before = base.next()[1];
    await this.settle(group, before);
  }

  /** Decides a key's candidates given its baseline fingerprint (`before`, if it was a member). */
  private settle(group: readonly Candidate[], before: string | undefined): Promise<void> | undefined {
    let winner: Candidate | undefined;
    let exitSource: Candidate | undefined;
    for (const c of group) {
      if (c.m === 1) {
        if (winner) this.skip('duplicate');
        if (!winner || beats(c, winner)) winner = c;
      } else if (!exitSource || beats(c, exitSource)) exitSource = c;
    }
    if (winner) {
      this.emit(winner.cells, this.classify(before, winner.fp));
      return this.keep(group[0]!.key, winner.fp);
    }
    if (before !== undefined) {
      if (exitSource) this.exit(exitSource.cells);
      else this.keyOnlyExit(group[0]!.key);
    }
    return undefined;
  }

  /** Baseline members left once every profile is decided: they exited, only their keys are known. */
  private async *remainingExits(): AsyncGenerator<RowBatch> {
    const base = this.#baseline;
    if (this.baseline) {
      for (;;) {
        if (base.empty) await base.fill();
        if (base.peek() === undefined) break;
        this.keyOnlyExit(base.next()[0]);
        if (this.full) yield this.drain();
      }
    }
    await this.flushState();
    if (this.pending) yield this.drain();
  }

  /** Counts a member by its baseline fingerprint and says how this run writes it (undefined: not at all). */
  private classify(before: string | undefined, fp: string): DeltaKind | undefined {
    if (before === undefined) {
      this.stats.joined++;
      return 'added';
    }
    if (before !== fp) {
      this.stats.changed++;
      return this.input.mode === 'insert-only' ? undefined : 'changed';
    }
    this.stats.unchanged++;
    return this.baseline ? undefined : 'added';
  }

  /** Records a member of the new state (in key order), flushing to the sink in chunks. */
  private keep(key: string, fp: string): Promise<void> | undefined {
    if (!this.sink) return undefined;
    this.stateMembers++;
    this.#state.push([key, fp]);
    return this.#state.length >= 4096 ? this.flushState() : undefined;
  }

  private async flushState(): Promise<void> {
    if (!this.sink || this.#state.length === 0) return;
    const entries = this.#state;
    this.#state = [];
    await this.sink.write(entries);
  }

  private cells(profile: Profile, key: MemberKey, status: RowContext['status'], lenient = false): unknown[] | string {
    const { membership } = this.input;
    const upload = membership.upload?.(profile);
    const ctx: RowContext = {
      status,
      qualifiedAt: membership.qualifiedAt(profile),
      ...(key.identity && { identity: key.identity }),
      ...(upload && { upload }),
    };
    if (!lenient) return mapValues(this.input.mapping, profile, ctx);
    return this.input.mapping.fields.map((f) => f.read(profile, ctx));
  }

  private fingerprint(cells: readonly unknown[]): string {
    return fingerprint(this.#fpIndexes.map((i) => cells[i]));
  }

  /** Writes a row of the given kind (none: the row is not written); diff mode diverts all but added ones. */
  private emit(cells: readonly unknown[], kind: DeltaKind | undefined): void {
    if (kind === undefined) return;
    this.stats.exported++;
    const row = toRow(this.input.mapping, cells);
    if (kind !== 'added' && this.input.mode === 'diff') this.#diverted[kind].push(row);
    else this.#out.push(row);
  }

  /** An exited member: counted always, written except by an insert-only export. */
  private exit(cells: readonly unknown[]): void {
    this.stats.exited++;
    this.emit(cells, this.input.mode === 'insert-only' ? undefined : 'removed');
  }

  /** Enough rows are waiting (written or diverted) to hand on a batch. */
  private get full(): boolean {
    return this.#out.length + this.#diverted.changed.length + this.#diverted.removed.length >= BATCH_ROWS;
  }

  /** Any row is waiting. */
  private get pending(): boolean {
    return this.#out.length + this.#diverted.changed.length + this.#diverted.removed.length > 0;
  }

  /** The diverted rows gathered since the last call, by kind (diff mode). */
  takeDiverted(): [Exclude<DeltaKind, 'added'>, RowBatch][] {
    const { changed, removed } = this.#diverted;
    if (changed.length === 0 && removed.length === 0) return [];
    this.#diverted = { changed: [], removed: [] };
    const taken: [Exclude<DeltaKind, 'added'>, RowBatch][] = [];
    if (changed.length > 0) taken.push(['changed', changed]);
    if (removed.length > 0) taken.push(['removed', removed]);
    return taken;
  }

  /** An exit row with only the key columns: no profile accounts for the member any more. */
  private keyOnlyExit(key: string): void {
    const { fields, keySources } = this.input.mapping;
    const parts = JSON.parse(key) as string[];
    const cells = fields.map((f) => {
      if (f.source === 'segmentMembership.status') return 'exited';
      const at = keySources.indexOf(f.source);
      if (at < 0) return null;
      const part = parts[at];
      return typeof f.type === 'object' && 'list' in f.type ? [part] : coerce(part, f.type);
    });
    this.exit(cells);
  }

  /** The rows emitted so far, as one batch. */
  private drain(): RowBatch {
    const batch = this.#out;
    this.#out = [];
    return batch;
  }

  private skip(reason: string): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
  }
}

/**
 * The baseline's keys as a Bloom filter (~10 bits a key, about 1% false positives): the sorted path
 * keeps a non-member's exit row only for a key the baseline may hold, in bounded memory.
 */
class KeySet {
  readonly #bits: Uint32Array;
  readonly #size: number;

  private constructor(keys: number) {
    this.#size = Math.max(1024, keys * 10);
    this.#bits = new Uint32Array(Math.ceil(this.#size / 32));
  }

  /** Reads the baseline's keys once, into a filter sized by its member count. */
  static async of(baseline: BaselineState): Promise<KeySet> {
    const set = new KeySet(baseline.members);
    for await (const chunk of baseline.entries()) for (const [key] of chunk) set.add(key);
    return set;
  }

  add(key: string): void {
    const [a, b] = hashes(key);
    for (let i = 0; i < 7; i++) {
      const bit = (a + i * b) % this.#size;
      this.#bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  has(key: string): boolean {
    const [a, b] = hashes(key);
    for (let i = 0; i < 7; i++) {
      const bit = (a + i * b) % this.#size;
      if ((this.#bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two independent 32-bit hashes of a string (FNV-1a and a multiplicative one), as positive numbers. */
function hashes(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 2246822507);
  }
  return [a >>> 0, (b | 1) >>> 0];
}

function profilesOf(chunk: ProfileChunk): readonly Profile[] {
  return Array.isArray(chunk) ? chunk : [chunk as Profile];
}

/** Latest qualified wins, then latest updated, then the smallest profile id. */
function beats(a: { q: number; u: number; pid: string }, b: { q: number; u: number; pid: string }): boolean {
  if (a.q !== b.q) return a.q > b.q;
  if (a.u !== b.u) return a.u > b.u;
  return a.pid < b.pid;
}

/** Incremental files must say which rows exited: add the status column when the mapping lacks it. */
function withStatusColumn(mapping: CompiledMapping): CompiledMapping {
  if (mapping.fields.some((f) => f.source === 'segmentMembership.status')) return mapping;
  const header = 'segmentMembership_status';
  const field = {
    source: 'segmentMembership.status',
    header,
    type: 'string' as const,
    mandatory: false,
    read: (_p: Profile, ctx: RowContext) => ctx.status,
  };
  return {
    ...mapping,
    fields: [...mapping.fields, field],
    schema: [...mapping.schema, { name: header, type: 'string', nullable: false }],
  };
}
