/** Organizations; their API tokens are in tokens.ts. */
import type { D1Database } from '../env.ts';
import { first, newId, run } from './db.ts';
import { createToken } from './tokens.ts';

export interface CreatedOrganization {
  readonly id: string;
  readonly name: string;
  readonly sandbox: string;
  /** The first token's secret: shown once; only its hash is stored. */
  readonly token: string;
  /** The first token's id (its name is "default"; it holds the scope "all"). */
  readonly tokenId: string;
}

/** The sandbox of an organization created without one (the reference's production sandbox). */
export const DEFAULT_SANDBOX = 'prod';

/** Creates an organization with a first API token holding every scope ("all"). */
export async function createOrganization(
  db: D1Database,
  name: string,
  now: Date,
  sandbox: string = DEFAULT_SANDBOX,
): Promise<CreatedOrganization> {
  const id = newId('org');
  await run(
    db,
    'INSERT INTO organizations (id, name, sandbox, created_at) VALUES (?, ?, ?, ?)',
    id,
    name,
    sandbox,
    now.toISOString(),
  );
  const created = await createToken(db, id, { name: 'default', scopes: ['all'] }, now);
  if (!('token' in created)) throw new Error('a new organization already has tokens');
  return { id, name, sandbox, token: created.token.secret, tokenId: created.token.id };
}

/** An organization's names, as file names and manifests use them. */
export function getOrganization(db: D1Database, id: string): Promise<{ name: string; sandbox: string } | undefined> {
  return first<{ name: string; sandbox: string }>(db, 'SELECT name, sandbox FROM organizations WHERE id = ?', id);
}
