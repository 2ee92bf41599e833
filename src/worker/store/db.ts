/** Small D1 helpers shared by the store modules. */
import type { D1Database } from '../env.ts';

/** A random, URL-safe id with a readable prefix: `dst_3f9c…`. */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replace(/-/g, '')}`;
}

/** All rows of a query. */
export async function all<T>(db: D1Database, sql: string, ...params: unknown[]): Promise<T[]> {
  return (
    await db
      .prepare(sql)
      .bind(...params)
      .all<T>()
  ).results;
}

/** The first row of a query, or undefined. */
export async function first<T>(db: D1Database, sql: string, ...params: unknown[]): Promise<T | undefined> {
  return (
    (await db
      .prepare(sql)
      .bind(...params)
      .first<T>()) ?? undefined
  );
}

/** Runs a statement and returns how many rows it changed (0 for an ignored INSERT OR IGNORE). */
export async function run(db: D1Database, sql: string, ...params: unknown[]): Promise<number> {
  return (
    await db
      .prepare(sql)
      .bind(...params)
      .run()
  ).meta.changes;
}

/** JSON column → value; a NULL column stays undefined. */
export function json<T>(text: string | null | undefined): T | undefined {
  return text === null || text === undefined ? undefined : (JSON.parse(text) as T);
}
