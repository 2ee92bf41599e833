/**
 * An audience's size before a dataflow is activated: how many profiles are members now, and how many
 * of those a draft mapping would skip (a mandatory field missing, a value its column type cannot
 * hold, no deduplication key). Counted the way an export decides, over D1 in large keyset pages and
 * within one request's budget: past PREVIEW_MAX_PROFILES profiles the counts are scaled from that
 * first part (`complete: false`, `sample` holds the counted figures). Members are profiles, before
 * any deduplication. A sharded organization's profiles are read over its shards.
 */
import { type AudienceMembership, uploadMembership } from '../core/data/audience.ts';
import { type CompiledMapping, mapValues, memberKeys } from '../core/data/mapping.ts';
import type { Audience } from '../core/data/model.ts';
import { pages } from '../core/data/store.ts';
import { membershipOf } from '../service/subjects.ts';
import type { Env } from './env.ts';
import { countShardedProfiles, shardedOrg, shardedProfilePages } from './shards/profiles.ts';
import { type D1DataReader, d1DataReader } from './store/data.ts';
import { first } from './store/db.ts';

/** Profiles counted at most: 20 pages of 5,000 (~2.5 MB each), ~0.3 CPU s at the export's pace. */
export const PREVIEW_MAX_PROFILES = 100_000;
const PAGE = 5_000;

export interface AudiencePreview {
  readonly audienceId: string;
  /** Profiles in the organization. */
  readonly profiles: number;
  /** Members now (scaled when not complete). */
  readonly members: number;
  /** Members the mapping would skip (scaled when not complete); 0 without a mapping. */
  readonly skipped: number;
  /** Skipped members by reason, `missing:<field>` / `invalid:<field>` (counted part only). */
  readonly skippedBy: Readonly<Record<string, number>>;
  /** True when every profile was counted. */
  readonly complete: boolean;
  /** What was counted, when not every profile was. */
  readonly sample?: { readonly profiles: number; readonly members: number; readonly skipped: number };
}

/** Counts `audience`'s members now and those `mapping` would skip. */
export async function previewAudience(
  env: Pick<Env, 'DB' | 'SHARDS'>,
  orgId: string,
  audience: Audience,
  mapping: CompiledMapping | undefined,
  now: Date,
  maxProfiles = PREVIEW_MAX_PROFILES,
): Promise<AudiencePreview> {
  const reader = d1DataReader(env.DB, orgId);
  const counter = previewCounter(await membershipFor(reader, audience), mapping, now);
  // A sharded organization's profiles are counted and read over its shards (docs/SCALE.md).
  const sharded = await shardedOrg(env, orgId);
  const total = sharded
    ? await countShardedProfiles(sharded)
    : ((await first<{ n: number }>(env.DB, 'SELECT COUNT(*) AS n FROM profiles WHERE org_id = ?', orgId))?.n ?? 0);
  const listProfiles = sharded ? shardedProfilePages(sharded) : reader.listProfiles;
  let cursor: string | undefined;
  do {
    const page = await listProfiles({
      limit: Math.min(PAGE, maxProfiles - counter.scanned()),
      ...(cursor && { cursor }),
    });
    for (const profile of page.items) counter.add(profile);
    cursor = page.cursor;
  } while (cursor !== undefined && counter.scanned() < maxProfiles);
  return counter.result(audience.id, total, cursor === undefined);
}

/**
 * Counts profiles, members and the members `mapping` would skip, as an export decides; `result`
 * scales the counts to `total` profiles when not every one was counted.
 */
export function previewCounter(membership: AudienceMembership, mapping: CompiledMapping | undefined, now: Date) {
  let scanned = 0;
  let members = 0;
  let skipped = 0;
  const skippedBy: Record<string, number> = {};
  return {
    scanned: () => scanned,
    add(profile: Parameters<AudienceMembership['test']>[0]): void {
      scanned++;
      if (!membership.test(profile, now)) return;
      members++;
      const reason = mapping && skipReason(mapping, membership, profile);
      if (!reason) return;
      skipped++;
      skippedBy[reason] = (skippedBy[reason] ?? 0) + 1;
    },
    result(audienceId: string, total: number, complete: boolean): AudiencePreview {
      const scale = (n: number) => (complete || scanned === 0 ? n : Math.round((n * total) / scanned));
      return {
        audienceId,
        profiles: complete ? scanned : total,
        members: scale(members),
        skipped: scale(skipped),
        skippedBy,
        complete,
        ...(!complete && { sample: { profiles: scanned, members, skipped } }),
      };
    },
  };
}

/** Why an export would skip this member, or undefined when it would export it. */
function skipReason(
  mapping: CompiledMapping,
  membership: AudienceMembership,
  profile: Parameters<AudienceMembership['test']>[0],
): string | undefined {
  const keys = memberKeys(mapping, profile);
  if (typeof keys === 'string') return keys;
  const upload = membership.upload?.(profile);
  const cells = mapValues(mapping, profile, {
    status: 'realized',
    qualifiedAt: membership.qualifiedAt(profile),
    ...(keys[0]?.identity && { identity: keys[0].identity }),
    ...(upload && { upload }),
  });
  return typeof cells === 'string' ? cells : undefined;
}

/** A rule's compiled predicate, or an upload's identities read in large pages. */
async function membershipFor(reader: D1DataReader, audience: Audience): Promise<AudienceMembership> {
  if (audience.kind === 'rule') return membershipOf(reader, audience);
  return uploadMembership(pages((request) => reader.listUploadMembers(audience.id, request), 10_000));
}
