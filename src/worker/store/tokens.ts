/**
 * API tokens: several named tokens per organization, each with its scopes. Only the SHA-256 of a
 * secret is stored; the secret is returned once, by `createToken` and `rotateToken`.
 */
import { generateToken } from '../../core/security/tokens.ts';
import type { D1Database } from '../env.ts';
import { type Scope, knownScopes } from '../scopes.ts';
import { all, first, newId, run } from './db.ts';

/** Live tokens an organization may hold at once. */
export const MAX_TOKENS_PER_ORGANIZATION = 100;

interface TokenRow {
  id: string;
  org_id: string;
  name: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  rotated_at: string | null;
}

/** A token as the API shows it: never its secret nor the secret's hash. */
export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly scopes: Scope[];
  readonly createdAt: string;
  readonly lastUsedAt?: string;
  readonly rotatedAt?: string;
}

/** The token a request presented: who it is, for which organization, with what. */
export interface Caller {
  readonly id: string;
  readonly orgId: string;
  readonly scopes: Scope[];
  readonly lastUsedAt: string | null;
}

const COLUMNS = 'id, org_id, name, scopes, created_at, last_used_at, rotated_at';
/** SQL: the token row `alias` holds a scope that may manage tokens. */
const manages = (alias: string) =>
  `EXISTS (SELECT 1 FROM json_each(${alias}.scopes) WHERE value IN ('tokens:manage', 'all'))`;

function info(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    scopes: knownScopes(JSON.parse(row.scopes) as unknown[]),
    createdAt: row.created_at,
    ...(row.last_used_at && { lastUsedAt: row.last_used_at }),
    ...(row.rotated_at && { rotatedAt: row.rotated_at }),
  };
}

/**
 * Adds a token; undefined when the organization already has a live token of that name or holds
 * MAX_TOKENS_PER_ORGANIZATION of them (`reason` says which). The secret is in the result only.
 */
export async function createToken(
  db: D1Database,
  orgId: string,
  input: { name: string; scopes: readonly Scope[] },
  now: Date,
): Promise<{ token: TokenInfo & { secret: string } } | { refused: 'name taken' | 'too many' }> {
  const { token, hash } = await generateToken();
  const id = newId('tok');
  // One statement: the count and the insert cannot interleave with another creation.
  const inserted = await run(
    db,
    `INSERT OR IGNORE INTO api_tokens (id, org_id, name, token_hash, scopes, created_at)
     SELECT ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM api_tokens WHERE org_id = ? AND revoked_at IS NULL) < ?`,
    id,
    orgId,
    input.name,
    hash,
    JSON.stringify([...new Set(input.scopes)]),
    now.toISOString(),
    orgId,
    MAX_TOKENS_PER_ORGANIZATION,
  );
  if (inserted === 0) {
    const taken = await first(db, 'SELECT 1 FROM api_tokens WHERE org_id = ? AND name = ? AND revoked_at IS NULL', orgId, input.name);
    return { refused: taken ? 'name taken' : 'too many' };
  }
  return { token: { ...(await getToken(db, orgId, id))!, secret: token } };
}

/** A live token of the organization. */
export async function getToken(db: D1Database, orgId: string, id: string): Promise<TokenInfo | undefined> {
  const row = await first<TokenRow>(
    db,
    `SELECT ${COLUMNS} FROM api_tokens WHERE org_id = ? AND id = ? AND revoked_at IS NULL`,
    orgId,
    id,
  );
  return row && info(row);
}

/** The organization's live tokens, oldest first. */
export async function listTokens(db: D1Database, orgId: string): Promise<TokenInfo[]> {
  const rows = await all<TokenRow>(
    db,
    `SELECT ${COLUMNS} FROM api_tokens WHERE org_id = ? AND revoked_at IS NULL ORDER BY created_at, id`,
    orgId,
  );
  return rows.map(info);
}

/** The live token a secret's hash belongs to. */
export async function callerOf(db: D1Database, hash: string): Promise<Caller | undefined> {
  const row = await first<TokenRow>(
    db,
    `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL`,
    hash,
  );
  return (
    row && {
      id: row.id,
      orgId: row.org_id,
      scopes: knownScopes(JSON.parse(row.scopes) as unknown[]),
      lastUsedAt: row.last_used_at,
    }
  );
}

/** Records a use of the token (callers write it at most once a minute, see auth.ts). */
export async function touchToken(db: D1Database, id: string, now: Date): Promise<void> {
  await run(db, 'UPDATE api_tokens SET last_used_at = ? WHERE id = ?', now.toISOString(), id);
}

/**
 * Gives a live token a new secret: the old one is refused from this statement on (its hash is gone).
 * Undefined when there is no such live token.
 */
export async function rotateToken(
  db: D1Database,
  orgId: string,
  id: string,
  now: Date,
): Promise<(TokenInfo & { secret: string }) | undefined> {
  const { token, hash } = await generateToken();
  const changed = await run(
    db,
    'UPDATE api_tokens SET token_hash = ?, rotated_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL',
    hash,
    now.toISOString(),
    orgId,
    id,
  );
  return changed === 0 ? undefined : { ...(await getToken(db, orgId, id))!, secret: token };
}

/**
 * Revokes a live token, unless it is the organization's last live token able to manage tokens (the
 * organization could then never issue, rotate or revoke a token again without the operator). One
 * statement decides, so two concurrent revocations cannot remove the last two managers.
 */
export async function revokeToken(
  db: D1Database,
  orgId: string,
  id: string,
  now: Date,
): Promise<'revoked' | 'not found' | 'last manager'> {
  const changed = await run(
    db,
    `UPDATE api_tokens SET revoked_at = ?
     WHERE org_id = ? AND id = ? AND revoked_at IS NULL
       AND (NOT ${manages('api_tokens')} OR EXISTS (
         SELECT 1 FROM api_tokens AS other
         WHERE other.org_id = ? AND other.id <> ? AND other.revoked_at IS NULL AND ${manages('other')}))`,
    now.toISOString(),
    orgId,
    id,
    orgId,
    id,
  );
  if (changed > 0) return 'revoked';
  return (await getToken(db, orgId, id)) ? 'last manager' : 'not found';
}
