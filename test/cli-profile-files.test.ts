/**
 * Issue 4: the CLI exports an audience defined by a rule over an NDJSON, a CSV and a Parquet profile
 * file, and all three give the same members.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';

let dir: string;
const COUNTRIES = ['FR', 'DE', 'US', 'JP'];
const profiles = Array.from({ length: 60 }, (_, i) => ({
  id: `p${String(i).padStart(3, '0')}`,
  email: `user${i}@example.com`,
  country: COUNTRIES[i % 4]!,
  totalSpend: i * 37.5,
  vip: i % 3 === 0,
}));
/** Members by the rule below, computed independently. */
const expected = profiles.filter((p) => ['FR', 'DE'].includes(p.country) && p.totalSpend > 500).map((p) => p.email);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-profiles-'));
  await writeFile(
    join(dir, 'profiles.ndjson'),
    profiles
      .map((p) =>
        JSON.stringify({
          id: p.id,
          identities: { email: [p.email] },
          attributes: { country: p.country, totalSpend: p.totalSpend, vip: p.vip },
          updatedAt: '2026-01-01T00:00:00Z',
        }),
      )
      .join('\n'),
  );
  // Flat files: `identities.<namespace>` columns, every other column an attribute.
  const header = 'id,identities.email,country,totalSpend,vip,updatedAt';
  const lines = profiles.map((p) => `${p.id},${p.email},${p.country},${p.totalSpend},${p.vip},2026-01-01T00:00:00Z`);
  await writeFile(join(dir, 'profiles.csv'), `${header}\n${lines.join('\n')}\n`);
  const db = await DuckDBInstance.create();
  const connection = await db.connect();
  await connection.run(
    `COPY (SELECT id, "identities.email", country, totalSpend::DOUBLE AS totalSpend, vip::BOOLEAN AS vip, updatedAt::VARCHAR AS updatedAt
       FROM read_csv('${join(dir, 'profiles.csv')}', header = true, all_varchar = true))
     TO '${join(dir, 'profiles.parquet')}' (FORMAT parquet)`,
  );
  connection.closeSync();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function exportFile(file: string, rule: string): Promise<string[]> {
  const name = file.replace('.', '-');
  const config = join(dir, `${name}.json`);
  await writeFile(
    config,
    JSON.stringify({
      plugins: { plugins: [{ use: 'format/csv' }, { use: 'sink/local', options: { directory: join(dir, 'out') } }] },
      destination: { id: 'd', name: 'local' },
      source: { path: file },
      audience: { id: name, name, rule },
      mapping: { fields: [{ source: 'identities.email', target: 'email' }] },
      output: { fileName: { dateTime: 'none' }, manifest: false },
    }),
  );
  let out = '';
  const io = {
    out: {
      write(s: string) {
        out += s;
        return true;
      },
    },
    err: { write: () => true },
  } as unknown as Parameters<typeof main>[1];
  expect(await main(['export', '--config', config], io)).toBe(0);
  const summary = JSON.parse(out);
  const text = await readFile(join(dir, 'out', summary.files[0].key), 'utf8');
  return text.trim().split('\n').slice(1);
}

describe('CLI audience over profile files', () => {
  it.each(['profiles.ndjson', 'profiles.parquet'])('%s: typed values, the rule selects the same members', async (file) => {
    expect(expected.length).toBeGreaterThan(5);
    expect(await exportFile(file, 'country in ["FR", "DE"] and totalSpend > 500')).toEqual(expected);
  });

  it('profiles.csv: text values compare as text (documented), string rules select the same members', async () => {
    const europe = profiles.filter((p) => ['FR', 'DE'].includes(p.country)).map((p) => p.email);
    expect(await exportFile('profiles.csv', 'country in ["FR", "DE"]')).toEqual(europe);
  });
});
