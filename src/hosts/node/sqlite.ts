/**
 * The Node host's database: better-sqlite3 (synchronous, in-process) behind the D1 adapter, with
 * migrations/*.sql applied at open. WAL journal so the API stays readable while an export writes.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { applyMigrations, migrationFiles } from '../migrations.ts';
import { ShardFiles } from '../shard-files.ts';
import { cachedPrepare, type SqlValue, SqliteD1, type SqliteDriver } from '../sqlite-d1.ts';

interface BetterStatement {
  readonly reader: boolean;
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
}
interface BetterDatabase {
  prepare(sql: string): BetterStatement;
  exec(sql: string): void;
  pragma(text: string): unknown;
  close(): void;
}
type BetterSqlite = new (path: string) => BetterDatabase;

/** Why the Node host cannot start without better-sqlite3, and what to do instead: one line. */
export const MISSING_SQLITE =
  'The Node host needs better-sqlite3, an optional dependency that is not installed (with no prebuilt binary for this platform it compiles from source, which needs a C/C++ toolchain): install one and run `npm install` again, or use `npm start`, `npm run dev` or `npm run host:deno`, which do not need it.';

/**
 * Loads better-sqlite3 when the Node host opens its database, not at import: it is an optional
 * dependency (a fresh `npm install` without a compiler skips it), and nothing else needs it.
 */
export function loadBetterSqlite(
  load: (id: string) => unknown = createRequire(import.meta.url),
): BetterSqlite {
  try {
    return load('better-sqlite3') as BetterSqlite;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // MODULE_NOT_FOUND: not installed; the `bindings` lookup: installed, but its native build is missing.
    if (code === 'MODULE_NOT_FOUND' || /Could not locate the bindings file/.test(String(error))) {
      throw new Error(MISSING_SQLITE, { cause: error });
    }
    throw error;
  }
}

/**
 * better-sqlite3 as the adapter's driver; blobs go in as Buffers, which is what it binds. With
 * `cacheStatements`, each distinct SQL text is prepared once (for a fixed set of statements, as a
 * shard's store runs: never for SQL built per call).
 */
export function betterSqliteDriver(db: BetterDatabase, options: { cacheStatements?: boolean } = {}): SqliteDriver {
  const bind = (params: readonly SqlValue[]) =>
    params.map((p) => (p instanceof Uint8Array ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
  const prepare = options.cacheStatements ? cachedPrepare((sql) => db.prepare(sql)) : (sql: string) => db.prepare(sql);
  return {
    execute(sql, params) {
      const statement = prepare(sql);
      if (statement.reader) return { rows: statement.all(...bind(params)), changes: 0, lastRowId: 0 };
      const info = statement.run(...bind(params));
      return { rows: [], changes: info.changes, lastRowId: Number(info.lastInsertRowid) };
    },
    exec: (sql) => db.exec(sql),
  };
}

/** Opens (or creates) the SQLite file at `path` and brings its schema up to date. */
export async function openNodeDatabase(
  path: string,
  migrationsDir: string,
  options: { maxValueBytes?: number } = {},
): Promise<{ db: SqliteD1; applied: string[]; close(): void }> {
  const Database = loadBetterSqlite();
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const db = new SqliteD1(betterSqliteDriver(raw), options.maxValueBytes);
  const migrations = migrationFiles(readdirSync(migrationsDir)).map((name) => ({
    name,
    sql: readFileSync(join(migrationsDir, name), 'utf8'),
  }));
  const applied = await applyMigrations(db, migrations);
  return { db, applied, close: () => raw.close() };
}

/** The Node host's shards: a SQLite file per shard under `dir` (created), opened on first use (shard-files.ts). */
export function nodeShardFiles(dir: string): ShardFiles {
  const Database = loadBetterSqlite();
  mkdirSync(dir, { recursive: true });
  return new ShardFiles(dir, (path) => {
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 5000');
    return { db: new SqliteD1(betterSqliteDriver(raw, { cacheStatements: true })), close: () => raw.close() };
  });
}
