/**
 * Export plans for audiences: which rows a run writes, in full or incremental mode, and the state
 * that a successful run leaves for the next one.
 *
 * - Full: every current member, status `realized`.
 * - Incremental (after a first full run): members that joined or whose exported values changed
 *   since the last successful run, plus those that exited (status `exited`). Without a baseline
 *   (first run, or the mapping changed) an incremental run exports in full.
 * - State: member key → fingerprint of its exported cells (status column excluded), O(members).
 *   Rows themselves are never held: they stream out, in batches of about BATCH_ROWS, as profiles
 *   stream in (one by one or a page at a time).
 * - Dedup (mapping.dedup): the latest qualified record per key wins — greatest qualifiedAt, then
 *   greatest updatedAt, then the smallest profile id. It needs two passes over the profiles: the
 *   first keeps a small tuple per distinct key (profile id, two times, fingerprint), the second
 *   maps and emits the winners; memory is O(distinct keys), never O(rows).
 * - Exited rows are mapped from the profile when it still exists (mandatory checks do not apply),
 *   otherwise only the key columns are filled. A member skipped for a missing mandatory field is
 *   no longer exported, so a previously exported one is reported as exited.
 * - `commit()` persists the new state; call it only after every file of the run was published.
 *   A run that fails (or is never committed) leaves the previous state untouched.
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
import type { AudienceExportState } from './store.ts';

export type ExportMode = 'full' | 'incremental';

/** Profiles arrive one by one or in arrays (a page, a source batch): one stream read per chunk. */
export type ProfileChunk = Profile | readonly Profile[];

export interface AudienceExportInput {
  readonly membership: AudienceMembership;
  /** Opens a fresh pass over every profile; called twice when the mapping deduplicates. */
  readonly profiles: () => ReadableStream<ProfileChunk>;
  readonly mapping: CompiledMapping;
  readonly now: Date;
  readonly mode: ExportMode;
  /** State of the last successful run for this dataflow and audience. */
  readonly previous?: AudienceExportState | undefined;
  /** Persists the new state (called by `commit()`). */
  readonly save: (state: AudienceExportState) => Promise<void>;
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
  /** Rows not exported, by reason: `missing:<source>`, `duplicate`. */
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
  /** Persists the new state; only valid after `rows` was read to the end. */
  commit(): Promise<AudienceExportState>;
}

interface Winner {
  pid: string;
  q: number;
  u: number;
  fp: string;
}

/** Plans an audience export: rows to write, counts, and the state to commit on success. */
export function planAudienceExport(input: AudienceExportInput): AudiencePlan {
  const mapping = input.mode === 'incremental' ? withStatusColumn(input.mapping) : input.mapping;
  const baseline =
    input.previous?.mappingId === input.mapping.id
      ? new Map(Object.entries(input.previous.members))
      : undefined;
  const incremental = input.mode === 'incremental' && baseline !== undefined;
  const run = new Run({ ...input, mapping }, baseline ?? new Map(), incremental);
  let finished = false;
  let iterator: AsyncIterator<RowBatch> | undefined;
  const rows = new ReadableStream<RowBatch>(
    {
      async pull(controller) {
        iterator ??= (input.mapping.dedup ? run.twoPass() : run.onePass())[Symbol.asyncIterator]();
        const { value, done } = await iterator.next();
        if (!done) return controller.enqueue(value);
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
    async commit() {
      if (!finished)
        throw new ExportError('INTERNAL', 'Export state can only be committed after every row was read');
      const state: AudienceExportState = {
        kind: 'audience',
        version: 1,
        exportedAt: input.now.toISOString(),
        mappingId: input.mapping.id,
        members: Object.fromEntries(run.next),
      };
      await input.save(state);
      return state;
    },
  };
}

class Run {
  readonly stats: ExportStats = {
    evaluated: 0,
    members: 0,
    exported: 0,
    joined: 0,
    changed: 0,
    unchanged: 0,
    exited: 0,
    skipped: {},
  };
  /** The state being built: member key → fingerprint. */
  readonly next = new Map<string, string>();
  /** Rows emitted but not yet handed on as a batch. */
  private out: Row[] = [];
  private readonly fpIndexes: number[];

  constructor(
    private readonly input: AudienceExportInput,
    private readonly baseline: Map<string, string>,
    private readonly incremental: boolean,
  ) {
    this.fpIndexes = input.mapping.fields.flatMap((f, i) =>
      f.source === 'segmentMembership.status' ? [] : [i],
    );
  }

  /** Without dedup every profile is its own key: decide and emit as profiles stream by. */
  async *onePass(): AsyncGenerator<RowBatch> {
    const exitedSeen = new Set<string>();
    for await (const chunk of iterate(this.input.profiles())) {
      for (const profile of profilesOf(chunk)) {
        this.stats.evaluated++;
        const [key] = memberKeys(this.input.mapping, profile) as MemberKey[];
        const member = this.input.membership.test(profile, this.input.now);
        if (member) this.stats.members++;
        const cells = member ? this.cells(profile, key!, 'realized') : undefined;
        if (typeof cells === 'string') this.skip(cells);
        if (Array.isArray(cells)) {
          const fp = this.fingerprint(cells);
          this.next.set(key!.key, fp);
          if (this.classify(key!.key, fp)) this.emit(cells);
        } else if (this.incremental && this.baseline.has(key!.key)) {
          exitedSeen.add(key!.key);
          this.exited(profile, key!);
        }
        if (this.out.length >= BATCH_ROWS) yield this.drain();
      }
    }
    yield* this.keyOnlyExits(exitedSeen);
  }

  /** With dedup: pass 1 picks a winner per key, pass 2 maps and emits the winners and exits. */
  async *twoPass(): AsyncGenerator<RowBatch> {
    const winners = new Map<string, Winner>();
    const exitSources = new Map<string, Winner>();
    for await (const chunk of iterate(this.input.profiles())) {
      for (const profile of profilesOf(chunk)) this.firstPass(profile, winners, exitSources);
    }
    const emit = new Set<string>();
    for (const [key, w] of winners) if (this.classify(key, w.fp)) emit.add(key);
    const exitedSeen = new Set<string>();
    for await (const chunk of iterate(this.input.profiles())) {
      for (const profile of profilesOf(chunk)) {
        this.secondPass(profile, winners, exitSources, emit, exitedSeen);
        if (this.out.length >= BATCH_ROWS) yield this.drain();
      }
    }
    yield* this.keyOnlyExits(exitedSeen);
  }

  private secondPass(
    profile: Profile,
    winners: Map<string, Winner>,
    exitSources: Map<string, Winner>,
    emit: Set<string>,
    exitedSeen: Set<string>,
  ): void {
    const keys = memberKeys(this.input.mapping, profile);
    if (typeof keys === 'string') return;
    for (const key of keys) {
      const winner = winners.get(key.key);
      if (winner?.pid === profile.id) {
        // Keep the fingerprint that was classified unless this row is written now: a change
        // between the passes that is not written must still show up as a change next run.
        if (!emit.has(key.key)) {
          this.next.set(key.key, winner.fp);
          continue;
        }
        const cells = this.cells(profile, key, 'realized', true) as unknown[];
        this.next.set(key.key, this.fingerprint(cells));
        this.emit(cells);
      } else if (
        exitSources.get(key.key)?.pid === profile.id &&
        !exitedSeen.has(key.key) &&
        !winners.has(key.key)
      ) {
        exitedSeen.add(key.key);
        this.exited(profile, key);
      }
    }
  }

  private firstPass(profile: Profile, winners: Map<string, Winner>, exitSources: Map<string, Winner>): void {
    const { membership, mapping, now } = this.input;
    this.stats.evaluated++;
    const member = membership.test(profile, now);
    if (member) this.stats.members++;
    const keys = memberKeys(mapping, profile);
    if (typeof keys === 'string') {
      if (member) this.skip(keys);
      return;
    }
    const u = Date.parse(profile.updatedAt);
    for (const key of keys) {
      const cells = member ? this.cells(profile, key, 'realized') : undefined;
      if (typeof cells === 'string') this.skip(cells);
      if (Array.isArray(cells)) {
        const candidate = {
          pid: profile.id,
          q: Date.parse(membership.qualifiedAt(profile)),
          u,
          fp: this.fingerprint(cells),
        };
        const current = winners.get(key.key);
        if (current) this.skip('duplicate');
        if (!current || beats(candidate, current)) winners.set(key.key, candidate);
      } else if (this.incremental && this.baseline.has(key.key)) {
        const candidate = { pid: profile.id, q: 0, u, fp: '' };
        const current = exitSources.get(key.key);
        if (!current || beats(candidate, current)) exitSources.set(key.key, candidate);
      }
    }
  }

  /** Counts a member by its baseline and says whether this run writes it. */
  private classify(key: string, fp: string): boolean {
    const before = this.baseline.get(key);
    if (before === undefined) this.stats.joined++;
    else if (before !== fp) this.stats.changed++;
    else this.stats.unchanged++;
    return !this.incremental || before !== fp;
  }

  private cells(
    profile: Profile,
    key: MemberKey,
    status: RowContext['status'],
    lenient = false,
  ): unknown[] | string {
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
    return fingerprint(this.fpIndexes.map((i) => cells[i]));
  }

  private emit(cells: readonly unknown[]): void {
    this.stats.exported++;
    this.out.push(toRow(this.input.mapping, cells));
  }

  private exited(profile: Profile, key: MemberKey): void {
    this.stats.exited++;
    this.emit(this.cells(profile, key, 'exited', true) as unknown[]);
  }

  /** The rows emitted so far, as one batch. */
  private drain(): RowBatch {
    const batch = this.out;
    this.out = [];
    return batch;
  }

  /**
   * Baseline members no profile accounts for any more (only their key columns are known), then
   * whatever rows are still queued.
   */
  private *keyOnlyExits(seen: Set<string>): Generator<RowBatch> {
    const { fields, keySources } = this.input.mapping;
    for (const key of this.incremental ? this.baseline.keys() : []) {
      if (this.next.has(key) || seen.has(key)) continue;
      const parts = JSON.parse(key) as string[];
      const cells = fields.map((f) => {
        if (f.source === 'segmentMembership.status') return 'exited';
        const at = keySources.indexOf(f.source);
        if (at < 0) return null;
        const part = parts[at];
        return typeof f.type === 'object' && 'list' in f.type ? [part] : coerce(part, f.type);
      });
      this.stats.exited++;
      this.emit(cells);
      if (this.out.length >= BATCH_ROWS) yield this.drain();
    }
    if (this.out.length > 0) yield this.drain();
  }

  private skip(reason: string): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
  }
}

function profilesOf(chunk: ProfileChunk): readonly Profile[] {
  return Array.isArray(chunk) ? chunk : [chunk as Profile];
}

/** Latest qualified wins, then latest updated, then the smallest profile id. */
function beats(a: Winner, b: Winner): boolean {
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
