/**
 * Snapshot sources in D1 (migrations/0012): one row per registered source, its config the validated
 * source JSON with the auth's secret fields sealed (see source-secrets.ts). Every statement filters by
 * org_id: a row of another organization is indistinguishable from a missing one.
 */
import type { ConfigIssue } from '../../core/errors.ts';
import { quote } from '../../core/validate.ts';
import type { D1Database } from '../env.ts';
import { all, first, run } from './db.ts';
import { type DestinationRow, type Page, type PageQuery, insertConfigRow, page, updateConfigRow } from './resources.ts';

/** A `sources` row: the same columns as a destination's. */
export type SourceRow = DestinationRow;

export function insertSource(db: D1Database, row: Omit<SourceRow, 'updated_at'>): Promise<void> {
  return insertConfigRow(db, 'sources', row);
}

export function getSource(db: D1Database, orgId: string, id: string): Promise<SourceRow | undefined> {
  return first<SourceRow>(db, 'SELECT * FROM sources WHERE org_id = ? AND id = ?', orgId, id);
}

export function updateSource(db: D1Database, orgId: string, id: string, name: string, config: string, now: Date): Promise<boolean> {
  return updateConfigRow(db, 'sources', orgId, id, name, config, now);
}

/** The audiences that read a source (id and name, oldest first): a source is not deleted under them. */
export function audiencesOfSource(
  db: D1Database,
  orgId: string,
  id: string,
): Promise<{ id: string; name: string }[]> {
  return all(
    db,
    'SELECT id, name FROM audiences WHERE org_id = ? AND source_id = ? ORDER BY created_at, id',
    orgId,
    id,
  );
}

/** Deletes a source; refuses (returns the audiences) while an audience reads it. */
export async function deleteSource(
  db: D1Database,
  orgId: string,
  id: string,
): Promise<'deleted' | 'missing' | { inUseBy: { id: string; name: string }[] }> {
  const users = await audiencesOfSource(db, orgId, id);
  if (users.length > 0) return { inUseBy: users };
  return (await run(db, 'DELETE FROM sources WHERE org_id = ? AND id = ?', orgId, id)) === 1
    ? 'deleted'
    : 'missing';
}

/** A page of the organization's sources, newest first. */
export function listSources(db: D1Database, orgId: string, query: PageQuery): Promise<Page<SourceRow>> {
  return page<SourceRow>(db, 'sources', orgId, query);
}

/**
 * A dataflow's audiences must read one place — one snapshot source, or the organization's D1 — as one
 * run reads them together: otherwise an issue at `audienceIds` naming which audience reads what.
 */
export async function audienceSourceIssues(db: D1Database, orgId: string, audienceIds: readonly string[]): Promise<ConfigIssue[]> {
  if (audienceIds.length < 2) return [];
  const rows = await all<{ id: string; name: string; source_id: string | null }>(
    db,
    'SELECT a.id, a.name, a.source_id FROM json_each(?) j JOIN audiences a ON a.org_id = ? AND a.id = j.value ORDER BY j.key',
    JSON.stringify(audienceIds),
    orgId,
  );
  const places = new Set(rows.map((r) => r.source_id));
  if (places.size < 2) return [];
  const where = rows.map((r) => `${quote(r.name)} (${r.id}) reads ${r.source_id === null ? 'the profiles in D1' : `source ${r.source_id}`}`);
  return [
    {
      path: 'audienceIds',
      message: `audienceIds: the audiences of one dataflow must read the same place (one source, or the profiles in D1); ${where.join('; ')}. Put them in separate dataflows.`,
      expected: 'audiences that read the same source (or all the profiles in D1)',
    },
  ];
}
