/** Warnings: problems the API accepts anyway, returned beside the resource as `warnings: [{path, message}]`. */
import { type NameUse, unknownNames } from '../core/data/attributes.ts';
import type { D1Database } from './env.ts';
import { profileNames } from './store/writes.ts';

/** A problem the API accepted anyway, returned beside the resource: `{path, message}`. */
export interface ApiWarning {
  readonly path: string;
  readonly message: string;
}

/**
 * `{warnings}` when a rule or mapping names attributes or identity namespaces that no profile of the
 * organization has (with the closest real name), or when none could be checked because the
 * organization has no profiles yet; `{}` otherwise. Warnings, not refusals: an audience is often
 * defined before the profiles that fill it are ingested.
 */
export async function nameWarnings(db: D1Database, orgId: string, uses: readonly NameUse[]): Promise<{ warnings?: ApiWarning[] }> {
  if (uses.length === 0) return {};
  const names = await profileNames(db, orgId);
  if (names.attributes.size === 0 && names.identities.size === 0) {
    const paths = [...new Set(uses.map((u) => u.path))];
    return {
      warnings: paths.map((path) => ({
        path,
        message: 'attribute names not checked: this organization has no profiles yet (POST /v1/profiles)',
      })),
    };
  }
  const issues = unknownNames(uses, names, "no profile of this organization has it (profiles' top-level attributes and identity namespaces)");
  return issues.length === 0 ? {} : { warnings: issues.map(({ path, message }) => ({ path, message })) };
}
