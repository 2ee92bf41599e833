import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ruleMembership } from '../src/core/data/audience.ts';
import { type ExportMode, planAudienceExport } from '../src/core/data/export-plan.ts';
import { compileMapping } from '../src/core/data/mapping.ts';
import { MemoryStore } from './support/memory-store.ts';
import type { Profile } from '../src/core/data/model.ts';
import { stateSlot, streamProfiles } from '../src/core/data/store.ts';
import { collectRows, fromIterable, iterate } from '../src/core/streams.ts';
import type { Row } from '../src/core/types.ts';

const KEY = { dataflowId: 'df-1', subjectId: 'aud-gold' };
const gold = ruleMembership((p) => (p.attributes.loyalty as { tier?: string } | undefined)?.tier === 'gold');
const mapping = compileMapping({
  fields: [
    { source: 'id' },
    { source: 'identities.email', target: 'email' },
    { source: 'attributes.person.name' },
    { source: 'attributes.loyalty.points', type: 'integer' },
  ],
});

function profile(
  id: string,
  tier: string,
  points: number,
  at: string,
  extra: Record<string, unknown> = {},
): Profile {
  return {
    id,
    identities: { email: [`${id}@example.com`] },
    attributes: { person: { name: id.toUpperCase() }, loyalty: { tier, points }, ...extra },
    updatedAt: at,
  };
}

interface RunOptions {
  commit?: boolean;
  profiles?: () => ReadableStream<Profile>;
}

/** One scheduled run: plan, read every row, commit only when the run "succeeded". */
async function run(store: MemoryStore, now: string, options: RunOptions = {}) {
  const slot = await stateSlot(store, KEY, 'audience');
  const plan = planAudienceExport({
    membership: gold,
    profiles: options.profiles ?? (() => streamProfiles(store, 2)),
    mapping,
    now: new Date(now),
    mode: 'incremental',
    previous: slot.previous,
    save: slot.save,
  });
  const rows = await collectRows(plan.rows);
  if (options.commit !== false) await plan.commit();
  return { rows, stats: plan.stats, incremental: plan.incremental, schema: plan.schema };
}

const row = (id: string, name: string, points: number | null, status: 'realized' | 'exited') => ({
  id,
  email: `${id}@example.com`,
  person_name: name,
  loyalty_points: points,
  segmentMembership_status: status,
});

describe('incremental audience exports', () => {
  it('exports joined, changed and exited members over three runs; a failed run changes nothing', async () => {
    const store = new MemoryStore();
    await store.putProfiles([
      profile('p1', 'gold', 10, '2026-01-01T00:00:00Z'),
      profile('p2', 'gold', 20, '2026-01-01T00:00:00Z'),
      profile('p3', 'silver', 30, '2026-01-01T00:00:00Z'),
      profile('p4', 'gold', 40, '2026-01-01T00:00:00Z'),
    ]);

    // Run 1: no baseline, so the first file is full.
    const first = await run(store, '2026-01-02T00:00:00Z');
    expect(first.incremental).toBe(false);
    expect(first.schema.map((c) => c.name)).toEqual([
      'id',
      'email',
      'person_name',
      'loyalty_points',
      'segmentMembership_status',
    ]);
    expect(first.rows).toEqual([
      row('p1', 'P1', 10, 'realized'),
      row('p2', 'P2', 20, 'realized'),
      row('p4', 'P4', 40, 'realized'),
    ]);
    expect(first.stats).toMatchObject({
      evaluated: 4,
      members: 3,
      exported: 3,
      joined: 3,
      changed: 0,
      exited: 0,
    });

    // Changes: p1 touched outside the mapping, p2 changed, p3 joined, p4 exited, p5 new.
    await store.putProfiles([
      profile('p1', 'gold', 10, '2026-01-02T10:00:00Z', { unmapped: 'x' }),
      profile('p2', 'gold', 25, '2026-01-02T10:00:00Z'),
      profile('p3', 'gold', 30, '2026-01-02T10:00:00Z'),
      profile('p4', 'silver', 40, '2026-01-02T10:00:00Z'),
      profile('p5', 'gold', 50, '2026-01-02T10:00:00Z'),
    ]);
    const expected2 = [
      row('p2', 'P2', 25, 'realized'),
      row('p3', 'P3', 30, 'realized'),
      row('p4', 'P4', 40, 'exited'),
      row('p5', 'P5', 50, 'realized'),
    ];

    // Run 2 fails after producing its rows (e.g. the upload failed): no commit.
    const failed = await run(store, '2026-01-03T00:00:00Z', { commit: false });
    expect(failed.rows).toEqual(expected2);
    // Run 2 fails while reading profiles: commit is refused.
    const slot = await stateSlot(store, KEY, 'audience');
    const broken = planAudienceExport({
      membership: gold,
      profiles: () => erroringAfter(streamProfiles(store), 2),
      mapping,
      now: new Date('2026-01-03T00:00:00Z'),
      mode: 'incremental',
      previous: slot.previous,
      save: slot.save,
    });
    await expect(collectRows(broken.rows)).rejects.toThrow('store went away');
    await expect(broken.commit()).rejects.toThrow('after every row was read');

    // The retry sees the same baseline and produces the same rows.
    const second = await run(store, '2026-01-03T00:05:00Z');
    expect(second.incremental).toBe(true);
    expect(second.rows).toEqual(expected2);
    expect(second.stats).toMatchObject({
      evaluated: 5,
      members: 4,
      exported: 4,
      joined: 2,
      changed: 1,
      unchanged: 1,
      exited: 1,
    });

    // Changes: p2 deleted, p3 changes email, p4 re-joins, p5 renamed, p1 untouched.
    await store.deleteProfile('p2');
    await store.putProfiles([
      { ...profile('p3', 'gold', 30, '2026-01-03T10:00:00Z'), identities: { email: ['new-p3@example.com'] } },
      profile('p4', 'gold', 40, '2026-01-03T10:00:00Z'),
      {
        ...profile('p5', 'gold', 50, '2026-01-03T10:00:00Z'),
        attributes: { person: { name: 'Five' }, loyalty: { tier: 'gold', points: 50 } },
      },
    ]);
    const third = await run(store, '2026-01-04T00:00:00Z');
    expect(third.rows).toEqual([
      { ...row('p3', 'P3', 30, 'realized'), email: 'new-p3@example.com' },
      row('p4', 'P4', 40, 'realized'),
      row('p5', 'Five', 50, 'realized'),
      // p2 no longer exists: only its key is known.
      { id: 'p2', email: null, person_name: null, loyalty_points: null, segmentMembership_status: 'exited' },
    ]);
    expect(third.stats).toMatchObject({
      members: 4,
      exported: 4,
      joined: 1,
      changed: 2,
      unchanged: 1,
      exited: 1,
    });

    // A fourth run with nothing changed writes nothing.
    const fourth = await run(store, '2026-01-05T00:00:00Z');
    expect(fourth.rows).toEqual([]);
    expect(fourth.stats).toMatchObject({ members: 4, exported: 0, unchanged: 4, exited: 0 });
    const state = await store.getExportState(KEY);
    expect(state?.kind === 'audience' && Object.keys(state.members).sort()).toEqual([
      '["p1"]',
      '["p3"]',
      '["p4"]',
      '["p5"]',
    ]);
  });

  it('exports in full again when the mapping changed, without exited rows', async () => {
    const store = new MemoryStore();
    await store.putProfiles([profile('p1', 'gold', 1, '2026-01-01T00:00:00Z')]);
    await run(store, '2026-01-02T00:00:00Z');
    const state = (await stateSlot(store, KEY, 'audience')).previous!;
    await store.putExportState(KEY, { ...state, mappingId: 'other', members: { '["gone"]': 'x' } });
    const again = await run(store, '2026-01-03T00:00:00Z');
    expect(again.incremental).toBe(false);
    expect(again.rows).toEqual([row('p1', 'P1', 1, 'realized')]);
  });

  it('full mode exports every member each run and never exited rows', async () => {
    const store = new MemoryStore();
    await store.putProfiles([
      profile('p1', 'gold', 1, '2026-01-01T00:00:00Z'),
      profile('p2', 'gold', 2, '2026-01-01T00:00:00Z'),
    ]);
    const full = (now: string) => {
      const plan = planAudienceExport({
        membership: gold,
        profiles: () => streamProfiles(store),
        mapping,
        now: new Date(now),
        mode: 'full',
        save: async () => {},
      });
      return collectRows(plan.rows);
    };
    expect((await full('2026-01-02T00:00:00Z')).map((r) => r.id)).toEqual(['p1', 'p2']);
    await store.putProfiles([profile('p2', 'silver', 2, '2026-01-02T00:00:00Z')]);
    expect(await full('2026-01-03T00:00:00Z')).toEqual([
      { id: 'p1', email: 'p1@example.com', person_name: 'P1', loyalty_points: 1 },
    ]);
  });
});

/** A profile stream that fails after `n` profiles, like a store connection dropping mid-run. */
function erroringAfter(source: ReadableStream<readonly Profile[]>, n: number): ReadableStream<Profile> {
  async function* gen() {
    let i = 0;
    for await (const page of iterate(source)) {
      for (const p of page) {
        if (i++ === n) throw new Error('store went away');
        yield p;
      }
    }
  }
  return fromIterable(gen());
}

describe('incremental files replayed onto a destination', () => {
  const fields = [
    { source: 'id' },
    { source: 'identities.email', target: 'email' },
    { source: 'attributes.name' },
  ];
  const specs = [
    { label: 'by profile id', mapping: compileMapping({ fields }), key: (r: Row) => r.id },
    {
      label: 'dedup by email',
      mapping: compileMapping({ fields, dedup: { identity: 'email' } }),
      key: (r: Row) => r.email,
    },
  ];
  const mutation = fc.oneof(
    fc.record({
      op: fc.constant('put' as const),
      id: fc.constantFrom('p0', 'p1', 'p2', 'p3', 'p4', 'p5'),
      gold: fc.boolean(),
      emails: fc.uniqueArray(fc.constantFrom('a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'), { maxLength: 2 }),
      name: fc.constantFrom('Ann', 'Bob', 'Cy'),
      day: fc.integer({ min: 1, max: 3 }),
    }),
    fc.record({
      op: fc.constant('delete' as const),
      id: fc.constantFrom('p0', 'p1', 'p2', 'p3', 'p4', 'p5'),
    }),
  );
  const steps = fc.array(
    fc.record({ mutations: fc.array(mutation, { maxLength: 4 }), fails: fc.boolean() }),
    { minLength: 1, maxLength: 6 },
  );

  // Every way a plan reads: profiles as they come (the baseline in memory), in store (id) order merged
  // with the streamed baseline, and through a sort budget so small that every few candidates spill.
  const paths = [
    { label: 'as they come', options: {} },
    { label: 'in id order', options: { ordered: true } },
    { label: 'spilling sorted runs', options: { ordered: true, sortBudget: 300 } },
  ];
  for (const mode of ['incremental', 'diff'] as const)
  for (const spec of specs)
    for (const path of paths)
      it(`keeps the destination equal to a full export (${mode}, ${spec.label}, ${path.label})`, async () => {
        let delivered = 0;
        await fc.assert(
          fc.asyncProperty(steps, async (plan) => {
            const store = new MemoryStore();
            const destination = new Map<unknown, Row>();
            let month = 1;
            for (const step of plan) {
              for (const m of step.mutations) {
                if (m.op === 'delete') await store.deleteProfile(m.id);
                else {
                  const updatedAt = `2026-${String(month).padStart(2, '0')}-0${m.day}T00:00:00Z`;
                  await store.putProfiles([
                    {
                      id: m.id,
                      identities: { email: m.emails },
                      attributes: { name: m.name, loyalty: { tier: m.gold ? 'gold' : 'silver' } },
                      updatedAt,
                    },
                  ]);
                }
              }
              month++;
              const exportOnce = async (mode: ExportMode, commit: boolean) => {
                const slot = await stateSlot(store, KEY, 'audience');
                // Diff: changed and removed rows come through `divert`, tagged with their status here.
                const diverted: Row[] = [];
                const p = planAudienceExport({
                  membership: gold,
                  profiles: () => streamProfiles(store, 2),
                  mapping: spec.mapping,
                  now: new Date(),
                  mode,
                  previous: slot.previous,
                  save: commit ? slot.save : async () => {},
                  ...path.options,
                  ...(mode === 'diff' && {
                    divert: async (kind: string, rows: readonly Row[]) => {
                      for (const row of rows) diverted.push({ ...row, segmentMembership_status: kind === 'removed' ? 'exited' : 'realized' });
                    },
                  }),
                });
                const rows = await collectRows(p.rows);
                if (commit) await p.commit();
                return mode === 'diff' ? [...rows.map((r) => ({ ...r, segmentMembership_status: 'realized' })), ...diverted] : rows;
              };
              const file = await exportOnce(mode, !step.fails);
              if (step.fails) continue;
              delivered += file.length;
              for (const { segmentMembership_status: status, ...cells } of file) {
                if (status === 'exited') destination.delete(spec.key(cells));
                else destination.set(spec.key(cells), cells);
              }
              const full = await exportOnce('full', false);
              expect(new Map(full.map((r) => [spec.key(r), r]))).toEqual(destination);
            }
          }),
          // A fixed seed: the guard below counts what the generated histories delivered, so with a
          // random seed it failed now and then (87 rows for diff + dedup in one CI run), not the property.
          { numRuns: 150, seed: 20261205 },
        );
        // Guard against a vacuous property: the generated histories did export rows.
        expect(delivered).toBeGreaterThan(100);
      });
});
