/**
 * A diff run that fails after publishing some of its files (its removed rows' upload fails) takes
 * back what it published and leaves the state where it was: the retry writes the same added, changed
 * and removed files. Also: the logged kinds pause between runs of their log and go on from there.
 */
import { describe, expect, it } from 'vitest';
import { compileMapping } from '../src/core/data/mapping.ts';
import type { Profile } from '../src/core/data/model.ts';
import { memorySpill } from '../src/core/data/spill.ts';
import { pageBatches } from '../src/core/data/store.ts';
import { collectRows } from '../src/core/streams.ts';
import { nodePlatform } from '../src/hosts/node/platform.ts';
import { exportService, type SubjectEntry } from '../src/service/export-service.ts';
import { audienceSeries, audienceSubjectOpeners } from '../src/service/subjects.ts';
import { memorySink } from './support/memory-sink.ts';
import { MemoryStore } from './support/memory-store.ts';
import { memoryStates } from './support/memory-states.ts';

const p = (id: string, tier: string, name: string): Profile => ({
  id,
  identities: {},
  attributes: { tier, name },
  updatedAt: '2026-01-01T00:00:00Z',
});

const mapping = compileMapping({ fields: [{ source: 'id' }, { source: 'attributes.name', target: 'name' }] });

describe('diff runs that fail or pause', () => {
  it('a failed diff run takes back its added and changed files and keeps the state; the retry writes all three', async () => {
    const store = new MemoryStore();
    await store.putAudience({ id: 'gold', name: 'Gold', kind: 'rule', rule: 'attributes.tier = "gold"' });
    await store.putProfiles([p('a', 'gold', 'A'), p('b', 'gold', 'B'), p('c', 'gold', 'C'), p('d', 'silver', 'D')]);
    const { states, committed } = memoryStates();
    const prepared = await exportService(nodePlatform()).prepare({
      destination: { id: 'dst', name: 'dst' },
      manifest: { plugins: [{ use: 'format/csv' }, { use: 'manifest/json' }, { use: 'sink/local', options: { directory: '/nonexistent' } }] },
      output: { folderPath: 'out', manifest: true },
    });
    const run = (runId: string, at: string, sink: ReturnType<typeof memorySink>) => {
      const entries: SubjectEntry[] = audienceSubjectOpeners({ data: store, states, mode: 'diff', now: new Date(at), audienceIds: ['gold'], mapping });
      return prepared.run(entries, { runId, scheduledTime: new Date(at), sink: sink.sink, commit: () => states.promote(['gold']) });
    };
    const first = memorySink();
    expect((await run('r1', '2026-03-01T00:00:00Z', first)).files.map((f) => f.kind)).toEqual(['added']);
    const before = structuredClone(committed.get('gold'));

    // b changes, c leaves, d joins.
    await store.putProfiles([p('b', 'gold', 'B2'), p('c', 'silver', 'C'), p('d', 'gold', 'D')]);
    const failing = memorySink({ failOn: (key) => key.includes('_removed') });
    await expect(run('r2', '2026-03-02T00:00:00Z', failing)).rejects.toThrow('injected failure');
    // Its added and changed files were published, then taken back; nothing of the run is left.
    expect(failing.removed.filter((k) => /_(added|changed)\.csv$/.test(k))).toHaveLength(2);
    expect([...failing.objects.keys()]).toEqual([]);
    expect(committed.get('gold')).toEqual(before);

    const retry = memorySink();
    const report = await run('r2', '2026-03-02T00:00:00Z', retry);
    const read = (kind: string) => {
      const file = report.files.find((f) => f.kind === kind)!;
      return retry.text(file.key).trim().split('\n');
    };
    expect(read('added')).toEqual(['id,name', 'd,D']);
    expect(read('changed')).toEqual(['id,name', 'b,B2']);
    expect(read('removed')).toEqual(['id,name', 'c,C']);
    const manifest = JSON.parse(retry.text(report.manifest!.key));
    expect(manifest.exportResults.map((r: { name: string; kind: string; rows: number }) => [r.kind, r.rows])).toEqual([
      ['added', 1],
      ['changed', 1],
      ['removed', 1],
    ]);
  });

  it('a logged kind pauses between runs of its log and goes on from its position in another invocation', async () => {
    const store = new MemoryStore();
    const names = (n: number) => Array.from({ length: n }, (_, i) => `p${String(i).padStart(5, '0')}`);
    await store.putProfiles(names(10_000).map((id) => p(id, 'gold', 'x')));
    const { states } = memoryStates();
    const spills = { changed: memorySpill(), removed: memorySpill() };
    const series = (pause?: () => boolean) =>
      audienceSeries(
        'diff',
        async () => ({
          audience: { id: 'all', name: 'All' },
          membership: { test: () => true, qualifiedAt: (q: Profile) => q.updatedAt },
          profiles: () => pageBatches((request) => store.listProfiles(request), 1000),
          ordered: true,
          mapping,
          mode: 'diff',
          now: new Date('2026-03-01T00:00:00Z'),
          states,
        }),
        async () => ({ audience: { id: 'all', name: 'All' }, mapping, spills, ...(pause && { pause }) }),
      );
    const [added] = series();
    const first = await added!();
    expect(await collectRows(first.rows)).toHaveLength(10_000);
    await first.stage!();
    await states.promote(['all']);
    // Every member changes: 10,000 changed rows, logged in runs of at least 4,096.
    await store.putProfiles(names(10_000).map((id) => p(id, 'gold', 'y')));
    const [add2, changed] = series(() => true);
    const second = await add2!();
    expect(await collectRows(second.rows)).toEqual([]);
    await second.stage!();
    const part = await changed!();
    const got = await collectRows(part.rows);
    const position = part.paused!();
    // One run read, then the pause: the next invocation opens the kind at its position.
    expect(got.length).toBeGreaterThanOrEqual(4096);
    expect(got.length).toBeLessThan(10_000);
    expect(position).toMatchObject({ next: 1, deltas: { removed: 0 } });
    expect((position as { deltas: { changed: number } }).deltas.changed).toBeGreaterThan(1);
    const rest: unknown[] = [];
    let at: unknown = position;
    while (at !== undefined) {
      const [, again] = series(() => true);
      const opened = await again!(at);
      rest.push(...(await collectRows(opened.rows)));
      at = opened.paused!();
    }
    expect([...got, ...rest].map((r) => (r as { id: string }).id)).toEqual(names(10_000));
    expect(new Set([...got, ...rest].map((r) => (r as { name: string }).name))).toEqual(new Set(['y']));
  });
});
