/**
 * The benchmark's rows: 10 mixed columns, generated deterministically from the row index, so the
 * JavaScript side and DuckDB's SQL (`duckdbRowsSql`) produce the same values.
 */
import type { Row, Schema } from '../src/core/types.ts';

export const COUNTRIES = ['FR', 'DE', 'US', 'GB', 'ES'] as const;
const BASE = Date.UTC(2026, 0, 1);

/** int, string, email, country, double, int, bool, timestamp, string with quotes/commas, nullable string. */
export const benchSchema: Schema = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'name', type: 'string' },
  { name: 'email', type: 'string' },
  { name: 'country', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'orders', type: 'integer' },
  { name: 'vip', type: 'boolean' },
  { name: 'last_seen', type: 'timestamp' },
  { name: 'address', type: 'string' },
  { name: 'note', type: 'string' },
];

/** Row `i` of the data set. */
export function benchRow(i: number): Row {
  return {
    id: i,
    name: `Name ${i % 1000}`,
    email: `user${i}@example.com`,
    country: COUNTRIES[i % 5],
    score: i * 0.37,
    orders: i % 40,
    vip: i % 5 === 0,
    last_seen: new Date(BASE + i * 1000),
    address: `${i % 97} rue "Centrale", Paris`,
    note: i % 7 === 0 ? null : `note ${i % 13}`,
  };
}

/** Rows 0 … n-1, one object at a time (constant memory). */
export function* benchRows(n: number): Generator<Row> {
  for (let i = 0; i < n; i++) yield benchRow(i);
}

/** The same rows as a DuckDB query. */
export function duckdbRowsSql(n: number): string {
  return `SELECT i::BIGINT AS id, 'Name ' || (i % 1000) AS name, 'user' || i || '@example.com' AS email,
    ['FR','DE','US','GB','ES'][(i % 5) + 1] AS country, (i * 0.37)::DOUBLE AS score, (i % 40)::BIGINT AS orders,
    i % 5 = 0 AS vip, TIMESTAMP '2026-01-01 00:00:00' + to_seconds(i) AS last_seen,
    (i % 97) || ' rue "Centrale", Paris' AS address,
    CASE WHEN i % 7 = 0 THEN NULL ELSE 'note ' || (i % 13) END AS note
    FROM range(${n}) t(i)`;
}
