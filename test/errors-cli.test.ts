/**
 * The CLI half of the error-message table: bad configs through the real CLI (`main`, as
 * test/cli.test.ts runs it), each answered by the field's path, what is wrong, and — where a known
 * name is close — "did you mean". The API half is test/worker/errors-table.test.ts.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';

const root = resolve(import.meta.dirname, '..');
let dir: string;
// biome-ignore lint/suspicious/noExplicitAny: configs are mutated freely by the cases
let base: any;

const cli = runCli;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-errors-'));
  await cp(join(root, 'fixtures/demo'), dir, { recursive: true });
  base = JSON.parse(await readFile(join(dir, 'export.json'), 'utf8'));
  base.plugins = { plugins: [{ use: 'format/csv' }, { use: 'naming/segment' }, { use: 'naming/date' }, { use: 'sink/local', options: { directory: join(dir, 'out') } }] };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: see base
type Edit = (c: any) => void;
const fullDestination = { id: 'dst', name: 'S3', bucket: 'acme-exports', region: 'eu-west-1', auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } };
const withDestination = (extra: Record<string, unknown>): Edit => (c) => {
  delete c.plugins;
  c.output = {};
  c.destination = { ...fullDestination, ...extra };
};

/** [what, edit, path the error names, text it must hold (a suggestion when one exists)] */
const CASES: [string, Edit, string, string][] = [
  ['top-level typo', (c) => { c.outptu = c.output; delete c.output; }, 'outptu', 'unknown field "outptu" (did you mean "output"?)'],
  ['nested typo', (c) => { c.output.folderPth = 'x'; }, 'output.folderPth', 'unknown field "folderPth" (did you mean "folderPath"?)'],
  ['deeper typo', (c) => { c.output.split.maxRow = 5; }, 'output.split.maxRow', 'did you mean "maxRows"?'],
  ['typo in the audience', (c) => { c.audience.rul = c.audience.rule; delete c.audience.rule; }, 'audience.rul', 'did you mean "rule"?'],
  ['unknown key, nothing close', (c) => { c.zzzz = 1; }, 'zzzz', 'unknown field "zzzz" (expected one of: plugins, destination, output, source,'],
  ['misspelt plugin', (c) => { c.plugins.plugins[0].use = 'format/csvv'; }, 'plugins[0].use', 'unknown plugin "format/csvv" (did you mean "format/csv"?)'],
  ['misspelt plugin option', (c) => { c.plugins.plugins[0].options = { delimter: ';' }; }, 'plugins[0].options.delimter', 'did you mean "delimiter"?'],
  ['misspelt source plugin', (c) => { c.source.use = 'source/ndjsn'; }, 'source.use', 'did you mean "source/ndjson"?'],
  ['enum value', (c) => { c.mode = 'ful'; }, 'mode', 'received "ful" (did you mean "full"?)'],
  ['file-name enum', (c) => { c.output.fileName.dateTime = 'datetme'; }, 'output.fileName.dateTime', 'did you mean "datetime"?'],
  ['folder macro', (c) => { c.output.folderPath = 'exports/%SEGMENT_I%'; }, 'output.folderPath', 'unknown macro %SEGMENT_I% (did you mean "%SEGMENT_ID%"?)'],
  ['missing source file', (c) => { c.source.path = 'nope.ndjson'; }, 'source.path', `no such file: ${'<dir>'}/nope.ndjson`],
  ['misspelt rule attribute', (c) => { c.audience.rule = 'contry = "FR"'; }, 'audience.rule', 'unknown attribute "contry" (did you mean "country"?) in audience.rule'],
  ['misspelt identity in a rule', (c) => { c.audience.rule = 'identities.emial exists'; }, 'audience.rule', 'unknown identity namespace "emial" (did you mean "email"?)'],
  ['misspelt mapped attribute', (c) => { c.mapping.fields[2].source = 'attributes.contry'; }, 'mapping.fields[2].source', 'did you mean "country"?'],
  ['misspelt dedup namespace', (c) => { c.mapping.dedup.identity = 'emial'; }, 'mapping.dedup.identity', 'did you mean "email"?'],
  ['declared attributes', (c) => { c.source.attributes = ['country', 'vip']; c.audience.rule = 'country = "FR" and totalSpend > 1'; }, 'audience.rule', 'unknown attribute "totalSpend" in audience.rule: source.attributes does not list it'],
  ['rule syntax', (c) => { c.audience.rule = 'country in ["FR"] and and'; }, 'audience.rule', 'line 1'],
  ['empty id, label said once', (c) => { c.destination.id = ''; }, 'destination.id', 'destination.id: must not be empty'],
  ['destination fileType', withDestination({ fileType: 'csvv' }), 'destination.fileType', '"csvv" is not available on this host; expected csv, json, parquet or avro (did you mean "csv"?)'],
  ['destination auth method', withDestination({ auth: { method: 'assumedRol', roleArn: 'arn:aws:iam::123456789012:role/x' } }), 'destination.auth.method', 'did you mean "assumedRole"?'],
  ['destination compression', withDestination({ compression: 'gzp' }), 'destination.compression', 'did you mean "gzip"?'],
  ['destination without its bucket', withDestination({ bucket: undefined }), 'destination.bucket', 'required field "bucket" is missing'],
  ['plugins of the wrong kind', (c) => { c.plugins = c.plugins.plugins; }, 'plugins', 'expected a plugin manifest object or a path to one, received a list'],
  ['destination key typo', withDestination({ regoin: 'eu-west-1' }), 'destination.regoin', 'did you mean "region"?'],
];

describe('CLI errors name the field and suggest the fix', () => {
  it.each(CASES)('%s', async (name, edit, path, text) => {
    const config = structuredClone(base);
    edit(config);
    const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
    await writeFile(file, JSON.stringify(config));
    const { code, err } = await cli('validate', '--config', file);
    expect(code, err).toBe(2);
    expect(err).toContain(`${path}: `);
    expect(err).toContain(text.replace('<dir>', dir));
    // A field's own label is never said twice, and nothing leaks a stack or a secret.
    expect(err).not.toMatch(/(\b[\w.[\]]+): \1: /);
    expect(err).not.toMatch(/\n\s+at\s|Expected never|K7MDENG/);
  });

  it('a missing source file: one line naming source.path and the file, for export too', async () => {
    const config = { ...structuredClone(base), source: { path: 'missing.ndjson' } };
    await writeFile(join(dir, 'missing.json'), JSON.stringify(config));
    const { code, err } = await cli('export', '--config', join(dir, 'missing.json'));
    expect(code).toBe(2);
    expect(err).toBe(`edge-export export: source.path: no such file: ${join(dir, 'missing.ndjson')} (a relative path starts at the config's folder)\n`);
  });

  it('export of a rule naming an unknown attribute warns, and says why 0 rows came out', async () => {
    const config = structuredClone(base);
    config.audience.rule = 'contry = "FR"';
    await writeFile(join(dir, 'contry.json'), JSON.stringify(config));
    const { code, out, err } = await cli('export', '--no-progress', '--config', join(dir, 'contry.json'));
    expect(code, err).toBe(0);
    expect(err).toContain('edge-export export: warning: audience.rule: unknown attribute "contry" (did you mean "country"?) in audience.rule');
    expect(err).toContain('warning: 0 rows exported');
    const summary = JSON.parse(out);
    expect(summary.rows).toBe(0);
    expect(summary.warnings).toHaveLength(1);
    // The same config spelled right exports rows and warns about nothing.
    const right = await cli('export', '--no-progress', '--config', join(dir, 'export.json'));
    expect(right.err).not.toContain('warning');
  });
});
