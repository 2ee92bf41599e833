/**
 * Organizations' shard layouts in D1 (`org_shards`, migration 0014; docs/SCALE.md "Layout"): which
 * organizations keep their profiles in shards, and which shard owns which buckets. An organization
 * without a row keeps its profiles in D1's `profiles` table (the default).
 */
import type { D1Database } from '../env.ts';
import { SHARD_BUCKETS, type ShardLayout, type ShardOwner } from '../shards/types.ts';
import { first, run } from './db.ts';

/** The organization's layout, or undefined when it keeps its profiles in D1. A stored layout is validated. */
export async function getShardLayout(db: D1Database, orgId: string): Promise<ShardLayout | undefined> {
  const row = await first<{ layout: string }>(db, 'SELECT layout FROM org_shards WHERE org_id = ?', orgId);
  return row ? parseShardLayout(row.layout) : undefined;
}

/** Stores the organization's layout (validated first), replacing any it had. */
export async function setShardLayout(db: D1Database, orgId: string, layout: ShardLayout, now: Date): Promise<void> {
  const problem = layoutProblem(layout);
  if (problem) throw new Error(`shard layout of ${orgId}: ${problem}`);
  await run(
    db,
    `INSERT INTO org_shards (org_id, layout, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (org_id) DO UPDATE SET layout = excluded.layout, updated_at = excluded.updated_at`,
    orgId,
    JSON.stringify(layout),
    now.toISOString(),
  );
}

/** A stored layout, checked: a corrupt one is an error, never guessed around (it decides where profiles are). */
export function parseShardLayout(text: string): ShardLayout {
  let layout: unknown;
  try {
    layout = JSON.parse(text);
  } catch {
    throw new Error('shard layout: not JSON');
  }
  const problem = layoutProblem(layout);
  if (problem) throw new Error(`shard layout: ${problem}`);
  return layout as ShardLayout;
}

/** What is wrong with a layout, or undefined when it is one (ShardLayout's invariants). */
export function layoutProblem(layout: unknown): string | undefined {
  if (typeof layout !== 'object' || layout === null) return 'expected an object';
  const { version, generation, shards, next } = layout as Record<string, unknown>;
  if (version !== 1) return 'version: expected 1';
  if (!Number.isInteger(generation) || (generation as number) < 1) return 'generation: expected a positive integer';
  return ownersProblem('shards', shards) ?? (next === undefined ? undefined : ownersProblem('next', next));
}

/** Owners sorted by `from`, covering [0, SHARD_BUCKETS) without gap or overlap, with distinct names. */
function ownersProblem(field: string, owners: unknown): string | undefined {
  if (!Array.isArray(owners) || owners.length === 0) return `${field}: expected a non-empty array of owners`;
  const names = new Set<string>();
  let at = 0;
  for (const [i, owner] of (owners as ShardOwner[]).entries()) {
    const { name, from, to } = (owner ?? {}) as Partial<ShardOwner>;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name))
      return `${field}[${i}].name: expected 1–64 letters, digits, _ or -`;
    if (names.has(name)) return `${field}[${i}].name: "${name}" is used twice`;
    names.add(name);
    if (from !== at) return `${field}[${i}].from: expected ${at} (owners sorted, without gap or overlap)`;
    if (!Number.isInteger(to) || (to as number) <= at || (to as number) > SHARD_BUCKETS)
      return `${field}[${i}].to: expected an integer above ${at}, at most ${SHARD_BUCKETS}`;
    at = to as number;
  }
  return at === SHARD_BUCKETS ? undefined : `${field}: the owners end at bucket ${at}, expected ${SHARD_BUCKETS}`;
}

/** Whether the organization has profiles in D1's `profiles` table. */
export async function hasD1Profiles(db: D1Database, orgId: string): Promise<boolean> {
  return (await first(db, 'SELECT 1 AS one FROM profiles WHERE org_id = ? LIMIT 1', orgId)) !== undefined;
}
