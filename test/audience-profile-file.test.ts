import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ruleMembership } from '../src/core/data/audience.ts';
import { type ProfileChunk, planAudienceExport } from '../src/core/data/export-plan.ts';
import { compileMapping } from '../src/core/data/mapping.ts';
import { profileFile, rowToProfile } from '../src/core/data/profile-rows.ts';
import { collect, collectRows } from '../src/core/streams.ts';
import type { RunContext, SourceStage } from '../src/core/types.ts';
import { csvSource } from '../src/plugins/source/csv/index.ts';
import { ndjsonSource } from '../src/plugins/source/ndjson/index.ts';

const ctx = {} as RunContext;
const file = (name: string) =>
  new Blob([readFileSync(new URL(`../fixtures/profiles/${name}`, import.meta.url))]);

/** Re-opens the file for each pass, as a host does for a profile file. */
const reader = (source: SourceStage, name: string) => profileFile(source, ctx, () => file(name));

const gold = ruleMembership((p) => (p.attributes.loyalty as { tier?: string } | undefined)?.tier === 'gold');
const mapping = compileMapping({
  fields: [
    { source: 'identities.email', target: 'email' },
    { source: 'attributes.person.name', target: 'name' },
    { source: 'id' },
  ],
  dedup: { identity: 'email' },
});

async function exportFrom(profiles: () => ReadableStream<ProfileChunk>) {
  const plan = planAudienceExport({
    membership: gold,
    profiles,
    mapping,
    now: new Date('2026-02-01T00:00:00Z'),
    mode: 'full',
    save: async () => {},
  });
  return { rows: await collectRows(plan.rows), stats: plan.stats };
}

describe('audiences over profile files', () => {
  it('reads Profile-shaped NDJSON and deduplicates by email (latest update wins)', async () => {
    const { rows, stats } = await exportFrom(reader(ndjsonSource(), 'profiles.ndjson'));
    // Deduplicated rows come in key (email) order.
    expect(rows).toEqual([
      { email: 'ada@example.com', name: 'Ada Lovelace', id: 'p001' },
      { email: 'barbara@example.com', name: 'Barbara Liskov', id: 'p006' },
      { email: 'grace@example.com', name: 'Grace Hopper', id: 'p003' },
    ]);
    expect(stats).toMatchObject({ evaluated: 6, members: 4, exported: 3, skipped: { duplicate: 1 } });
  });

  it('reads a flat CSV: identity columns, dotted attribute columns nest', async () => {
    const { rows } = await exportFrom(reader(csvSource(), 'profiles.csv'));
    expect(rows).toEqual([
      { email: 'ada@example.com', name: 'Ada Lovelace', id: 'p001' },
      { email: 'grace@example.com', name: 'Grace Hopper', id: 'p003' },
    ]);
    const [alan] = await collect(reader(csvSource(), 'profiles.csv')()).then((ps) =>
      ps.flat().filter((p) => p.id === 'p002'),
    );
    expect(alan).toEqual({
      id: 'p002',
      identities: { email: ['alan@example.com', 'a.turing@example.org'] },
      attributes: {
        person: { name: 'Alan Turing' },
        loyalty: { tier: 'silver', points: '300' },
        address: { city: 'Manchester' },
      },
      updatedAt: '2026-01-18T08:00:00Z',
    });
  });

  it('fails the export when the file cannot be read or holds a bad profile', async () => {
    const broken: SourceStage = {
      kind: 'source',
      name: 'broken',
      open: () => Promise.reject(new Error('no such file')),
    };
    await expect(exportFrom(profileFile(broken, ctx, () => new Blob([])))).rejects.toThrow('no such file');
    const bad = profileFile(
      ndjsonSource(),
      ctx,
      () => new Blob(['{"id":"ok","updatedAt":"2026-01-01T00:00:00Z"}\n{"id":"?"}\n']),
    );
    await expect(exportFrom(bad)).rejects.toThrow(/Profile row 2 is invalid/);
  });

  it('names the row and every problem of an invalid profile row', () => {
    expect(() => rowToProfile({ id: '', updatedAt: 'soon' }, 4)).toThrow(
      /Profile row 5 is invalid: id: 1–128 characters.*; updatedAt: expected an ISO-8601 timestamp/,
    );
    expect(rowToProfile({ id: 7, 'identities.email': ['a@x.io', ''], 'a.b': 1 }, 0)).toEqual({
      id: '7',
      identities: { email: ['a@x.io'] },
      attributes: { a: { b: 1 } },
      updatedAt: '1970-01-01T00:00:00Z',
    });
  });
});
