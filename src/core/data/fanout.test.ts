import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectRows, fromIterable } from '../streams.ts';
import type { Row } from '../types.ts';
import { ruleMembership } from './audience.ts';
import {
  type BaselineState,
  type ExportMode,
  objectBaseline,
  planAudienceExport,
  scanAudience,
} from './export-plan.ts';
import {
  fitTaskRows,
  indexedRows,
  MIN_TASK_ROW_BYTES,
  maxTasks,
  REDUCE_QUERIES_PER_TASK,
  reduceStart,
  seekRow,
  taskRowBytes,
  unionSpill,
} from './fanout.ts';
import { compileMapping, type MappingSpec } from './mapping.ts';
import type { Profile } from './model.ts';
import { memorySpill, type SpillStore } from './spill.ts';
import type { AudienceExportState } from './store.ts';

const NOW = new Date('2026-03-01T00:00:00Z');
const gold = ruleMembership((p) => p.attributes.tier === 'gold');

function profile(
  i: number,
  tier: string,
  extra: Record<string, unknown> = {},
  updatedAt = '2026-01-01T00:00:00Z',
): Profile {
  return {
    id: `p${String(i).padStart(4, '0')}`,
    identities: {},
    attributes: { tier, score: i % 7, ...extra },
    updatedAt,
  };
}

const plain: MappingSpec = {
  fields: [
    { source: 'id' },
    { source: 'attributes.score', target: 'score' },
    { source: 'attributes.tier', target: 'tier' },
  ],
};
const byEmail: MappingSpec = { ...plain, dedup: { attributes: ['attributes.email'] } };

function baselineOf(state: AudienceExportState | undefined): BaselineState | undefined {
  return state && objectBaseline(state);
}

interface Outcome {
  rows: Row[];
  stats: unknown;
  state: AudienceExportState | undefined;
}

/** The D1 path: one plan over every profile, read in id order (sorted path when deduplicating). */
async function whole(
  spec: MappingSpec,
  profiles: Profile[],
  mode: ExportMode,
  previous?: AudienceExportState,
): Promise<Outcome> {
  let state: AudienceExportState | undefined;
  const ordered = [...profiles].sort((a, b) => (a.id < b.id ? -1 : 1));
  const plan = planAudienceExport({
    membership: gold,
    profiles: () => fromIterable(ordered),
    mapping: compileMapping(spec),
    now: NOW,
    mode,
    previous,
    ordered: true,
    save: async (s) => {
      state = s;
    },
  });
  const rows = await collectRows(plan.rows);
  await plan.commit();
  return { rows, stats: plan.stats, state };
}

/** The fan-out: each share scanned on its own into one run, the runs merged by the reduce. */
async function fanned(
  spec: MappingSpec,
  shares: Profile[][],
  mode: ExportMode,
  previous?: AudienceExportState,
  options: { sortBudget?: number; store?: () => SpillStore } = {},
): Promise<Outcome & { outputs: SpillStore[] }> {
  const mapping = compileMapping(spec);
  const outputs: SpillStore[] = [];
  const scans = [];
  for (const share of shares) {
    const output = options.store?.() ?? memorySpill();
    const scan = await scanAudience({
      membership: gold,
      profiles: fromIterable([share]),
      mapping,
      now: NOW,
      mode,
      baseline: baselineOf(previous),
      state: mode !== 'full',
      output,
      ...(options.sortBudget && { sortBudget: options.sortBudget }),
    });
    scans.push(scan);
    if (scan.runs > 0) outputs.push(output);
  }
  let state: AudienceExportState | undefined;
  const plan = planAudienceExport({
    membership: gold,
    profiles: () => {
      throw new Error('the reduce reads no profile');
    },
    mapping,
    now: NOW,
    mode,
    previous,
    sorted: true,
    spill: unionSpill(outputs),
    resume: reduceStart(scans),
    save: async (s) => {
      state = s;
    },
  });
  const rows = await collectRows(plan.rows);
  await plan.commit();
  return { rows, stats: plan.stats, state, outputs };
}

/** Splits a list into `n` shares, dealt round-robin after a deterministic shuffle. */
function deal<T>(items: readonly T[], n: number, seed: number): T[][] {
  const shuffled = [...items];
  let x = seed;
  for (let i = shuffled.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const j = x % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return Array.from({ length: n }, (_, k) => shuffled.filter((_, i) => i % n === k));
}

describe('fan-out: map scans into one run per task, the reduce merges them', () => {
  it('equals the D1 path in full, then incremental mode (joined, changed, exited), whatever the split', async () => {
    const first = Array.from({ length: 300 }, (_, i) => profile(i, i % 3 === 0 ? 'silver' : 'gold'));
    // Second snapshot: some leave the audience, some change, some join, some vanish.
    const second = first
      .filter((_, i) => i % 11 !== 0)
      .map((p, i) =>
        i % 5 === 0
          ? { ...p, attributes: { ...p.attributes, tier: 'gold' } }
          : i % 7 === 0
            ? { ...p, attributes: { ...p.attributes, tier: 'bronze' } }
            : i % 13 === 0
              ? { ...p, attributes: { ...p.attributes, score: 99 } }
              : p,
      )
      .concat(Array.from({ length: 20 }, (_, i) => profile(1000 + i, 'gold')));
    for (const n of [1, 3, 8]) {
      const d1First = await whole(plain, first, 'incremental');
      const fanFirst = await fanned(plain, deal(first, n, n), 'incremental');
      expect(fanFirst.rows).toEqual(d1First.rows);
      expect(fanFirst.stats).toEqual(d1First.stats);
      expect(fanFirst.state?.members).toEqual(d1First.state?.members);
      const d1Second = await whole(plain, second, 'incremental', d1First.state);
      const fanSecond = await fanned(plain, deal(second, n, n + 1), 'incremental', fanFirst.state);
      expect(fanSecond.rows).toEqual(d1Second.rows);
      expect(fanSecond.stats).toEqual(d1Second.stats);
      expect(fanSecond.state?.members).toEqual(d1Second.state?.members);
      // The second run has every kind of change.
      expect(d1Second.stats).toMatchObject({
        joined: expect.any(Number),
        changed: expect.any(Number),
        exited: expect.any(Number),
      });
      const s = d1Second.stats as { joined: number; changed: number; exited: number };
      expect(Math.min(s.joined, s.changed, s.exited)).toBeGreaterThan(0);
    }
  });

  it('deduplicates across tasks exactly as in one pass, and decides two rows of one id (a snapshot may hold both) best-first', async () => {
    const people = Array.from({ length: 200 }, (_, i) =>
      profile(
        i,
        'gold',
        { email: `e${i % 60}@x.com` },
        `2026-01-${String((i % 28) + 1).padStart(2, '0')}T00:00:00Z`,
      ),
    );
    for (const n of [2, 5]) {
      const d1 = await whole(byEmail, people, 'full');
      const fan = await fanned(byEmail, deal(people, n, 7 * n), 'full');
      expect(fan.rows).toEqual(d1.rows);
      expect(fan.stats).toEqual(d1.stats);
    }
    // Without dedup, one id twice (in two files of a snapshot): the later update wins, the other is a duplicate.
    const older = profile(1, 'gold', { score: 1 }, '2026-01-01T00:00:00Z');
    const newer = { ...profile(1, 'gold', { score: 2 }, '2026-02-01T00:00:00Z') };
    const fan = await fanned(plain, [[older, profile(2, 'gold')], [newer]], 'full');
    expect(fan.rows).toEqual([
      { id: 'p0001', score: '2', tier: 'gold' },
      { id: 'p0002', score: '2', tier: 'gold' },
    ]);
    expect(fan.stats).toMatchObject({ exported: 2, skipped: { duplicate: 1 } });
  });

  it('leaves one run per task even when a task outgrows its sort budget (its runs merged before it finishes)', async () => {
    const people = Array.from({ length: 400 }, (_, i) => profile(i, 'gold', { email: `e${i % 150}@x.com` }));
    let writes = 0;
    const runsWritten = new Set<number>();
    const store = () => {
      const inner = memorySpill();
      return {
        write: async (run: number, lines: readonly string[]) => {
          writes++;
          runsWritten.add(run);
          await inner.write(run, lines);
        },
        read: (run: number) => inner.read(run),
        drop: () => inner.drop(),
      };
    };
    const d1 = await whole(byEmail, people, 'full');
    const fan = await fanned(byEmail, deal(people, 3, 3), 'full', undefined, { sortBudget: 2_000, store });
    expect(fan.rows).toEqual(d1.rows);
    expect(fan.stats).toEqual(d1.stats);
    expect(writes).toBeGreaterThan(0);
    expect([...runsWritten]).toEqual([0]);
  });

  it('matches the D1 path for any profiles, split any way (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ tier: fc.constantFrom('gold', 'silver'), score: fc.integer({ min: 0, max: 3 }) }),
          { maxLength: 80 },
        ),
        fc.array(
          fc.record({ tier: fc.constantFrom('gold', 'silver'), score: fc.integer({ min: 0, max: 3 }) }),
          { maxLength: 80 },
        ),
        fc.integer({ min: 1, max: 6 }),
        async (a, b, n) => {
          const snap = (list: { tier: string; score: number }[]) =>
            list.map((x, i) => profile(i * 3, x.tier, { score: x.score }));
          const d1a = await whole(plain, snap(a), 'incremental');
          const fa = await fanned(plain, deal(snap(a), n, n), 'incremental');
          expect(fa.rows).toEqual(d1a.rows);
          const d1b = await whole(plain, snap(b), 'incremental', d1a.state);
          const fb = await fanned(plain, deal(snap(b), n, n + 3), 'incremental', fa.state);
          expect(fb.rows).toEqual(d1b.rows);
          expect(fb.stats).toEqual(d1b.stats);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('fan-out: a run makes no more tasks than one reduce invocation can open', () => {
  it("caps tasks by the reduce's queries as well as its merge memory", () => {
    // 1,000 queries an invocation: 310 kept for the pause, the outcome and reading, 2 a task for opening.
    expect(maxTasks()).toBe(345);
    expect(maxTasks() * REDUCE_QUERIES_PER_TASK + 310).toBeLessThanOrEqual(1_000);
    expect(maxTasks(24 * 1024 * 1024, 100_000)).toBe(1_536);
  });

  it("raises rows per task so the shards' splits make at most the cap, or says the run is too big", () => {
    const tasksOf = (counts: readonly number[], rows: number) =>
      counts.reduce((n, c) => n + Math.ceil(c / rows), 0);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1_000, max: 200_000 }),
        fc.integer({ min: 65, max: 400 }),
        (counts, rowsPerTask, cap) => {
          const tasks = tasksOf(counts, rowsPerTask);
          const rows = fitTaskRows(tasks, rowsPerTask, counts.length, cap, 1_000_000);
          if (tasks <= cap) expect(rows).toBe(rowsPerTask);
          else if (rows !== undefined) {
            expect(rows).toBeGreaterThan(rowsPerTask);
            expect(rows).toBeLessThanOrEqual(1_000_000);
            expect(tasksOf(counts, rows)).toBeLessThanOrEqual(cap);
          } else {
            // Refused only when even the largest task cannot bring the run under the cap.
            expect(
              tasksOf(counts, 1_000_000) + counts.length > cap ||
                Math.ceil((tasks * rowsPerTask) / (cap - counts.length)) > 1_000_000,
            ).toBe(true);
          }
        },
      ),
      { numRuns: 500, seed: 20261205 },
    );
    expect(fitTaskRows(1_000, 100_000, 32, 345, 1_000_000)).toBe(319_489);
    expect(fitTaskRows(10_000, 100_000, 256, 345, 1_000_000)).toBeUndefined();
  });
});

describe('fan-out: the reduce merge holds a bounded amount of spilled text', () => {
  it('sizes task rows so one row of every run fits the merge budget, down to its floor', () => {
    expect(taskRowBytes(1, 1_800_000)).toBe(1_800_000);
    expect(taskRowBytes(100, 1_800_000)).toBe(Math.floor((24 * 1024 * 1024) / 100));
    expect(taskRowBytes(100_000, 1_800_000)).toBe(MIN_TASK_ROW_BYTES);
    // The store's row limit wins over the floor.
    expect(taskRowBytes(100_000, 1_800)).toBe(1_800);
    expect(maxTasks() * MIN_TASK_ROW_BYTES).toBeLessThanOrEqual(24 * 1024 * 1024);
  });

  it('with 40 tasks and a lowered budget, never holds more than the budget of rows at once', async () => {
    const budget = 40 * 1024;
    const rowBytes = taskRowBytes(40, 1_800_000, budget, 256);
    expect(rowBytes).toBe(1024);
    // A task's store packs lines into rows of at most rowBytes, read back one row at a time; the
    // merge holds a run's row until it asks for the next one.
    const held = new Map<SpillStore, number>();
    let most = 0;
    const rowStore = (): SpillStore => {
      const rows: string[] = [];
      const self: SpillStore = {
        write: async (_run, lines) => {
          let row = '';
          for (const line of lines) {
            if (row && row.length + line.length + 1 > rowBytes) {
              rows.push(row);
              row = '';
            }
            row = row ? `${row}\n${line}` : line;
          }
          if (row) rows.push(row);
        },
        read: () =>
          (async function* () {
            for (const row of rows) {
              held.set(self, row.length);
              most = Math.max(
                most,
                [...held.values()].reduce((a, b) => a + b, 0),
              );
              yield row.split('\n');
            }
            held.delete(self);
          })(),
        drop: async () => {},
      };
      return self;
    };
    const people = Array.from({ length: 2000 }, (_, i) => profile(i, 'gold', { note: `n${i}`.repeat(5) }));
    const d1 = await whole(plain, people, 'full');
    const fan = await fanned(plain, deal(people, 40, 1), 'full', undefined, { store: rowStore });
    expect(fan.rows).toEqual(d1.rows);
    expect(most).toBeGreaterThan(budget / 4);
    expect(most).toBeLessThanOrEqual(budget);
  });
});

describe('fan-out: a continued reduce seeks each run', () => {
  it("writes a run in rows of at most rowBytes, one write per row, each row's first key recorded; seekRow finds the row to resume in", async () => {
    const inner = memorySpill();
    const rowsOf: (readonly string[])[] = [];
    const store = indexedRows(
      {
        ...inner,
        write: async (run, lines) => {
          rowsOf.push(lines);
          await inner.write(run, lines);
        },
      },
      40,
      (line) => line.slice(0, 3),
    );
    const lines = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}-value`);
    await store.write(0, lines.slice(0, 20));
    await store.write(0, lines.slice(20));
    expect(rowsOf.flat()).toEqual(lines);
    for (const row of rowsOf) expect(row.join('\n').length).toBeLessThanOrEqual(40);
    expect(store.firstKeys).toEqual(rowsOf.map((row) => row[0]!.slice(0, 3)));
    expect(seekRow(store.firstKeys, undefined)).toBe(0);
    expect(seekRow(store.firstKeys, 'k00')).toBe(0);
    // The row holding k13 is the last one starting at or before it; rows before it hold only decided keys.
    const at = seekRow(store.firstKeys, 'k13');
    expect(rowsOf[at]!.some((l) => l.startsWith('k13'))).toBe(true);
    expect(
      rowsOf
        .slice(0, at)
        .flat()
        .every((l) => l < 'k13'),
    ).toBe(true);
    expect(seekRow(store.firstKeys, 'k99')).toBe(rowsOf.length - 1);
  });
});
