/**
 * Runs longer than one invocation: a plan asked to pause between pages stops, and a new plan
 * resumes from `paused()`. Over random histories, a run cut into many invocations writes exactly the
 * rows (no row lost, none repeated), the counts and the new state of the same run made in one go —
 * without dedup (profiles merged in id order) and with it (sorted runs spilled, then merged).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ruleMembership } from '../src/core/data/audience.ts';
import {
  type AudienceResume,
  type BaselineState,
  planAudienceExport,
  type StateEntry,
  type StateSink,
} from '../src/core/data/export-plan.ts';
import { compileMapping } from '../src/core/data/mapping.ts';
import type { Profile } from '../src/core/data/model.ts';
import { memorySpill } from '../src/core/data/spill.ts';
import { streamProfiles } from '../src/core/data/store.ts';
import { collectRows } from '../src/core/streams.ts';
import type { Row } from '../src/core/types.ts';
import { MemoryStore } from './support/memory-store.ts';

const gold = ruleMembership((p) => (p.attributes.loyalty as { tier?: string } | undefined)?.tier === 'gold');
const specs = [
  { label: 'no dedup', mapping: compileMapping({ fields: [{ source: 'id' }, { source: 'attributes.name' }] }) },
  {
    label: 'dedup by email',
    mapping: compileMapping({ fields: [{ source: 'identities.email', target: 'email' }, { source: 'id' }], dedup: { identity: 'email' } }),
  },
  // Neither the key nor the profile id is a column: the sort's lines carry them in full.
  { label: 'dedup by email, unmapped', mapping: compileMapping({ fields: [{ source: 'attributes.name' }], dedup: { identity: 'email' } }) },
];

/** A state kept the way a host keeps it: entries appended across invocations, then a header. */
function stateStore() {
  let entries: StateEntry[] = [];
  let committed: { mappingId: string; entries: StateEntry[] } | undefined;
  const sink: StateSink = {
    write: async (more) => {
      entries.push(...more);
    },
    close: async (header) => {
      committed = { mappingId: header.mappingId, entries };
      entries = [];
    },
  };
  const baseline = (): BaselineState | undefined =>
    committed && {
      mappingId: committed.mappingId,
      members: committed.entries.length,
      entries: async function* () {
        yield* [committed!.entries];
      },
    };
  return { sink, baseline, committed: () => committed?.entries };
}

const sortRows = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();

describe('a run cut into invocations', () => {
  for (const spec of specs) {
    it(`writes the rows, counts and state of the same run made in one go (${spec.label})`, async () => {
      const mutation = fc.record({
        id: fc.constantFrom(...Array.from({ length: 14 }, (_, i) => `p${String(i).padStart(2, '0')}`)),
        gold: fc.boolean(),
        email: fc.constantFrom('a@x.io', 'b@x.io', 'c@x.io', 'd@x.io', 'e@x.io'),
        name: fc.constantFrom('Ann', 'Bob'),
        remove: fc.boolean(),
      });
      let paused = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(mutation, { maxLength: 8 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), async (history, every) => {
          const store = new MemoryStore();
          const whole = stateStore();
          const pieces = stateStore();
          let day = 1;
          for (const step of history) {
            for (const m of step) {
              if (m.remove) await store.deleteProfile(m.id);
              else {
                const profile: Profile = {
                  id: m.id,
                  identities: { email: [m.email] },
                  attributes: { name: m.name, loyalty: { tier: m.gold ? 'gold' : 'silver' } },
                  updatedAt: `2026-01-${String(day).padStart(2, '0')}T00:00:00Z`,
                };
                await store.putProfiles([profile]);
              }
            }
            day++;
            const base = { membership: gold, mapping: spec.mapping, now: new Date('2026-02-01T00:00:00Z'), mode: 'incremental' as const, ordered: true };
            // In one go.
            const one = planAudienceExport({ ...base, profiles: (after) => streamProfiles(store, 2, after), baseline: whole.baseline(), state: whole.sink });
            const expected = await collectRows(one.rows);
            await one.commit();
            // In pieces: a pause every `every` pages, a fresh plan (and spill reader) per invocation.
            const spill = memorySpill();
            const baseline = pieces.baseline();
            const rows: Row[] = [];
            let resume: AudienceResume | undefined;
            for (let invocation = 0; ; invocation++) {
              expect(invocation).toBeLessThan(200);
              let pages = 0;
              const plan = planAudienceExport({
                ...base,
                profiles: (after) => streamProfiles(store, 2, after),
                baseline,
                state: pieces.sink,
                spill,
                sortBudget: 200,
                resume,
                pause: () => ++pages % every === 0,
              });
              rows.push(...(await collectRows(plan.rows)));
              resume = plan.paused();
              if (!resume) {
                await plan.commit();
                expect(plan.stats).toEqual(one.stats);
                break;
              }
              paused++;
            }
            expect(sortRows(rows)).toEqual(sortRows(expected));
            expect(pieces.committed()).toEqual(whole.committed());
          }
        }),
        { numRuns: 120, seed: 20261205 },
      );
      // Guard against a vacuous property: runs were in fact cut.
      expect(paused).toBeGreaterThan(100);
    });
  }
});
