/**
 * A D1-compatible database over any synchronous SQLite driver (better-sqlite3 on Node, node:sqlite on
 * Deno), so the Worker's store modules run unchanged on single-process hosts. Mirrors D1's surface:
 * `prepare(sql).bind(...).first()/all()/run()/raw()`, `batch([...])` (one transaction) and `exec`.
 * Runtime-agnostic: the driver is injected.
 */
import type { D1Database, D1PreparedStatement, D1Result } from '../worker/env.ts';

export type SqlValue = string | number | bigint | null | Uint8Array;

/** What each runtime's SQLite binding provides, reduced to two calls. */
export interface SqliteDriver {
  /** Runs one statement: its rows when it returns any (SELECT, RETURNING), its change count otherwise. */
  execute(sql: string, params: readonly SqlValue[]): SqliteOutcome;
  /** Runs a script of several statements (migrations, BEGIN/COMMIT). */
  exec(sql: string): void;
}

/**
 * A driver's `prepare` remembering what it prepared, by SQL text: for a fixed set of statements (a
 * shard's store), never for SQL built per call.
 */
export function cachedPrepare<S>(prepare: (sql: string) => S): (sql: string) => S {
  const statements = new Map<string, S>();
  return (sql) => {
    const known = statements.get(sql);
    if (known !== undefined) return known;
    const statement = prepare(sql);
    statements.set(sql, statement);
    return statement;
  };
}

export interface SqliteOutcome {
  readonly rows: Record<string, unknown>[];
  readonly changes: number;
  readonly lastRowId: number;
}

/** D1's result meta, with the fields hosts can fill. */
interface Meta {
  changes: number;
  last_row_id: number;
  duration: number;
  rows_read: number;
  rows_written: number;
  changed_db: boolean;
}

/** A D1 statement: immutable, `bind` returns a new one, like D1's. */
export class SqliteStatement implements D1PreparedStatement {
  constructor(
    private readonly driver: SqliteDriver,
    readonly sql: string,
    readonly params: readonly SqlValue[] = [],
    private readonly maxValueBytes = D1_MAX_VALUE_BYTES,
  ) {}

  bind(...values: unknown[]): SqliteStatement {
    const params = values.map(toSqlValue);
    for (const value of params) checkSize(value, this.maxValueBytes);
    return new SqliteStatement(this.driver, this.sql, params, this.maxValueBytes);
  }

  async first<T = Record<string, unknown>>(column?: string): Promise<T | null> {
    const row = this.execute().rows[0];
    if (row === undefined) return null;
    if (column === undefined) return row as T;
    if (!(column in row)) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${column})`);
    return row[column] as T;
  }

  async all<T = Record<string, unknown>>(): Promise<D1Result<T> & { success: true; meta: Meta }> {
    return this.result<T>();
  }

  async run(): Promise<D1Result<unknown> & { success: true; meta: Meta }> {
    return this.result<unknown>();
  }

  /** Rows as arrays; with `columnNames: true` the first array holds the column names. */
  async raw<T = unknown[]>(options: { columnNames?: boolean } = {}): Promise<T[]> {
    const { rows } = this.execute();
    const values = rows.map((row) => Object.values(row)) as T[];
    if (!options.columnNames) return values;
    return [Object.keys(rows[0] ?? {}) as T, ...values];
  }

  /** Runs the statement now (synchronously); used by `batch` inside its transaction. */
  result<T>(): D1Result<T> & { success: true; meta: Meta } {
    const started = performance.now();
    const outcome = this.execute();
    return {
      success: true,
      results: outcome.rows as T[],
      meta: {
        changes: outcome.changes,
        last_row_id: outcome.lastRowId,
        duration: performance.now() - started,
        rows_read: outcome.rows.length,
        rows_written: outcome.changes,
        changed_db: outcome.changes > 0,
      },
    };
  }

  private execute(): SqliteOutcome {
    return this.driver.execute(this.sql, this.params);
  }
}

/** D1 refuses a string, BLOB or row over 2,000,000 bytes (docs/LIMITS.md). */
export const D1_MAX_VALUE_BYTES = 2_000_000;

/** A value D1 would refuse as too big, refused the same way (SQLite's own limit is 1 GB). */
function checkSize(value: SqlValue, max: number): void {
  const bytes =
    typeof value === 'string' ? (value.length * 3 <= max ? 0 : new TextEncoder().encode(value).byteLength) : value instanceof Uint8Array ? value.byteLength : 0;
  if (bytes > max) {
    throw new Error(`D1_ERROR: string or blob too big: SQLITE_TOOBIG (${bytes} bytes; D1 allows ${max})`);
  }
}

/** D1's binding rules: booleans become 0/1, buffers become blobs, undefined is refused. */
function toSqlValue(value: unknown): SqlValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint')
    return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`D1_TYPE_ERROR: Type '${typeof value}' not supported for value '${String(value)}'`);
}

/** The D1Database a host hands to the Worker as `env.DB`. */
export class SqliteD1 implements D1Database {
  /** `maxValueBytes`: D1's value limit, applied to every bound value (tests set it lower). */
  constructor(
    private readonly driver: SqliteDriver,
    private readonly maxValueBytes = D1_MAX_VALUE_BYTES,
  ) {}

  prepare(query: string): SqliteStatement {
    return new SqliteStatement(this.driver, query, [], this.maxValueBytes);
  }

  /** Runs the statements in one transaction, as D1 does: all or nothing. */
  async batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return this.transaction(() =>
      statements.map((statement) => {
        if (!(statement instanceof SqliteStatement))
          throw new TypeError('batch() takes statements prepared by this database');
        return statement.result<T>();
      }),
    );
  }

  /** Runs a script of statements, like D1's exec; `count` is estimated from the `;` separators. */
  async exec(query: string): Promise<{ count: number; duration: number }> {
    const started = performance.now();
    this.execSync(query);
    const count = query.split(';').filter((part) => part.trim() !== '').length;
    return { count, duration: performance.now() - started };
  }

  /** `exec` without the promise, for use inside `transaction`. */
  execSync(query: string): void {
    this.driver.exec(query);
  }

  /**
   * Runs `body` inside BEGIN/COMMIT, rolling back on error. Synchronous on purpose: no other request
   * can interleave statements into the transaction on a single-threaded host.
   */
  transaction<R>(body: () => R): R {
    this.driver.exec('BEGIN IMMEDIATE');
    try {
      const result = body();
      this.driver.exec('COMMIT');
      return result;
    } catch (error) {
      this.driver.exec('ROLLBACK');
      throw error;
    }
  }
}
