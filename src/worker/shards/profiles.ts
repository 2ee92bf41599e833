/**
 * A sharded organization's profiles as the Worker's routes use them (docs/SCALE.md, "Ingest"): the
 * organization's layout and shards, batches grouped by owner and written to every owner in parallel,
 * the count of every shard, and id-ordered pages over all shards. Runtime-agnostic: the shards are
 * `env.SHARDS` (Durable Objects on Workers, SQLite files on Node and Deno).
 */
import type { Profile } from '../../core/data/model.ts';
import type { Page, PageRequest } from '../../core/data/store.ts';
import { utf8Bound } from '../../service/subjects.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import type { ProfileInput } from '../records.ts';
import { getShardLayout } from '../store/shards.ts';
import { bucketOf, ownerOf, type ShardLayout, type ShardNamespace, type ShardProfile, shardNamespace } from './types.ts';

/** A sharded organization: its layout and the namespace of its shards. */
export interface ShardedOrg {
  readonly orgId: string;
  readonly layout: ShardLayout;
  readonly shards: ShardNamespace;
}

/** The organization's shards, or undefined when it keeps its profiles in D1 (no layout). */
export async function shardedOrg(env: Pick<Env, 'DB' | 'SHARDS'>, orgId: string): Promise<ShardedOrg | undefined> {
  const layout = await getShardLayout(env.DB, orgId);
  if (!layout) return undefined;
  const shards = shardNamespace(env.SHARDS);
  if (!shards)
    throw new Error(`organization ${orgId} keeps its profiles in shards, but this deployment has no SHARDS binding (wrangler.toml)`);
  return { orgId, layout, shards };
}

/**
 * A validated profile as a shard keeps it: `{identities, attributes}` as JSON, stamped `now` without
 * updatedAt. A profile over the value limit (a Durable Object's, like D1's, is 2,000,000 bytes) is
 * refused as D1's ingest refuses it (413), before anything is written.
 */
export function shardProfile(p: ProfileInput, now: Date, valueBytes = 2_000_000): ShardProfile {
  const json = JSON.stringify({ identities: p.identities, attributes: p.attributes });
  const size = utf8Bound(json);
  if (size > Math.floor(valueBytes * 0.9))
    throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `A record of ${size} bytes is over a shard's ${valueBytes}-byte value limit`);
  return { id: p.id, json, updatedAt: p.updatedAt ? new Date(p.updatedAt).toISOString() : now.toISOString() };
}

/**
 * The batch grouped by the shard each profile goes to: its owner in `shards` and, while resharding,
 * also its owner in `next` when that is another shard.
 */
export function groupByOwner(layout: ShardLayout, profiles: readonly ShardProfile[]): Map<string, ShardProfile[]> {
  const groups = new Map<string, ShardProfile[]>();
  const add = (name: string, p: ShardProfile) => {
    const group = groups.get(name);
    if (group) group.push(p);
    else groups.set(name, [p]);
  };
  for (const p of profiles) {
    const bucket = bucketOf(p.id);
    const owner = ownerOf(layout.shards, bucket).name;
    add(owner, p);
    const next = layout.next && ownerOf(layout.next, bucket).name;
    if (next !== undefined && next !== owner) add(next, p);
  }
  return groups;
}

/** Writes a validated batch to every owner at once (one call each, each all-or-nothing); how many calls. */
export async function writeShardedProfiles(org: ShardedOrg, profiles: readonly ShardProfile[]): Promise<number> {
  const groups = [...groupByOwner(org.layout, profiles)];
  await Promise.all(groups.map(([name, group]) => org.shards.shard(org.orgId, name).upsertProfiles(org.orgId, group)));
  return groups.length;
}

/** `every` large enough that `split` returns no bound: the count alone. */
const COUNT_ONLY = 2 ** 31 - 1;

/** Profiles of the organization: the sum of every shard's count of its buckets (one call each, in parallel). */
export async function countShardedProfiles(org: ShardedOrg): Promise<number> {
  const counts = await Promise.all(
    org.layout.shards.map((owner) => org.shards.shard(org.orgId, owner.name).split(org.orgId, owner, COUNT_ONLY)),
  );
  return counts.reduce((sum, c) => sum + c.count, 0);
}

/**
 * Pages of the organization's profiles in id order over all its shards, as `DataStore.listProfiles`
 * gives them (the cursor is the last id). Ids hash evenly over buckets, so each page asks every shard
 * for its share (plus a margin) and returns the profiles up to the smallest last id of the shards that
 * had more: nothing before it is missing. One call per shard a page, ~`limit` profiles read in all.
 */
export function shardedProfilePages(org: ShardedOrg): (request: PageRequest) => Promise<Page<Profile>> {
  const owners = org.layout.shards;
  return async (request) => {
    const limit = Math.min(10_000, Math.max(1, request.limit ?? 500));
    const share = Math.min(limit, Math.ceil(limit / owners.length) + 16);
    const range = { after: request.cursor ?? null, through: null };
    const pages = await Promise.all(
      owners.map((owner) => org.shards.shard(org.orgId, owner.name).profiles(org.orgId, owner, range, share)),
    );
    let frontier: string | undefined;
    for (const page of pages) {
      const last = page.at(-1)?.id;
      if (page.length === share && last !== undefined && (frontier === undefined || last < frontier)) frontier = last;
    }
    const merged = pages
      .flat()
      .filter((p) => frontier === undefined || p.id <= frontier)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
    const items = merged.map(profileOf);
    // A shard had more: the next page starts after the last id returned (never empty: see above).
    return frontier !== undefined ? { items, cursor: items.at(-1)!.id } : { items };
  };
}

/** A shard's row as the export engine's Profile (as D1's reader builds it). */
export function profileOf(row: ShardProfile): Profile {
  return { id: row.id, identities: {}, attributes: {}, ...(JSON.parse(row.json) as Partial<Profile>), updatedAt: row.updatedAt };
}
