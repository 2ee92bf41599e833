/**
 * The Deno host's database: Deno's built-in `node:sqlite` (DatabaseSync) behind the same D1 adapter
 * as Node's, with migrations/*.sql applied at open.
 */
import { applyMigrations, migrationFiles } from '../migrations.ts';
import { ShardFiles } from '../shard-files.ts';
import { cachedPrepare, SqliteD1, type SqliteDriver } from '../sqlite-d1.ts';

interface SyncStatement {
  columns(): unknown[];
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
}
interface DatabaseSync {
  prepare(sql: string): SyncStatement;
  exec(sql: string): void;
  close(): void;
}
declare const Deno: {
  mkdirSync(path: string, options: { recursive: boolean }): void;
  readDirSync(path: string): Iterable<{ name: string; isFile: boolean }>;
  readTextFileSync(path: string): string;
};

/**
 * node:sqlite as the adapter's driver: a statement with result columns is read, any other is run.
 * `cacheStatements`: each distinct SQL text prepared once (see cachedPrepare).
 */
export function nodeSqliteDriver(db: DatabaseSync, options: { cacheStatements?: boolean } = {}): SqliteDriver {
  const prepare = options.cacheStatements ? cachedPrepare((sql) => db.prepare(sql)) : (sql: string) => db.prepare(sql);
  return {
    execute(sql, params) {
      const statement = prepare(sql);
      if (statement.columns().length > 0) return { rows: statement.all(...params), changes: 0, lastRowId: 0 };
      const info = statement.run(...params);
      return { rows: [], changes: Number(info.changes), lastRowId: Number(info.lastInsertRowid) };
    },
    exec: (sql) => db.exec(sql),
  };
}

/** Opens (or creates) the SQLite file at `path` and brings its schema up to date. */
export async function openDenoDatabase(
  path: string,
  migrationsDir: string,
  options: { maxValueBytes?: number } = {},
): Promise<{ db: SqliteD1; applied: string[]; close(): void }> {
  const DatabaseSync = await loadDatabaseSync();
  const raw = new DatabaseSync(path);
  raw.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  const db = new SqliteD1(nodeSqliteDriver(raw), options.maxValueBytes);
  const names = [...Deno.readDirSync(migrationsDir)].filter((e) => e.isFile).map((e) => e.name);
  const migrations = migrationFiles(names).map((name) => ({
    name,
    sql: Deno.readTextFileSync(`${migrationsDir}/${name}`),
  }));
  const applied = await applyMigrations(db, migrations);
  return { db, applied, close: () => raw.close() };
}

/** Deno's built-in SQLite; a computed specifier: @types/node 20 has no node:sqlite, Deno 2.9 has it built in. */
async function loadDatabaseSync(): Promise<new (path: string) => DatabaseSync> {
  const specifier = 'node:sqlite';
  return ((await import(specifier)) as { DatabaseSync: new (path: string) => DatabaseSync }).DatabaseSync;
}

/** The Deno host's shards: a SQLite file per shard under `dir` (created), opened on first use (shard-files.ts). */
export async function denoShardFiles(dir: string): Promise<ShardFiles> {
  const DatabaseSync = await loadDatabaseSync();
  Deno.mkdirSync(dir, { recursive: true });
  return new ShardFiles(dir, (path) => {
    const raw = new DatabaseSync(path);
    raw.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;');
    return { db: new SqliteD1(nodeSqliteDriver(raw, { cacheStatements: true })), close: () => raw.close() };
  });
}
