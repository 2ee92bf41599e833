/** Organizations and their API tokens (stored as SHA-256 hashes only). */
import { generateToken } from '../../core/security/tokens.ts';
import type { D1Database } from '../env.ts';
import { first, newId, run } from './db.ts';

export interface CreatedOrganization {
  readonly id: string;
  readonly name: string;
  readonly sandbox: string;
  /** Shown once; only its hash is stored. */
  readonly token: string;
}

/** The sandbox of an organization created without one (the reference's production sandbox). */
export const DEFAULT_SANDBOX = 'prod';

/** Creates an organization with a first API token. */
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
  const token = await createToken(db, id, 'default', now);
  return { id, name, sandbox, token };
}

/** An organization's names, as file names and manifests use them. */
export function getOrganization(db: D1Database, id: string): Promise<{ name: string; sandbox: string } | undefined> {
  return first<{ name: string; sandbox: string }>(db, 'SELECT name, sandbox FROM organizations WHERE id = ?', id);
}

/** Adds an API token to an organization and returns it (the only time it is visible). */
export async function createToken(db: D1Database, orgId: string, name: string, now: Date): Promise<string> {
  const { token, hash } = await generateToken();
  await run(
    db,
    'INSERT INTO api_tokens (id, org_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)',
    newId('tok'),
    orgId,
    name,
    hash,
    now.toISOString(),
  );
  return token;
}

/** The organization a (non-revoked) token hash belongs to. */
export async function organizationOfToken(db: D1Database, hash: string): Promise<string | undefined> {
  const row = await first<{ org_id: string }>(
    db,
    'SELECT org_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL',
    hash,
  );
  return row?.org_id;
}
