/**
 * Audience membership, independent of how it is decided: a rule compiled to a predicate, or a
 * custom upload matched to profiles by identity. The export plan only asks "is this profile a
 * member now, since when, and with which upload columns".
 */
import { iterate } from '../streams.ts';
import type { Profile, UploadMember } from './model.ts';

/** A compiled segment rule: evaluation never throws on missing or mistyped fields. */
export type ProfilePredicate = (profile: Profile, now: Date) => boolean;

export interface AudienceMembership {
  test(profile: Profile, now: Date): boolean;
  /**
   * When the profile qualified (ISO). Profiles carry no evaluation history, so this is the time of
   * the profile's last change (`updatedAt`): the latest write that (re)qualified it.
   */
  qualifiedAt(profile: Profile): string;
  /** Extra columns of the upload member matching this profile, when the audience is an upload. */
  upload?(profile: Profile): Readonly<Record<string, string>> | undefined;
}

/** Membership decided by a rule predicate (from the rule engine's `compileRule`). */
export function ruleMembership(predicate: ProfilePredicate): AudienceMembership {
  return { test: predicate, qualifiedAt: (p) => p.updatedAt };
}

/**
 * Membership of a custom upload: a profile is a member when any of its identities was uploaded.
 * Builds an index of the uploaded identities: memory is O(upload members), read page by page.
 * When several uploaded identities match one profile, the first in the profile's namespace and
 * value order supplies the upload columns.
 */
export async function uploadMembership(members: ReadableStream<UploadMember>): Promise<AudienceMembership> {
  const index = new Map<string, Readonly<Record<string, string>>>();
  for await (const m of iterate(members)) index.set(identityKey(m.namespace, m.value), m.attributes);
  const match = (profile: Profile) => {
    for (const [namespace, values] of Object.entries(profile.identities)) {
      for (const value of values) {
        const found = index.get(identityKey(namespace, value));
        if (found) return found;
      }
    }
    return undefined;
  };
  return { test: (p) => match(p) !== undefined, qualifiedAt: (p) => p.updatedAt, upload: match };
}

function identityKey(namespace: string, value: string): string {
  return `${namespace}\u0000${value}`;
}
