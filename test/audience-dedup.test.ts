import { describe, expect, it } from 'vitest';
import { type AudienceMembership, ruleMembership } from '../src/core/data/audience.ts';
import { type AudiencePlan, type ExportMode, planAudienceExport } from '../src/core/data/export-plan.ts';
import { compileMapping, type MappingSpec } from '../src/core/data/mapping.ts';
import type { Profile } from '../src/core/data/model.ts';
import type { AudienceExportState } from '../src/core/data/store.ts';
import { collectRows, fromIterable } from '../src/core/streams.ts';

const everyone = ruleMembership(() => true);
const vip = ruleMembership((p) => p.attributes.vip === true);

function p(
  id: string,
  updatedAt: string,
  emails: string[],
  attributes: Record<string, unknown> = {},
): Profile {
  return { id, identities: emails.length ? { email: emails } : {}, attributes, updatedAt };
}

interface Options {
  membership?: AudienceMembership;
  mode?: ExportMode;
  previous?: AudienceExportState;
}

/** Runs one export over an in-memory list (in the given order) and returns rows, stats and state. */
async function exportRows(spec: MappingSpec, profiles: Profile[], options: Options = {}) {
  let saved: AudienceExportState | undefined;
  const plan: AudiencePlan = planAudienceExport({
    membership: options.membership ?? everyone,
    profiles: () => fromIterable(profiles),
    mapping: compileMapping(spec),
    now: new Date('2026-02-01T00:00:00Z'),
    mode: options.mode ?? 'full',
    previous: options.previous,
    save: async (state) => {
      saved = state;
    },
  });
  const rows = await collectRows(plan.rows);
  await plan.commit();
  return { rows, stats: plan.stats, state: saved! };
}

const byEmail: MappingSpec = {
  fields: [{ source: 'identities.email', target: 'email' }, { source: 'id' }, { source: 'attributes.name' }],
  dedup: { identity: 'email' },
};

describe('deduplication', () => {
  it('keeps the latest updated profile per identity value; a profile with two emails gives two rows', async () => {
    const { rows, stats } = await exportRows(byEmail, [
      p('a', '2026-01-01T00:00:00Z', ['x@e.com'], { name: 'old' }),
      p('b', '2026-01-05T00:00:00Z', ['x@e.com', 'y@e.com'], { name: 'new' }),
      p('c', '2026-01-09T00:00:00Z', [], { name: 'no email' }),
    ]);
    expect(rows).toEqual([
      { email: 'x@e.com', id: 'b', name: 'new' },
      { email: 'y@e.com', id: 'b', name: 'new' },
    ]);
    expect(stats.skipped).toEqual({ duplicate: 1, 'missing:identities.email': 1 });
    expect(stats).toMatchObject({ evaluated: 3, members: 3, exported: 2 });
  });

  it('breaks ties on qualification and update time by the smallest profile id, whatever the input order', async () => {
    const tied = [
      p('m', '2026-01-01T00:00:00Z', ['t@e.com'], { name: 'M' }),
      p('k', '2026-01-01T00:00:00.000+00:00', ['t@e.com'], { name: 'K' }),
      p('z', '2026-01-01T00:00:00Z', ['t@e.com'], { name: 'Z' }),
    ];
    for (const order of [tied, [...tied].reverse(), [tied[2]!, tied[0]!, tied[1]!]]) {
      const { rows, stats } = await exportRows(byEmail, order);
      expect(rows).toEqual([{ email: 't@e.com', id: 'k', name: 'K' }]);
      expect(stats.skipped).toEqual({ duplicate: 2 });
    }
  });

  it('deduplicates on a composite of two attributes, coercing key parts for exited key-only rows', async () => {
    const spec: MappingSpec = {
      fields: [
        { source: 'attributes.last' },
        { source: 'attributes.zip', type: 'integer' },
        { source: 'id' },
      ],
      dedup: { attributes: ['attributes.last', 'attributes.zip'] },
    };
    const first = await exportRows(spec, [
      p('1', '2026-01-01T00:00:00Z', [], { last: 'Doe', zip: 75001 }),
      p('2', '2026-01-02T00:00:00Z', [], { last: 'Doe', zip: 75001 }),
      p('3', '2026-01-02T00:00:00Z', [], { last: 'Doe', zip: 69000 }),
      p('4', '2026-01-02T00:00:00Z', [], { last: 'Roe' }),
    ]);
    // Deduplicated rows come in key order: ["Doe","69000"] before ["Doe","75001"].
    expect(first.rows).toEqual([
      { last: 'Doe', zip: 69000, id: '3' },
      { last: 'Doe', zip: 75001, id: '2' },
    ]);
    expect(first.stats.skipped).toEqual({ duplicate: 1, 'missing:attributes.zip': 1 });
    const next = await exportRows(spec, [p('1', '2026-01-03T00:00:00Z', [], { last: 'Doe', zip: 75001 })], {
      mode: 'incremental',
      previous: first.state,
    });
    expect(next.rows).toEqual([
      { last: 'Doe', zip: 69000, id: null, segmentMembership_status: 'exited' },
      { last: 'Doe', zip: 75001, id: '1', segmentMembership_status: 'realized' },
    ]);
    expect(next.stats).toMatchObject({ changed: 1, exited: 1, joined: 0 });
  });

  it('follows winners across incremental runs: winner change, one holder leaving, all leaving, email change', async () => {
    const opts = { membership: vip, mode: 'incremental' as const };
    const run1 = await exportRows(
      byEmail,
      [
        p('a', '2026-01-01T00:00:00Z', ['x@e.com'], { name: 'A', vip: true }),
        p('b', '2026-01-02T00:00:00Z', ['x@e.com'], { name: 'B', vip: true }),
        p('c', '2026-01-01T00:00:00Z', ['c@e.com'], { name: 'C', vip: true }),
      ],
      opts,
    );
    expect(run1.rows.map((r) => `${r.email}:${r.id}`)).toEqual(['c@e.com:c', 'x@e.com:b']);

    // b leaves the audience: x@e.com is still held by a, so it changes instead of exiting.
    // c changes email: c@e.com exits with only its key known, d@e.com joins.
    const run2 = await exportRows(
      byEmail,
      [
        p('a', '2026-01-01T00:00:00Z', ['x@e.com'], { name: 'A', vip: true }),
        p('b', '2026-01-03T00:00:00Z', ['x@e.com'], { name: 'B', vip: false }),
        p('c', '2026-01-03T00:00:00Z', ['d@e.com'], { name: 'C', vip: true }),
      ],
      { ...opts, previous: run1.state },
    );
    expect(run2.rows).toEqual([
      { email: 'c@e.com', id: null, name: null, segmentMembership_status: 'exited' },
      { email: 'd@e.com', id: 'c', name: 'C', segmentMembership_status: 'realized' },
      { email: 'x@e.com', id: 'a', name: 'A', segmentMembership_status: 'realized' },
    ]);

    // Everyone holding x@e.com leaves: the exited row is mapped from the latest updated holder.
    const run3 = await exportRows(
      byEmail,
      [
        p('a', '2026-01-04T00:00:00Z', ['x@e.com'], { name: 'A2', vip: false }),
        p('b', '2026-01-03T00:00:00Z', ['x@e.com'], { name: 'B', vip: false }),
        p('c', '2026-01-03T00:00:00Z', ['d@e.com'], { name: 'C', vip: true }),
      ],
      { ...opts, previous: run2.state },
    );
    expect(run3.rows).toEqual([
      { email: 'x@e.com', id: 'a', name: 'A2', segmentMembership_status: 'exited' },
    ]);
    expect(run3.stats).toMatchObject({ exported: 1, exited: 1, unchanged: 1 });
    expect(Object.keys(run3.state.members)).toEqual(['["d@e.com"]']);
  });
});

describe('mandatory attributes', () => {
  const spec: MappingSpec = {
    fields: [
      { source: 'id' },
      { source: 'attributes.person.name', mandatory: true },
      { source: 'identities.email', mandatory: true },
      { source: 'attributes.city' },
    ],
  };

  it('skips profiles lacking a mandatory field and counts them by reason', async () => {
    const { rows, stats } = await exportRows(spec, [
      p('1', '2026-01-01T00:00:00Z', ['1@e.com'], { person: { name: 'One' } }),
      p('2', '2026-01-01T00:00:00Z', ['2@e.com'], { person: {} }),
      p('3', '2026-01-01T00:00:00Z', ['3@e.com'], { person: { name: '' } }),
      p('4', '2026-01-01T00:00:00Z', [], { person: { name: 'Four' } }),
      p('5', '2026-01-01T00:00:00Z', [], {}),
    ]);
    expect(rows).toEqual([{ id: '1', person_name: 'One', identities_email: '1@e.com', city: null }]);
    expect(stats.skipped).toEqual({ 'missing:attributes.person.name': 3, 'missing:identities.email': 1 });
    expect(stats).toMatchObject({ members: 5, exported: 1 });
  });

  it('reports a previously exported member that lost a mandatory field as exited, mapped leniently', async () => {
    const first = await exportRows(
      spec,
      [p('1', '2026-01-01T00:00:00Z', ['1@e.com'], { person: { name: 'One' } })],
      { mode: 'incremental' },
    );
    const next = await exportRows(spec, [p('1', '2026-01-02T00:00:00Z', ['1@e.com'], { person: {} })], {
      mode: 'incremental',
      previous: first.state,
    });
    expect(next.rows).toEqual([
      {
        id: '1',
        person_name: null,
        identities_email: '1@e.com',
        city: null,
        segmentMembership_status: 'exited',
      },
    ]);
    expect(next.stats.skipped).toEqual({ 'missing:attributes.person.name': 1 });
  });
});
