/**
 * How the Worker reads its organizations' snapshot sources for the fan-out engine (fanout.ts's
 * SnapshotAccess): the source row from D1, opened with its sealed credentials (source-secrets.ts),
 * planned by planSnapshot and read unit by unit by readUnit, projected to the columns the run's
 * rules and mapping name, rows turned into profiles.
 */
import { ExportError } from '../core/errors.ts';
import type { Platform } from '../core/platform.ts';
import { planSnapshot, projection, readUnit, snapshotProfiles } from '../core/snapshot/index.ts';
import type { SnapshotAccess } from './fanout.ts';
import { servedPlatform } from './platform.ts';
import { openSourceStore } from './source-secrets.ts';
import { getSource } from './store/sources.ts';

/**
 * The Worker's snapshot reader on `base`, the host's platform.
 *
 * @example createWorker(platform, { snapshots: snapshotAccess(platform) })
 */
export function snapshotAccess(base: Platform): SnapshotAccess {
  return async (env, orgId, sourceId, needs) => {
    const row = await getSource(env.DB, orgId, sourceId);
    if (!row) throw new ExportError('CONFIG_INVALID', `The snapshot source "${sourceId}" no longer exists`, { stage: 'source' });
    const { source, store } = await openSourceStore(env, row, servedPlatform(base, env));
    return {
      plan: () => planSnapshot(store, source),
      profiles: (plan, unit, stats) =>
        snapshotProfiles(readUnit(store, plan, unit, projection(plan.schema, source, { rules: needs.rules, mappings: [needs.mapping] }), stats), source),
    };
  };
}
