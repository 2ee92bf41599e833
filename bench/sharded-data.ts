/**
 * The profiles of the sharded bench (bench/sharded.ts) and what an export of them must hold, computed
 * independently by DuckDB.
 *
 * N profiles as NDJSON, as `POST /v1/profiles` takes them: bench/audiences-data.ts's profiles (each
 * derived from its index alone: ~30 % gold, scores 0–999, 15 % of the emails shared by two profiles),
 * so a file is the same on every machine. DuckDB reads the NDJSON once and writes it as Parquet (the
 * same profiles flat, one column per field): the reference answers are computed from the Parquet file
 * by DuckDB's own SQL, never by edge-export's code.
 *
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { base, writeLines } from './audiences-data.ts';

/** The snapshot bench's audience and mapping (bench/snapshot-data.ts), over the same attribute names. */
export { MAPPING, RULE } from './snapshot-data.ts';
/** RULE over the Parquet file's columns, for DuckDB. */
const WHERE = `tier = 'gold' AND score >= 500`;

export interface ShardedFiles {
  /** The profiles as NDJSON (what ingest posts). */
  ndjson: string;
  /** The same profiles as Parquet, written by DuckDB from the NDJSON (what DuckDB answers from). */
  parquet: string;
  profiles: number;
  ndjsonBytes: number;
}

/** Columns and types of the NDJSON for DuckDB's read_json. */
const COLUMNS = `{id: 'VARCHAR', identities: 'STRUCT(email VARCHAR[])', attributes: 'STRUCT(firstName VARCHAR, lastName VARCHAR, country VARCHAR, city VARCHAR, tier VARCHAR, score BIGINT, totalSpend DOUBLE)', updatedAt: 'VARCHAR'}`;

/** Writes (once; kept under `dir`) n profiles as NDJSON, and DuckDB's Parquet copy of them. */
export async function shardedFiles(dir: string, n: number): Promise<ShardedFiles> {
  mkdirSync(dir, { recursive: true });
  const ndjson = join(dir, `sharded-${n}.ndjson`);
  const parquet = join(dir, `sharded-${n}.parquet`);
  if (!existsSync(ndjson)) {
    await writeLines(ndjson, (function* () {
      for (let i = 0; i < n; i++) yield JSON.stringify(base(i, n));
    })());
  }
  if (!existsSync(parquet)) {
    const temp = `${parquet}.partial`;
    rmSync(temp, { force: true });
    await withDuck(async (duck) => {
      await duck.run(`COPY (
        SELECT id, identities.email[1] AS email, attributes.country AS country, attributes.tier AS tier,
          attributes.score AS score, updatedAt
        FROM read_json('${ndjson}', format = 'newline_delimited', columns = ${COLUMNS})
      ) TO '${temp}' (FORMAT parquet)`);
    });
    renameSync(temp, parquet);
  }
  return { ndjson, parquet, profiles: n, ndjsonBytes: statSync(ndjson).size };
}

/** What the exports must hold, from DuckDB over the Parquet file. */
export interface ShardedExpected {
  /** Members of the audience: `id|email|country|score`. */
  members: Set<string>;
  /** The dedup export: one `email|id` per email of a member (latest updatedAt, then smallest id). */
  winners: Set<string>;
  /** Profiles in the file (DuckDB's count: the ingest must have stored as many). */
  profiles: number;
}

export async function shardedExpected(files: ShardedFiles): Promise<ShardedExpected> {
  return withDuck(async (duck) => {
    const scan = `read_parquet('${files.parquet}')`;
    const set = async (sql: string) => new Set((await duck.runAndReadAll(sql)).getRows().map((r) => String(r[0])));
    const members = await set(`SELECT id || '|' || email || '|' || country || '|' || score FROM ${scan} WHERE ${WHERE}`);
    const winners = await set(`SELECT email || '|' || id FROM (
      SELECT *, row_number() OVER (PARTITION BY email ORDER BY updatedAt DESC, id) AS rn
      FROM ${scan} WHERE ${WHERE}) WHERE rn = 1`);
    const profiles = Number((await duck.runAndReadAll(`SELECT count(*) FROM ${scan}`)).getRows()[0]![0]);
    return { members, winners, profiles };
  });
}

async function withDuck<T>(body: (duck: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  try {
    return await body(duck);
  } finally {
    duck.closeSync();
    instance.closeSync();
  }
}
