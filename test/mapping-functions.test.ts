/**
 * Calculated fields end to end through the CLI: an audience exported as CSV (read back with papaparse
 * and DuckDB) and as Parquet (DuckDB: values and column types) carries the computed columns, each
 * checked against an independent computation — node:crypto's SHA-256 of the trimmed, lower-cased
 * email, Array.join, a flattening written here. Also fuzzed: the chain's SHA-256 equals node:crypto's.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTransforms } from '../src/core/data/transforms.ts';
import { runCli } from './support/cli.ts';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
let dir = '';

/** 40 profiles with messy emails, phones, tag lists and nested addresses. */
const PROFILES = Array.from({ length: 40 }, (_, i) => ({
  id: `p${String(i).padStart(2, '0')}`,
  identities: {
    email: [`${i % 3 === 0 ? '  ' : ''}User.${i}@Example.${i % 2 ? 'COM' : 'com'}${i % 4 === 0 ? '\t' : ''}`, `alt${i}@example.org`],
    ...(i % 5 !== 0 && { phone: [`+33 (0)6 ${String(10 + i)}-${String(20 + i)}.99`] }),
  },
  attributes: {
    tags: i % 7 === 0 ? [] : ['vip', `t${i}`, ...(i % 2 ? [['n', i]] : [])],
    address: { city: `City ${i}`, geo: { lat: i / 2, lon: -i - 0.25 }, lines: [`${i} Main St`, null] },
    score: i * 1.5,
  },
  updatedAt: '2026-11-22T03:00:00.000Z',
}));

const MAPPING = {
  fields: [
    { source: 'id' },
    { source: 'identities.email', target: 'email_sha256', transforms: ['trim', 'lowercase', 'sha256'], mandatory: true },
    { source: 'identities.email', target: 'emails', type: { list: 'string' }, transforms: ['trim', 'uppercase'] },
    { source: 'identities.phone', target: 'phone', transforms: ['phone'] },
    { source: 'attributes.tags', target: 'tags', transforms: [{ name: 'join', separator: '|' }] },
    { source: 'attributes.address', target: 'address', transforms: ['flatten'] },
  ],
};

/** The independent computation of each row's computed columns. */
function expected(p: (typeof PROFILES)[number]) {
  const flat: Record<string, unknown> = {};
  const walk = (node: unknown, path: string) => {
    if (node !== null && typeof node === 'object' && Object.keys(node).length > 0) {
      for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
    } else flat[path] = node;
  };
  walk(p.attributes.address, '');
  const digits = p.identities.phone?.[0]?.replace(/\D/g, '');
  return {
    id: p.id,
    email_sha256: sha256(p.identities.email[0]!.trim().toLowerCase()),
    emails: p.identities.email.map((e) => e.trim().toUpperCase()),
    phone: digits === undefined ? null : `+${digits}`,
    tags: (p.attributes.tags as unknown[]).flat(2).join('|'),
    address: flat,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-export-mapping-functions-'));
  await writeFile(join(dir, 'profiles.ndjson'), `${PROFILES.map((p) => JSON.stringify(p)).join('\n')}\n`);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Exports every profile through the CLI in `format`; returns the one file's path. */
async function exportWith(format: string): Promise<string> {
  const out = join(dir, `out-${format}`);
  const config = join(dir, `${format}.json`);
  await writeFile(
    config,
    JSON.stringify({
      plugins: { plugins: [{ use: `format/${format}`, ...(format === 'csv' && { options: { escape: '"' } }) }, { use: 'sink/local', options: { directory: out } }] },
      destination: { id: 'd', name: 'Ads' },
      source: { path: join(dir, 'profiles.ndjson') },
      audience: { id: 'all', name: 'All' },
      mapping: MAPPING,
      output: { fileName: { dateTime: 'none' } },
    }),
  );
  const { code, out: stdout, err } = await runCli('export', '--no-progress', '--config', config);
  expect(code, err).toBe(0);
  const summary = JSON.parse(stdout);
  expect(summary.rows).toBe(PROFILES.length);
  const [file] = await readdir(out);
  return join(out, file!);
}

describe('calculated fields through the CLI', () => {
  it('CSV: papaparse and DuckDB read the computed columns, equal to node:crypto and a hand computation', async () => {
    const path = await exportWith('csv');
    const rows = Papa.parse<Record<string, string>>(await readFile(path, 'utf8'), { header: true, skipEmptyLines: true }).data;
    expect(rows.map((r) => r.id)).toEqual(PROFILES.map((p) => p.id));
    for (const [i, row] of rows.entries()) {
      const want = expected(PROFILES[i]!);
      expect(row.email_sha256).toBe(want.email_sha256);
      expect(JSON.parse(row.emails!)).toEqual(want.emails);
      expect(row.phone).toBe(want.phone ?? '');
      expect(row.tags).toBe(want.tags);
      expect(JSON.parse(row.address!)).toEqual(want.address);
    }
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const read = (await duck.runAndReadAll(`SELECT id, email_sha256, tags FROM read_csv('${path}', header = true, all_varchar = true) ORDER BY id`)).getRowObjectsJson();
      expect(read).toEqual(PROFILES.map((p) => ({ id: p.id, email_sha256: expected(p).email_sha256, tags: expected(p).tags || null })));
    } finally {
      duck.closeSync();
    }
  });

  it('Parquet: computed columns are VARCHAR (and VARCHAR[] for a list), with the same values', async () => {
    const path = await exportWith('parquet');
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const types = (await duck.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).getRowObjectsJson();
      expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
        id: 'VARCHAR',
        email_sha256: 'VARCHAR',
        emails: 'VARCHAR[]',
        phone: 'VARCHAR',
        tags: 'VARCHAR',
        address: 'VARCHAR',
      });
      const rows = (await duck.runAndReadAll(`SELECT * FROM read_parquet('${path}') ORDER BY id`)).getRowObjectsJson();
      expect(rows.map((r) => ({ ...r, address: JSON.parse(String(r.address)) }))).toEqual(PROFILES.map(expected));
    } finally {
      duck.closeSync();
    }
  });

  it('a misspelt function is refused before anything runs, at its field path, with did-you-mean', async () => {
    const config = join(dir, 'bad.json');
    await writeFile(
      config,
      JSON.stringify({
        plugins: { plugins: [{ use: 'format/csv' }, { use: 'sink/local', options: { directory: join(dir, 'never') } }] },
        destination: { id: 'd', name: 'Ads' },
        source: { path: join(dir, 'profiles.ndjson') },
        mapping: { fields: [{ source: 'identities.email', transforms: ['trim', 'sha-256'] }] },
      }),
    );
    for (const command of ['validate', 'export']) {
      const { code, err } = await runCli(command, '--config', config);
      expect(code, command).toBe(2);
      expect(err).toContain('mapping.fields[0].transforms[1]: unknown function: expected one of trim, lowercase, uppercase, sha256, phone, join, flatten, received "sha-256" (did you mean "sha256"?)');
    }
    expect(await readdir(join(dir, 'never')).catch(() => [])).toEqual([]);
  });
});

describe("the chain's SHA-256, fuzzed against node:crypto", () => {
  it('equals createHash over the trimmed, lower-cased text, for any well-formed string', () => {
    const chain = compileTransforms(['trim', 'lowercase', 'sha256']);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), (s) => {
        expect(chain(s)).toBe(sha256(s.trim().toLowerCase()));
      }),
      { numRuns: 1000 },
    );
  });
});
