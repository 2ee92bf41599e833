/**
 * Growing an organization's shard count (docs/SCALE.md, "Resharding"): the pure part. Going from N
 * owners to M > N, every owner's bucket range is split into k ≥ 1 contiguous pieces (Σk = M): the
 * owner keeps its first piece under its own name, and each other piece goes to a new shard under a new
 * name. Only the buckets of those other pieces change owner, so only their profiles are copied.
 *
 * The pieces are allotted greedily to the owner whose pieces are currently largest, which makes the
 * largest shard of the new layout as small as any split of the old ranges can make it (the old ranges
 * may be unequal after an earlier growth); each owner keeps its largest piece, so an owner's moved
 * buckets are as few as its piece count allows.
 */
import { type BucketRange, SHARD_BUCKETS, type ShardLayout, type ShardOwner } from './types.ts';

/** Most shards a layout may have (as initialLayout). */
export const MAX_SHARDS = 256;

/** Buckets that change owner when `next` replaces `shards`: a contiguous range of one old owner, copied to `next`'s owners. */
export interface BucketMove extends BucketRange {
  /** The owner (in `shards`) the range's profiles are copied from and later deleted from. */
  readonly source: string;
}

/**
 * The `next` owners of `layout` grown to `shards` shards (a layout already resharding is refused).
 *
 * @example growLayout(initialLayout(2), 4) // s0 [0,1024) s2 [1024,2048) s1 [2048,3072) s3 [3072,4096)
 */
export function growLayout(layout: ShardLayout, shards: number): ShardOwner[] {
  if (layout.next !== undefined) throw new RangeError('layout: already resharding (it has next owners)');
  const owners = layout.shards;
  if (!Number.isInteger(shards) || shards <= owners.length || shards > MAX_SHARDS) {
    throw new RangeError(`shards: expected an integer from ${owners.length + 1} to ${MAX_SHARDS} (more than the ${owners.length} shards the organization has)`);
  }
  const pieces = allotPieces(owners.map((o) => o.to - o.from), shards);
  const names = newNames(owners, shards - owners.length);
  const next: ShardOwner[] = [];
  owners.forEach((owner, i) => {
    for (const [k, range] of splitRange(owner, pieces[i]!).entries()) next.push({ name: k === 0 ? owner.name : names.shift()!, ...range });
  });
  return next;
}

/**
 * How many pieces each range of these sizes is cut into, `total` in all: one each, then one more at a
 * time to the range whose pieces are largest (ties: the first), which minimises the largest piece.
 */
export function allotPieces(sizes: readonly number[], total: number): number[] {
  const pieces = sizes.map(() => 1);
  for (let left = total - sizes.length; left > 0; left--) {
    let best = 0;
    for (let i = 1; i < sizes.length; i++) if (sizes[i]! * pieces[best]! > sizes[best]! * pieces[i]!) best = i;
    pieces[best]!++;
  }
  return pieces;
}

/** `range` cut into `pieces` contiguous near-equal pieces, the larger ones first (so the first piece, kept, is a largest). */
export function splitRange(range: BucketRange, pieces: number): BucketRange[] {
  const size = range.to - range.from;
  const small = Math.floor(size / pieces);
  const large = size % pieces;
  const out: BucketRange[] = [];
  let from = range.from;
  for (let k = 0; k < pieces; k++) {
    const to = from + small + (k < large ? 1 : 0);
    out.push({ from, to });
    from = to;
  }
  return out;
}

/** `count` names no owner has had: `s<n>` numbered after the highest `s<n>` of `owners` (growth never drops a name). */
function newNames(owners: readonly ShardOwner[], count: number): string[] {
  let highest = -1;
  for (const { name } of owners) {
    const n = /^s(\d+)$/.exec(name);
    if (n) highest = Math.max(highest, Number(n[1]));
  }
  return Array.from({ length: count }, (_, k) => `s${highest + 1 + k}`);
}

/**
 * The buckets a layout's `next` takes from its `shards`: for each old owner, each maximal run of its
 * buckets whose owner in `next` has another name. Empty without `next`.
 */
export function bucketMoves(layout: ShardLayout): BucketMove[] {
  const next = layout.next;
  if (next === undefined) return [];
  const moves: BucketMove[] = [];
  for (const owner of layout.shards) {
    let start: number | undefined;
    for (let b = owner.from; b <= owner.to; b++) {
      const moving = b < owner.to && nameAt(next, b) !== owner.name;
      if (moving && start === undefined) start = b;
      if (!moving && start !== undefined) {
        moves.push({ source: owner.name, from: start, to: b });
        start = undefined;
      }
    }
  }
  return moves;
}

function nameAt(owners: readonly ShardOwner[], bucket: number): string | undefined {
  return owners.find((o) => o.from <= bucket && bucket < o.to)?.name;
}

/** Buckets in `moves`: the share of the organization's profiles a resharding copies is this / SHARD_BUCKETS. */
export function movedBuckets(moves: readonly BucketRange[]): number {
  return moves.reduce((sum, m) => sum + m.to - m.from, 0);
}

/** True when `owners` are sorted by `from` and cover [0, SHARD_BUCKETS) without gap or overlap, with unique names. */
export function coversAllBuckets(owners: readonly ShardOwner[]): boolean {
  let at = 0;
  for (const o of owners) {
    if (o.from !== at || o.to <= o.from) return false;
    at = o.to;
  }
  return at === SHARD_BUCKETS && new Set(owners.map((o) => o.name)).size === owners.length;
}
