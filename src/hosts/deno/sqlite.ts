/**
 * The Deno host's database: Deno's built-in `node:sqlite` (DatabaseSync) behind the same D1 adapter
 * as Node's, with migrations/*.sql applied at open.
 */
import { applyMigrations, migrationFiles } from '../migrations.ts';
import { SqliteD1, type SqliteDriver } from '../sqlite-d1.ts';

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
  readDirSync(path: string): Iterable<{ name: string; isFile: boolean }>;
  readTextFileSync(path: string): string;
};

/** node:sqlite as the adapter's driver: a statement with result columns is read, any other is run. */
export function nodeSqliteDriver(db: DatabaseSync): SqliteDriver {
  return {
    execute(sql, params) {
      const statement = db.prepare(sql);
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
  // A computed specifier: @types/node 20 has no node:sqlite, Deno 2.9 has it built in.
  const specifier = 'node:sqlite';
  const { DatabaseSync } = (await import(specifier)) as { DatabaseSync: new (path: string) => DatabaseSync };
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
