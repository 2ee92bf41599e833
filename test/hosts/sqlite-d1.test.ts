/** The D1 contract on Node: better-sqlite3 behind the adapter (Deno runs it on node:sqlite). */
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openNodeDatabase } from '../../src/hosts/node/sqlite.ts';
import { callerOf } from '../../src/worker/store/tokens.ts';
import { profileNames } from '../../src/worker/store/writes.ts';
import { d1Contract } from './d1-contract.ts';

const migrations = fileURLToPath(new URL('../../migrations', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'edge-export-d1-'));
let n = 0;

d1Contract(
  'Node (better-sqlite3)',
  (path) => openNodeDatabase(path, migrations),
  () => join(dir, `db-${++n}.sqlite`),
);

describe('migration 0006 (token scopes) on a database created before it', () => {
  it('gives the tokens issued before it every scope, so existing integrations keep working', async () => {
    const before = mkdtempSync(join(tmpdir(), 'edge-export-migrations-'));
    const names = readdirSync(migrations).filter((name) => name.endsWith('.sql') && name < '0006');
    for (const name of names) copyFileSync(join(migrations, name), join(before, name));
    const path = join(dir, 'before-scopes.sqlite');
    const old = await openNodeDatabase(path, before);
    await old.db.exec(
      `INSERT INTO organizations (id, name, sandbox, created_at) VALUES ('org_old', 'Old', 'prod', 'now');
       INSERT INTO api_tokens (id, org_id, name, token_hash, created_at) VALUES ('tok_old', 'org_old', 'default', 'h', 'now');`,
    );
    old.close();
    const now = await openNodeDatabase(path, migrations);
    expect(now.applied).toContain('0006_token_scopes.sql');
    expect(await callerOf(now.db, 'h')).toEqual({ id: 'tok_old', orgId: 'org_old', scopes: ['all'], lastUsedAt: null });
    // A row inserted without scopes (as that old code did) now gets none: it could call nothing.
    await now.db.exec(
      "INSERT INTO api_tokens (id, org_id, name, token_hash, created_at) VALUES ('tok_new', 'org_old', 'bare', 'h2', 'now')",
    );
    expect((await callerOf(now.db, 'h2'))?.scopes).toEqual([]);
    now.close();
  });
});

describe('migration 0007 (profile names) on a database created before it', () => {
  it('fills profile_names from the profiles already stored, per organization', async () => {
    const before = mkdtempSync(join(tmpdir(), 'edge-export-migrations-'));
    const names = readdirSync(migrations).filter((name) => name.endsWith('.sql') && name < '0007');
    for (const name of names) copyFileSync(join(migrations, name), join(before, name));
    const path = join(dir, 'before-profile-names.sqlite');
    const old = await openNodeDatabase(path, before);
    expect(old.applied).toContain('0006_token_scopes.sql');
    await old.db.exec(
      `INSERT INTO profiles (org_id, id, json, updated_at) VALUES ('org_a', 'p1', '{"identities":{"email":"a@x"},"attributes":{"country":"DE","tier":"gold"}}', 'now');
       INSERT INTO profiles (org_id, id, json, updated_at) VALUES ('org_b', 'p1', '{"identities":{"crm":"1"},"attributes":{"age":3}}', 'now');`,
    );
    old.close();
    const now = await openNodeDatabase(path, migrations);
    expect(now.applied).toContain('0007_profile_names.sql');
    const a = await profileNames(now.db, 'org_a');
    expect([[...a.attributes].sort(), [...a.identities]]).toEqual([['country', 'tier'], ['email']]);
    const b = await profileNames(now.db, 'org_b');
    expect([[...b.attributes], [...b.identities]]).toEqual([['age'], ['crm']]);
    now.close();
  });
});
