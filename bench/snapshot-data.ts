/**
 * The snapshot of the snapshot bench (bench/snapshot.ts): N profiles as Parquet, written by DuckDB
 * in several files with row groups of ~100k rows, flat as a warehouse writes them (`id`,
 * `updatedAt`, `identities.email`, then attribute columns), and what an export of the bench's
 * audience must hold, computed by DuckDB from the same files.
 *
 * Besides the columns the audience uses (tier, score for the rule; email, country, score for the
 * mapping; email and updatedAt for dedup), each row carries wide text columns no audience names
 * (`bio`, `address`, `notes`, `lastSeen`): a reader that fetches only the projected column chunks
 * reads a fraction of the file bytes. 15 % of the emails are shared by two profiles (dedup).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';


/** The audience: gold profiles with a score of at least 500 (about 15 %). */
export const RULE = 'attributes.tier = "gold" and attributes.score >= 500';
/** The same condition over the snapshot's columns, for DuckDB. */
const WHERE = `tier = 'gold' AND score >= 500`;

export const MAPPING = {
  fields: [
    { source: 'id' },
    { source: 'identities.email', target: 'email' },
    { source: 'attributes.country', target: 'country' },
    { source: 'attributes.score', target: 'score', type: 'integer' },
  ],
};
/** The columns an export of the audience needs (rule, mapping, dedup, profile id and time). */
export const PROJECTED = ['id', 'updatedAt', 'identities.email', 'tier', 'score', 'country'];

export interface SnapshotFiles {
  /** The folder holding the files (part-000.parquet …). */
  dir: string;
  /** File names, in key order. */
  names: string[];
  /** Bytes of every file together. */
  bytes: number;
  rows: number;
}

/**
 * Writes (once; kept under `dir/snapshot-<rows>-<files>-<rowGroup>`) `rows` profiles as `files`
 * Parquet files with row groups of `rowGroup` rows (DuckDB's ROW_GROUP_SIZE). Profile i's values come
 * from DuckDB's hash of i, so the files are the same on every run.
 */
export async function snapshotFiles(dir: string, rows: number, files: number, rowGroup = 100_000): Promise<SnapshotFiles> {
  const folder = join(dir, `snapshot-${rows}-${files}-${rowGroup}`);
  if (!existsSync(join(folder, 'done'))) {
    rmSync(folder, { recursive: true, force: true });
    const temp = `${folder}.partial`;
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:');
    const duck = await instance.connect();
    try {
      const emails = Math.floor(rows * 0.85);
      const per = Math.ceil(rows / files);
      for (let f = 0; f < files; f++) {
        const from = f * per;
        const to = Math.min(rows, from + per);
        await duck.run(`COPY (
          SELECT
            'p' || lpad(i::VARCHAR, 9, '0') AS id,
            TIMESTAMP '2026-06-01 00:00:00' + to_milliseconds((hash(i, 4) % 86400000)::BIGINT) AS updatedAt,
            'u' || (i % ${emails}) || '@example.com' AS "identities.email",
            (['FR', 'DE', 'ES', 'IT', 'GB', 'US', 'BR', 'JP', 'IN', 'NG'])[1 + (hash(i, 7) % 10)::INTEGER] AS country,
            CASE WHEN hash(i, 1) % 10 < 3 THEN 'gold' ELSE 'silver' END AS tier,
            (hash(i, 2) % 1000)::INTEGER AS score,
            TIMESTAMP '2026-01-01 00:00:00' + to_milliseconds((hash(i, 5) % 15552000000)::BIGINT) AS lastSeen,
            md5(i::VARCHAR) || ' ' || md5((i + 1)::VARCHAR) AS bio,
            (hash(i, 6) % 9999)::VARCHAR || ' rue ' || md5((i * 7)::VARCHAR) AS address,
            md5((i * 13)::VARCHAR) || md5((i * 17)::VARCHAR) AS notes
          FROM range(${from}, ${to}) AS t(i)
          ORDER BY i
        ) TO '${join(temp, `part-${String(f).padStart(3, '0')}.parquet`)}' (FORMAT parquet, ROW_GROUP_SIZE ${rowGroup})`);
      }
    } finally {
      duck.closeSync();
      instance.closeSync();
    }
    renameSync(temp, folder);
    mkdirSync(join(folder, 'done'));
  }
  const names = readdirSync(folder)
    .filter((n) => n.endsWith('.parquet'))
    .sort();
  const bytes = names.reduce((sum, n) => sum + statSync(join(folder, n)).size, 0);
  return { dir: folder, names, bytes, rows };
}

/** What the exports must hold, from DuckDB's `read_parquet` over the snapshot's files. */
export interface SnapshotExpected {
  /** Members of the audience: `id|email|country|score`. */
  members: Set<string>;
  /** The dedup export: one `email|id` per email of a member (latest updatedAt, then smallest id). */
  winners: Set<string>;
  /** Row groups per file, from DuckDB's `parquet_metadata`. */
  rowGroups: number[];
}

export async function snapshotExpected(files: SnapshotFiles): Promise<SnapshotExpected> {
  const instance = await DuckDBInstance.create(':memory:');
  const duck: DuckDBConnection = await instance.connect();
  try {
    const list = files.names.map((n) => `'${join(files.dir, n)}'`).join(', ');
    const scan = `read_parquet([${list}])`;
    const set = async (sql: string) => new Set((await duck.runAndReadAll(sql)).getRows().map((r) => String(r[0])));
    const members = await set(
      `SELECT id || '|' || "identities.email" || '|' || country || '|' || score FROM ${scan} WHERE ${WHERE}`,
    );
    const winners = await set(`SELECT "identities.email" || '|' || id FROM (
      SELECT *, row_number() OVER (PARTITION BY "identities.email" ORDER BY updatedAt DESC, id) AS rn
      FROM ${scan} WHERE ${WHERE}) WHERE rn = 1`);
    const groups = (
      await duck.runAndReadAll(
        `SELECT file_name, count(DISTINCT row_group_id) FROM parquet_metadata([${list}]) GROUP BY file_name ORDER BY file_name`,
      )
    ).getRows();
    return { members, winners, rowGroups: groups.map((g) => Number(g[1])) };
  } finally {
    duck.closeSync();
    instance.closeSync();
  }
}
