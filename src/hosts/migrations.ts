/**
 * Applies migrations/*.sql at host start-up, in name order, each once: applied names are kept in
 * `d1_migrations`, the table (and columns) wrangler uses for D1, so a database migrated by either
 * tool looks the same. Each migration and its record commit together or not at all.
 */
import type { SqliteD1 } from './sqlite-d1.ts';

export interface Migration {
  /** File name, e.g. `0001_init.sql`; the order of names is the order of application. */
  readonly name: string;
  readonly sql: string;
}

const TABLE = `CREATE TABLE IF NOT EXISTS d1_migrations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;

/** Applies the migrations not yet recorded; returns the names applied now. */
export async function applyMigrations(db: SqliteD1, migrations: readonly Migration[]): Promise<string[]> {
  await db.exec(TABLE);
  const done = new Set(
    (await db.prepare('SELECT name FROM d1_migrations').all<{ name: string }>()).results.map((r) => r.name),
  );
  const applied: string[] = [];
  for (const migration of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
    if (done.has(migration.name)) continue;
    db.transaction(() => {
      // exec, not prepare: a migration file holds many statements.
      db.execSync(migration.sql);
      db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').bind(migration.name).result();
    });
    applied.push(migration.name);
  }
  return applied;
}

/** Keeps the `*.sql` files of a directory listing, in application order. */
export function migrationFiles(names: readonly string[]): string[] {
  return names.filter((name) => name.endsWith('.sql')).sort((a, b) => a.localeCompare(b));
}
