/**
 * The D1 behaviour the Worker relies on, checked against the SQLite adapter: run by vitest on Node
 * (better-sqlite3) and by `deno test` on Deno (node:sqlite), so both drivers honour one contract.
 */
import { describe, expect, it } from 'vitest';
import type { SqliteD1 } from '../../src/hosts/sqlite-d1.ts';
import { createOrganization } from '../../src/worker/store/orgs.ts';
import { claimRun, getRun, insertRun } from '../../src/worker/store/runs.ts';
import { callerOf, createToken, listTokens, revokeToken, rotateToken } from '../../src/worker/store/tokens.ts';
import { hashToken } from '../../src/core/security/tokens.ts';

export interface Opened {
  readonly db: SqliteD1;
  readonly applied: string[];
  close(): void;
}

/** Registers the contract's tests; `open(path)` opens (creating and migrating) a database file. */
export function d1Contract(runtime: string, open: (path: string) => Promise<Opened>, temp: () => string) {
  const fresh = async () => {
    const opened = await open(temp());
    await opened.db.exec(
      'CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, flag INTEGER, blob BLOB)',
    );
    return opened;
  };

  describe(`SQLite as D1 on ${runtime}`, () => {
    it('applies migrations/*.sql once and records them in d1_migrations', async () => {
      const path = temp();
      const first = await open(path);
      expect(first.applied).toContain('0001_init.sql');
      const tables = await first.db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
        .bind('runs')
        .all();
      expect(tables.results).toEqual([{ name: 'runs' }]);
      first.close();
      const again = await open(path);
      expect(again.applied).toEqual([]);
      const recorded = await again.db.prepare('SELECT name FROM d1_migrations').raw();
      expect(recorded).toContainEqual(['0001_init.sql']);
      again.close();
    });

    it('run() reports changes and last_row_id; INSERT OR IGNORE of a duplicate changes nothing', async () => {
      const { db, close } = await fresh();
      const insert = db.prepare('INSERT OR IGNORE INTO t (name, flag) VALUES (?, ?)');
      const a = await insert.bind('a', true).run();
      expect(a.meta).toMatchObject({ changes: 1, last_row_id: 1 });
      expect((await insert.bind('a', false).run()).meta.changes).toBe(0);
      const b = await insert.bind('b', false).run();
      expect(b.meta.last_row_id).toBe(await db.prepare("SELECT id FROM t WHERE name = 'b'").first('id'));
      close();
    });

    it('first(), first(column), all() and raw() read like D1; booleans bind as 1/0', async () => {
      const { db, close } = await fresh();
      await db.prepare('INSERT INTO t (name, flag) VALUES (?, ?), (?, ?)').bind('a', true, 'b', false).run();
      const select = db.prepare('SELECT name, flag FROM t WHERE name >= ? ORDER BY name');
      expect(await select.bind('a').first()).toEqual({ name: 'a', flag: 1 });
      expect(await select.bind('b').first('flag')).toBe(0);
      expect(await select.bind('z').first()).toBeNull();
      expect((await select.bind('a').all()).results).toEqual([
        { name: 'a', flag: 1 },
        { name: 'b', flag: 0 },
      ]);
      expect(await select.bind('a').raw({ columnNames: true })).toEqual([
        ['name', 'flag'],
        ['a', 1],
        ['b', 0],
      ]);
      close();
    });

    it("refuses a value over D1's 2,000,000 bytes as D1 does (SQLITE_TOOBIG), and takes one at the limit", async () => {
      const { db, close } = await fresh();
      const at = 'é'.repeat(1_000_000); // 2,000,000 bytes of UTF-8
      await db.prepare('INSERT INTO t (name) VALUES (?)').bind(at).run();
      expect(() => db.prepare('INSERT INTO t (name) VALUES (?)').bind(`${at}x`)).toThrow(/SQLITE_TOOBIG/);
      expect(() => db.prepare('INSERT INTO t (blob) VALUES (?)').bind(new Uint8Array(2_000_001))).toThrow(/SQLITE_TOOBIG/);
      close();
    });

    it('refuses undefined as D1 does, and keeps blobs byte for byte', async () => {
      const { db, close } = await fresh();
      expect(() => db.prepare('SELECT ?').bind(undefined)).toThrow(/D1_TYPE_ERROR/);
      await db
        .prepare('INSERT INTO t (name, blob) VALUES (?, ?)')
        .bind('bin', new Uint8Array([0, 255, 7]))
        .run();
      const blob = await db.prepare('SELECT blob FROM t').first<Uint8Array>('blob');
      expect([...new Uint8Array(blob!)]).toEqual([0, 255, 7]);
      close();
    });

    it('batch() is one transaction: a failing statement rolls back the ones before it', async () => {
      const { db, close } = await fresh();
      const insert = db.prepare('INSERT INTO t (name) VALUES (?)');
      const results = await db.batch([insert.bind('x'), insert.bind('y')]);
      expect(results.map((r) => r.meta.changes)).toEqual([1, 1]);
      await expect(db.batch([insert.bind('z'), insert.bind('x')])).rejects.toThrow(/UNIQUE/);
      expect(await db.prepare('SELECT name FROM t ORDER BY name').raw()).toEqual([['x'], ['y']]);
      close();
    });

    it('enforces foreign keys with cascades, as D1 does', async () => {
      const { db, close } = await open(temp());
      const org = await createOrganization(db, 'Acme', new Date());
      await expect(
        db
          .prepare('INSERT INTO api_tokens (id, org_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)')
          .bind('tok_x', 'org_missing', 'x', 'h', 'now')
          .run(),
      ).rejects.toThrow(/FOREIGN KEY/);
      await db.prepare('DELETE FROM organizations WHERE id = ?').bind(org.id).run();
      expect(await db.prepare('SELECT COUNT(*) AS n FROM api_tokens').first('n')).toBe(0);
      close();
    });

    it("runs the Worker's run store: a slot is inserted once and claimed once", async () => {
      const { db, close } = await open(temp());
      const org = await createOrganization(db, 'Acme', new Date());
      await db
        .prepare(
          `INSERT INTO destinations (id, org_id, name, config, created_at, updated_at) VALUES ('dst_1', ?, 'd', '{}', 'now', 'now');`,
        )
        .bind(org.id)
        .run();
      await db
        .prepare(
          `INSERT INTO dataflows (id, org_id, name, destination_id, audience_ids, webhook_secret, created_at, updated_at)
           VALUES ('dfl_1', ?, 'f', 'dst_1', '["aud_1"]', 's', 'now', 'now')`,
        )
        .bind(org.id)
        .run();
      const now = new Date('2026-01-01T00:00:00Z');
      const run = {
        orgId: org.id,
        dataflowId: 'dfl_1',
        runKey: 'k1',
        trigger: 'api',
        scheduledTime: now,
      } as const;
      const id = await insertRun(db, run, now);
      expect(id).toMatch(/^run_/);
      expect(await insertRun(db, run, now)).toBeUndefined();
      expect(await claimRun(db, org.id, id!, now)).toBe(true);
      expect(await claimRun(db, org.id, id!, now)).toBe(false);
      expect(await getRun(db, org.id, id!)).toMatchObject({ status: 'running', attempts: 1 });
      close();
    });

    it("runs the Worker's token store: scopes, rotation, and the last-manager guard (json_each)", async () => {
      const { db, close } = await open(temp());
      const now = new Date('2026-12-01T00:00:00Z');
      const org = await createOrganization(db, 'Acme', now);
      expect(await callerOf(db, await hashToken(org.token))).toMatchObject({ orgId: org.id, scopes: ['all'] });
      expect(await revokeToken(db, org.id, org.tokenId, now)).toBe('last manager');
      const reader = await createToken(db, org.id, { name: 'reader', scopes: ['runs:read'] }, now);
      expect(await createToken(db, org.id, { name: 'reader', scopes: ['ingest'] }, now)).toEqual({ refused: 'name taken' });
      const manager = await createToken(db, org.id, { name: 'manager', scopes: ['tokens:manage'] }, now);
      if (!('token' in reader) || !('token' in manager)) throw new Error('tokens were refused');
      const rotated = await rotateToken(db, org.id, reader.token.id, now);
      expect(await callerOf(db, await hashToken(reader.token.secret))).toBeUndefined();
      expect(await callerOf(db, await hashToken(rotated!.secret))).toMatchObject({ scopes: ['runs:read'] });
      expect(await revokeToken(db, org.id, org.tokenId, now)).toBe('revoked');
      expect(await revokeToken(db, org.id, manager.token.id, now)).toBe('last manager');
      expect(await revokeToken(db, org.id, reader.token.id, now)).toBe('revoked');
      expect((await listTokens(db, org.id)).map((t) => t.name)).toEqual(['manager']);
      close();
    });
  });
}
