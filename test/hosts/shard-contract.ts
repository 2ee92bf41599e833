/**
 * What every shard store does (src/worker/shards/types.ts, ShardStore), checked against each host's:
 * a SQLite file on Node (better-sqlite3) and Deno (node:sqlite), and the `ProfileShard` Durable Object
 * on workerd (test/worker/shards.test.ts), so the three run one contract. Expected values are computed
 * here from the ids (bucketOf, sorting), never read back from the store under test.
 */
import { describe, expect, it } from 'vitest';
import { bucketOf, SHARD_BUCKETS, SHARD_WRITE_MAX, type ShardProfile, type ShardStore } from '../../src/worker/shards/types.ts';

/** Registers the contract's tests; `fresh()` gives an empty shard each time. */
export function shardContract(runtime: string, fresh: () => ShardStore | Promise<ShardStore>): void {
  const all = { from: 0, to: SHARD_BUCKETS };
  const whole = { after: null, through: null };
  const profile = (id: string, n = 0): ShardProfile => ({
    id,
    json: JSON.stringify({ identities: { email: [`${id}@example.com`] }, attributes: { n } }),
    updatedAt: `2026-01-01T00:00:0${n % 10}.000Z`,
  });
  const ids = (count: number, prefix = 'p') => Array.from({ length: count }, (_, i) => `${prefix}${(i * 7919) % 100_003}-${i}`);
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

  describe(`shard store on ${runtime}`, () => {
    it('upserts profiles in one call and reads them back by id, with their JSON and updatedAt', async () => {
      const store = await fresh();
      const written = ids(300).map((id, i) => profile(id, i));
      expect(await store.upsertProfiles('org_a', written)).toBe(300);
      const read = await store.profiles('org_a', all, whole, 1000);
      expect(read).toEqual([...written].sort((a, b) => byId(a.id, b.id)));
    });

    it('replaces a profile written again (same id): the new JSON and updatedAt, still one row', async () => {
      const store = await fresh();
      await store.upsertProfiles('org_a', [profile('x', 1), profile('y', 1)]);
      expect(await store.upsertProfiles('org_a', [profile('x', 2)])).toBe(1);
      expect(await store.profiles('org_a', all, whole, 10)).toEqual([profile('x', 2), profile('y', 1)]);
      expect((await store.split('org_a', all, 1)).count).toBe(2);
    });

    it('insertMissingProfiles never overwrites: only absent ids are inserted and counted', async () => {
      const store = await fresh();
      await store.upsertProfiles('org_a', [profile('x', 5)]);
      expect(await store.insertMissingProfiles('org_a', [profile('x', 1), profile('z', 1)])).toBe(1);
      expect(await store.profiles('org_a', all, whole, 10)).toEqual([profile('x', 5), profile('z', 1)]);
    });

    it('reads only the named buckets, and pages an id range (after, through] with a limit', async () => {
      const store = await fresh();
      const every = ids(500);
      await store.upsertProfiles('org_a', every.map((id) => profile(id)));
      const buckets = { from: 1000, to: 3000 };
      const expected = every.filter((id) => bucketOf(id) >= 1000 && bucketOf(id) < 3000).sort(byId);
      expect(expected.length).toBeGreaterThan(100);
      expect(expected.length).toBeLessThan(500);
      const paged: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await store.profiles('org_a', buckets, { after, through: null }, 37);
        paged.push(...page.map((p) => p.id));
        if (page.length < 37) break;
        after = page.at(-1)!.id;
      }
      expect(paged).toEqual(expected);
      const through = expected[59]!;
      const range = await store.profiles('org_a', buckets, { after: expected[9]!, through }, 1000);
      expect(range.map((p) => p.id)).toEqual(expected.slice(10, 60));
    });

    it('split: the count of the buckets and every `every`-th id, in one call', async () => {
      const store = await fresh();
      const every = ids(1000);
      await store.upsertProfiles('org_a', every.map((id) => profile(id)));
      const inRange = every.filter((id) => bucketOf(id) >= 512 && bucketOf(id) < 4000).sort(byId);
      const split = await store.split('org_a', { from: 512, to: 4000 }, 100);
      expect(split.count).toBe(inRange.length);
      expect(split.bounds).toEqual(inRange.filter((_, i) => (i + 1) % 100 === 0));
      expect(await store.split('org_a', all, 1e12)).toEqual({ count: 1000, bounds: [] });
      expect(await store.split('org_a', all, 1000)).toEqual({ count: 1000, bounds: [[...every].sort(byId)[999]] });
      expect(await store.split('org_b', all, 10)).toEqual({ count: 0, bounds: [] });
    });

    it('deleteBuckets deletes up to `limit` profiles of those buckets and nothing else', async () => {
      const store = await fresh();
      const every = ids(400);
      await store.upsertProfiles('org_a', every.map((id) => profile(id)));
      await store.upsertProfiles('org_b', every.map((id) => profile(id)));
      const moved = { from: 0, to: 2048 };
      const movedCount = every.filter((id) => bucketOf(id) < 2048).length;
      expect(await store.deleteBuckets('org_a', moved, 50)).toBe(50);
      let deleted = 50;
      for (let n = await store.deleteBuckets('org_a', moved, 1000); n > 0; n = await store.deleteBuckets('org_a', moved, 1000))
        deleted += n;
      expect(deleted).toBe(movedCount);
      const left = (await store.profiles('org_a', all, whole, 1000)).map((p) => p.id);
      expect(left).toEqual(every.filter((id) => bucketOf(id) >= 2048).sort(byId));
      expect((await store.split('org_b', all, 1e12)).count).toBe(400);
    });

    it('keeps organizations apart: one org never reads another org’s profiles of the same id', async () => {
      const store = await fresh();
      await store.upsertProfiles('org_a', [profile('same', 1)]);
      await store.upsertProfiles('org_b', [profile('same', 2)]);
      expect(await store.profiles('org_a', all, whole, 10)).toEqual([profile('same', 1)]);
      expect(await store.profiles('org_b', all, whole, 10)).toEqual([profile('same', 2)]);
    });

    it('writes a batch all-or-nothing: one bad profile leaves none of the batch written', async () => {
      const store = await fresh();
      await store.upsertProfiles('org_a', [profile('kept', 1)]);
      const bad = [profile('new1', 2), { id: 'new2', json: null as unknown as string, updatedAt: 'x' }, profile('kept', 9)];
      await expect(store.upsertProfiles('org_a', bad)).rejects.toThrow();
      expect(await store.profiles('org_a', all, whole, 10)).toEqual([profile('kept', 1)]);
    });

    it('refuses more than SHARD_WRITE_MAX profiles a call, and malformed bucket ranges, limits and steps', async () => {
      const store = await fresh();
      const many = Array.from({ length: SHARD_WRITE_MAX + 1 }, (_, i) => profile(`m${i}`));
      await expect(store.upsertProfiles('org_a', many)).rejects.toThrow(/profiles: expected at most 10000/);
      await expect(store.profiles('org_a', { from: 10, to: 10 }, whole, 1)).rejects.toThrow(/buckets: expected/);
      await expect(store.profiles('org_a', { from: 0, to: SHARD_BUCKETS + 1 }, whole, 1)).rejects.toThrow(/buckets/);
      await expect(store.profiles('org_a', all, whole, 0)).rejects.toThrow(/limit: expected a positive integer/);
      await expect(store.split('org_a', all, 0)).rejects.toThrow(/every: expected a positive integer/);
      expect((await store.split('org_a', all, 1)).count).toBe(0);
    });
  });
}
