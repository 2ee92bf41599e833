/**
 * The profiles of the audiences bench (bench/audiences.ts) and what an export of them must hold,
 * computed independently by DuckDB from the same files.
 *
 * N profiles as NDJSON, as `POST /v1/profiles` takes them: 9 mapped fields, about 30 % gold, and
 * 15 % of the emails shared by two profiles (for the dedup export). Then three change files: 2 % of
 * the profiles change (half move in or out of gold, half change their score) and N/200 new profiles
 * arrive. Everything is derived from the profile's index, so a file is the same on every machine.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export const CHANGES = 3;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const FIRST = ['Ana', 'Ben', 'Chloé', 'Dmitri', 'Eva', 'Farid', 'Gül', 'Hana', 'Ivo', 'Jun', 'Kofi', 'Lena'];
const LAST = ['Meyer', 'Nakamura', "O'Brien", 'Petrov', 'Quint', 'Rossi', 'Silva', 'Tanaka', 'Usman', 'Vidal'];
const COUNTRY = ['FR', 'DE', 'ES', 'IT', 'GB', 'US', 'BR', 'JP', 'IN', 'NG'];
const CITY = ['Paris', 'Berlin', 'Madrid', 'Rome', 'London', 'New York, NY', 'São Paulo', 'Tokyo', 'Mumbai', 'Lagos'];

/** A 32-bit mix of the index and a salt (deterministic, well spread). */
function h(i: number, salt: number): number {
  let x = Math.imul(i ^ Math.imul(salt, 0x9e3779b1), 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export interface Profile {
  id: string;
  identities: { email: string[] };
  attributes: { firstName: string; lastName: string; country: string; city: string; tier: string; score: number; totalSpend: number };
  updatedAt: string;
}

/** Profiles sharing an email: index i and i + emails (for i < n - emails). */
const emailsOf = (n: number) => Math.floor(n * 0.85);

export function base(i: number, n: number): Profile {
  return {
    id: `p${String(i).padStart(8, '0')}`,
    identities: { email: [`u${i % emailsOf(n)}@example.com`] },
    attributes: {
      firstName: FIRST[h(i, 5) % FIRST.length]!,
      lastName: LAST[h(i, 6) % LAST.length]!,
      country: COUNTRY[h(i, 7) % COUNTRY.length]!,
      city: CITY[h(i, 8) % CITY.length]!,
      tier: h(i, 1) % 10 < 3 ? 'gold' : 'silver',
      score: h(i, 2) % 1000,
      totalSpend: (h(i, 3) % 1_000_000) / 100,
    },
    updatedAt: new Date(T0 + (h(i, 4) % DAY)).toISOString(),
  };
}

/** New profiles of change k: indexes n + (k-1)·n/200 … */
const added = (n: number) => Math.floor(n / 200);

/** Whether change k touches profile i (2 %), and how: flips gold/silver, or changes the score. */
function changes(i: number, k: number): 'flip' | 'score' | undefined {
  if (h(i, 100 + k) % 100 >= 2) return undefined;
  return h(i, 200 + k) % 2 === 0 ? 'flip' : 'score';
}

function changed(p: Profile, how: 'flip' | 'score', k: number): Profile {
  const attributes = { ...p.attributes };
  if (how === 'flip') attributes.tier = attributes.tier === 'gold' ? 'silver' : 'gold';
  else attributes.score = (attributes.score + 7 * k) % 1000;
  return { ...p, attributes, updatedAt: new Date(T0 + k * DAY + (h(Number(p.id.slice(1)), 9) % DAY)).toISOString() };
}

export interface ProfileFiles {
  base: string;
  /** changes[k-1]: the profiles that change k adds or modifies. */
  changes: string[];
}

export async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const temp = `${path}.partial`;
  const out = createWriteStream(temp);
  let buffered: string[] = [];
  for (const line of lines) {
    buffered.push(line);
    if (buffered.length === 2000) {
      if (!out.write(`${buffered.join('\n')}\n`)) await once(out, 'drain');
      buffered = [];
    }
  }
  if (buffered.length > 0) out.write(`${buffered.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
  renameSync(temp, path);
}

/** Writes (once; kept under `dir`) the profile file of n profiles and its three change files. */
export async function profileFiles(dir: string, n: number): Promise<ProfileFiles> {
  mkdirSync(dir, { recursive: true });
  const files = { base: join(dir, `profiles-${n}.ndjson`), changes: [1, 2, 3].map((k) => join(dir, `profiles-${n}-change${k}.ndjson`)) };
  if (!existsSync(files.base)) {
    await writeLines(files.base, (function* () {
      for (let i = 0; i < n; i++) yield JSON.stringify(base(i, n));
    })());
  }
  for (let k = 1; k <= CHANGES; k++) {
    if (existsSync(files.changes[k - 1]!)) continue;
    await writeLines(files.changes[k - 1]!, (function* () {
      const total = n + (k - 1) * added(n);
      for (let i = 0; i < total; i++) {
        if (changes(i, k) === undefined) continue;
        // The profile as changes 1…k-1 left it, then change k.
        let p = base(i, n);
        for (let j = 1; j < k; j++) {
          const how = changes(i, j);
          if (how && (i < n || i < n + (j - 1) * added(n))) p = changed(p, how, j);
        }
        yield JSON.stringify(changed(p, changes(i, k)!, k));
      }
      for (let m = 0; m < added(n); m++) {
        const p = base(total + m, n);
        yield JSON.stringify({ ...p, updatedAt: new Date(T0 + k * DAY).toISOString() });
      }
    })());
  }
  return files;
}

/** Columns and types of the profile files for DuckDB's read_json. */
const COLUMNS = `{id: 'VARCHAR', identities: 'STRUCT(email VARCHAR[])', attributes: 'STRUCT(firstName VARCHAR, lastName VARCHAR, country VARCHAR, city VARCHAR, tier VARCHAR, score BIGINT, totalSpend DOUBLE)', updatedAt: 'VARCHAR'}`;

/** The expected export contents, from DuckDB over the profile files. */
export interface Expected {
  /** Members (gold) after `version` changes: `id|email|score`. */
  members(version: number): Promise<Set<string>>;
  /** The dedup export after `version` changes: one `email|id` per email of a gold profile (latest update, then smallest id). */
  winners(version: number): Promise<Set<string>>;
  /** The dedup winners by partition: `value|…|email|id`, the values of `columns` first. */
  winnersBy(columns: readonly string[], version: number): Promise<Set<string>>;
  /** The number of dedup winners per partition (`value|…`), DuckDB's `GROUP BY` of the columns. */
  winnerCounts(columns: readonly string[], version: number): Promise<Map<string, number>>;
  /** What an incremental run after change k exports: `id|realized` (joined or changed) and `id|exited`. */
  delta(k: number): Promise<Set<string>>;
  close(): void;
}

export async function expected(files: ProfileFiles): Promise<Expected> {
  const duck: DuckDBConnection = await (await DuckDBInstance.create(':memory:')).connect();
  const sources = [files.base, ...files.changes].map(
    (f, v) => `SELECT *, ${v} AS v FROM read_json('${f}', format = 'newline_delimited', columns = ${COLUMNS})`,
  );
  await duck.run(`CREATE TABLE p AS
    SELECT id, identities.email[1] AS email, attributes.firstName AS firstName, attributes.lastName AS lastName,
      attributes.country AS country, attributes.city AS city, attributes.tier AS tier, attributes.score AS score,
      attributes.totalSpend AS totalSpend, updatedAt, v FROM (${sources.join(' UNION ALL ')})`);
  /** Profiles as they stand after `version` changes: each id's latest row. */
  const at = (version: number) =>
    `(SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY v DESC) AS rn FROM p WHERE v <= ${version}) WHERE rn = 1)`;
  const set = async (sql: string) => new Set((await duck.runAndReadAll(sql)).getRows().map((r) => String(r[0])));
  const winners = (version: number) =>
    `(SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY email ORDER BY updatedAt DESC, id) AS rn FROM ${at(version)} WHERE tier = 'gold') WHERE rn = 1)`;
  const partition = (columns: readonly string[]) => columns.map((c) => `coalesce(CAST("${c}" AS VARCHAR), '')`).join(` || '|' || `);
  return {
    members: (version) => set(`SELECT id || '|' || email || '|' || score FROM ${at(version)} WHERE tier = 'gold'`),
    winners: (version) => set(`SELECT email || '|' || id FROM ${winners(version)}`),
    winnersBy: (columns, version) => set(`SELECT ${partition(columns)} || '|' || email || '|' || id FROM ${winners(version)}`),
    winnerCounts: async (columns, version) =>
      new Map(
        (await duck.runAndReadAll(`SELECT ${partition(columns)}, count(*) FROM ${winners(version)} GROUP BY ${columns.map((c) => `"${c}"`).join(', ')}`))
          .getRows()
          .map((r) => [String(r[0]), Number(r[1])]),
      ),
    delta: (k) =>
      set(`WITH a AS (SELECT * FROM ${at(k - 1)} WHERE tier = 'gold'), b AS (SELECT * FROM ${at(k)} WHERE tier = 'gold')
        SELECT b.id || '|realized' FROM b LEFT JOIN a USING (id)
          WHERE a.id IS NULL OR (a.email, a.firstName, a.lastName, a.country, a.city, a.score, a.totalSpend)
            IS DISTINCT FROM (b.email, b.firstName, b.lastName, b.country, b.city, b.score, b.totalSpend)
        UNION ALL SELECT a.id || '|exited' FROM a LEFT JOIN b USING (id) WHERE b.id IS NULL`),
    close: () => duck.closeSync(),
  };
}

/** Rows of exported files (downloaded to local paths) as DuckDB reads them, every value as text. */
export async function exportedRows(paths: readonly string[], format: 'csv' | 'parquet', hive = false): Promise<Record<string, string | null>[]> {
  if (paths.length === 0) return [];
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    const list = paths.map((p) => `'${p}'`).join(', ');
    // hive: the partition columns come back from the folder names (`country=FR/…`), as text.
    const partitioned = hive ? ', hive_partitioning = true, hive_types_autocast = false' : '';
    const read = format === 'csv' ? `read_csv([${list}], header = true, all_varchar = true${partitioned})` : `read_parquet([${list}]${partitioned})`;
    const result = await duck.runAndReadAll(`SELECT * FROM ${read}`);
    return result.getRowObjectsJson().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])));
  } finally {
    duck.closeSync();
  }
}
