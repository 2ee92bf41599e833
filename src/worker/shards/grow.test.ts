import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketMoves, coversAllBuckets, growLayout, movedBuckets } from './grow.ts';
import { initialLayout, ownerOf, SHARD_BUCKETS, type ShardLayout, type ShardOwner } from './types.ts';

/** A layout of arbitrary contiguous ranges (as earlier growths leave them) with unique, gappy `s<n>` names. */
const layouts = fc
  .uniqueArray(fc.integer({ min: 1, max: SHARD_BUCKETS - 1 }), { maxLength: 40 })
  .chain((cuts) =>
    fc.uniqueArray(fc.integer({ min: 0, max: 999 }), { minLength: cuts.length + 1, maxLength: cuts.length + 1 }).map((numbers) => {
      const bounds = [0, ...[...cuts].sort((a, b) => a - b), SHARD_BUCKETS];
      const shards = numbers.map((n, i) => ({ name: `s${n}`, from: bounds[i]!, to: bounds[i + 1]! }));
      return { version: 1, generation: 3, shards } satisfies ShardLayout;
    }),
  );

const grown = layouts.chain((layout) => fc.tuple(fc.constant(layout), fc.integer({ min: layout.shards.length + 1, max: 256 })));

/** The smallest largest-shard size any split of these ranges into `total` pieces can reach (independent of the greedy allotment). */
function bestLargest(sizes: readonly number[], total: number): number {
  for (let t = 1; ; t++) if (sizes.reduce((n, s) => n + Math.ceil(s / t), 0) <= total) return t;
}

/** Every bucket's owner name, bucket by bucket. */
const ownersByBucket = (owners: readonly ShardOwner[]) => Array.from({ length: SHARD_BUCKETS }, (_, b) => ownerOf(owners, b).name);

describe('growLayout', () => {
  it('2 → 4 splits each range in two, keeping the first half in place', () => {
    expect(growLayout(initialLayout(2), 4)).toEqual([
      { name: 's0', from: 0, to: 1024 },
      { name: 's2', from: 1024, to: 2048 },
      { name: 's1', from: 2048, to: 3072 },
      { name: 's3', from: 3072, to: 4096 },
    ]);
    const layout = { ...initialLayout(2), next: growLayout(initialLayout(2), 4) };
    expect(bucketMoves(layout)).toEqual([
      { source: 's0', from: 1024, to: 2048 },
      { source: 's1', from: 3072, to: 4096 },
    ]);
  });

  it('refuses a count that does not grow, or a layout already resharding, naming shards', () => {
    expect(() => growLayout(initialLayout(4), 4)).toThrow(/^shards: expected an integer from 5 to 256/);
    expect(() => growLayout(initialLayout(4), 2.5)).toThrow(/^shards: /);
    expect(() => growLayout(initialLayout(4), 257)).toThrow(/^shards: /);
    const resharding = { ...initialLayout(2), next: growLayout(initialLayout(2), 3) };
    expect(() => growLayout(resharding, 4)).toThrow(/already resharding/);
  });

  it('owns every bucket exactly once, with unique never-used names, moving only split-off pieces (property)', () => {
    fc.assert(
      fc.property(grown, ([layout, m]) => {
        const next = growLayout(layout, m);
        // Every bucket owned exactly once, M owners, unique names.
        expect(next).toHaveLength(m);
        expect(coversAllBuckets(next)).toBe(true);
        const before = ownersByBucket(layout.shards);
        const after = ownersByBucket(next);
        const oldNames = new Set(layout.shards.map((o) => o.name));
        // Each old owner keeps its name on a prefix of its range; every other piece is a new name inside one old range.
        let moved = 0;
        let minimal = 0;
        for (const owner of layout.shards) {
          const inside = next.filter((o) => o.from >= owner.from && o.to <= owner.to);
          expect(inside.reduce((n, o) => n + o.to - o.from, 0)).toBe(owner.to - owner.from);
          expect(inside[0]!.name).toBe(owner.name);
          for (const piece of inside.slice(1)) expect(oldNames.has(piece.name)).toBe(false);
          // Minimal for the split scheme: the kept piece is a largest of its k pieces.
          minimal += owner.to - owner.from - Math.ceil((owner.to - owner.from) / inside.length);
        }
        for (let b = 0; b < SHARD_BUCKETS; b++) if (before[b] !== after[b]) moved++;
        expect(moved).toBe(minimal);
        // The moves list exactly the buckets whose owner changes.
        const moves = bucketMoves({ ...layout, next });
        expect(movedBuckets(moves)).toBe(moved);
        const strays = moves.flatMap((move) => before.slice(move.from, move.to).filter((name, k) => name !== move.source || after[move.from + k] === name));
        expect(strays).toEqual([]);
        // Balanced: the largest new shard is as small as any split of the old ranges into M pieces allows.
        const largest = Math.max(...next.map((o) => o.to - o.from));
        expect(largest).toBe(bestLargest(layout.shards.map((o) => o.to - o.from), m));
      }),
      { numRuns: 300, seed: 1717 },
    );
  });

  it('grown again and again, never reuses a name and keeps every bucket owned once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }), (steps) => {
        let layout: ShardLayout = initialLayout(1);
        const used = new Set(['s0']);
        for (const step of steps) {
          const m = Math.min(256, layout.shards.length + step);
          if (m === layout.shards.length) break;
          const next = growLayout(layout, m);
          const fresh = next.filter((o) => !layout.shards.some((s) => s.name === o.name));
          for (const o of fresh) {
            expect(used.has(o.name)).toBe(false);
            used.add(o.name);
          }
          expect(coversAllBuckets(next)).toBe(true);
          layout = { version: 1, generation: layout.generation + 1, shards: next };
        }
      }),
      { numRuns: 200, seed: 4096 },
    );
  });
});
