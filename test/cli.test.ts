import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';

const root = resolve(import.meta.dirname, '..');
let dir: string;

const cli = runCli;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-'));
  await cp(join(root, 'fixtures/demo'), dir, { recursive: true });
  const plugins = JSON.parse(await readFile(join(dir, 'plugins.json'), 'utf8'));
  plugins.plugins.at(-1).options.directory = join(dir, 'out');
  await writeFile(join(dir, 'plugins.json'), JSON.stringify(plugins));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('edge-export CLI', () => {
  it('prints help for every command and exits 0', async () => {
    for (const command of ['export', 'validate']) {
      const { code, out } = await cli(command, '--help');
      expect(code).toBe(0);
      expect(out).toContain('--config');
    }
    expect((await cli('--help')).out).toContain('Commands:');
  });

  it('prints its version with --version, -v and version', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-v', 'version']) {
      const { code, out } = await cli(flag);
      expect(code).toBe(0);
      expect(out).toBe(`edge-export ${version}\n`);
    }
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli()).code).toBe(2);
    expect((await cli('nope')).err).toContain('unknown command "nope"');
    expect((await cli('export')).err).toContain('--config <file> is required');
    expect((await cli('export', '--bogus')).code).toBe(2);
  });

  it('exports the demo audience: rule, mapping, gzip CSV, split files and manifest', async () => {
    const { code, out, err } = await cli('export', '--config', join(dir, 'export.json'));
    expect(code).toBe(0);
    const summary = JSON.parse(out);
    // Not a terminal: plain progress lines on stderr, at least one per finished file.
    const progress = err.trim().split('\n');
    expect(progress.length).toBeGreaterThanOrEqual(summary.files.length);
    for (const line of progress) expect(line).toMatch(/^rows [\d,]+ · [\d.]+ MiB · [\d,]+ rows\/s · files \d+ · [\d.]+ s$/);
    expect(progress.at(-1)).toContain(`files ${summary.files.length}`);
    expect(summary.files.length).toBeGreaterThan(1);
    expect(summary.files.every((f: { rows: number }) => f.rows <= 100)).toBe(true);
    const folder = join(dir, 'out', 'exports/2026/11/26/vip-eu');
    const names = await readdir(folder);
    expect(names.filter((n) => n.endsWith('.csv.gz'))).toHaveLength(summary.files.length);
    // One manifest per run, last, in the folder every subject of the run shares (before %SEGMENT_ID%).
    expect(names.some((n) => n.startsWith('manifest-'))).toBe(false);
    expect(summary.manifest.key).toBe(`exports/2026/11/26/manifest-demo-destination-${summary.runId}.json`);
    const manifest = JSON.parse(await readFile(join(dir, 'out', summary.manifest.key), 'utf8'));
    expect(manifest.flowRunId).toBe(summary.runId);
    expect(manifest.exportResults.map((r: { name: string }) => r.name)).toEqual(summary.files.map((f: { name: string }) => f.name));
    expect(manifest.exportResults[0].sinkPath).toBe('exports/2026/11/26/vip-eu');
    const first = join(folder, summary.files[0].name);
    expect(spawnSync('gzip', ['-t', first]).status).toBe(0);
    const csv = spawnSync('gzip', ['-dc', first], { encoding: 'utf8' }).stdout;
    expect(csv.split('\n')[0]).toBe('email,first_name,country,totalSpend,lastPurchase,segmentMembership_status');
    // Every exported member satisfies the rule: a European country.
    for (const line of csv.trim().split('\n').slice(1)) expect(['FR', 'DE', 'ES', 'IT', 'GB']).toContain(line.split(',')[2]);
  });

  it('--dry-run stores nothing but reports keys, rows and sizes', async () => {
    const before = await readdir(join(dir, 'out'), { recursive: true }).catch(() => []);
    const { code, out } = await cli('export', '--config', join(dir, 'export.json'), '--dry-run');
    expect(code).toBe(0);
    const summary = JSON.parse(out);
    expect(summary.dryRun).toBe(true);
    expect(summary.rows).toBeGreaterThan(0);
    expect(summary.files[0].location).toMatch(/^dry-run:/);
    expect(await readdir(join(dir, 'out'), { recursive: true }).catch(() => [])).toEqual(before);
  });

  it('validate reports every problem with its path and exits 2', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({
        plugins: { plugins: [{ use: 'format/csv', options: { delimiter: ';;' } }, { use: 'format/xml' }] },
        destination: { id: '', name: 'x' },
        source: { path: 'profiles.ndjson' },
        output: { folderPath: '../up' },
      }),
    );
    const { code, err } = await cli('validate', '--config', bad);
    expect(code).toBe(2);
    expect(err).toContain('destination.id');
    expect(err).toContain('output.folderPath');
    const fixed = join(dir, 'bad2.json');
    await writeFile(
      fixed,
      JSON.stringify({
        plugins: { plugins: [{ use: 'format/csv', options: { delimiter: ';;' } }, { use: 'format/xml' }] },
        destination: { id: 'd', name: 'x' },
        source: { path: 'profiles.ndjson' },
      }),
    );
    const second = await cli('validate', '--config', fixed);
    expect(second.code).toBe(2);
    expect(second.err).toContain('plugins[0].options.delimiter');
    expect(second.err).toContain('plugins[1].use');
  });

  it('a bad rule fails with its line and column, exit 2', async () => {
    const config = JSON.parse(await readFile(join(dir, 'export.json'), 'utf8'));
    config.audience.rule = 'country in ["FR"] and and';
    await writeFile(join(dir, 'badrule.json'), JSON.stringify(config));
    const { code, err } = await cli('export', '--config', join(dir, 'badrule.json'));
    expect(code).toBe(2);
    expect(err).toMatch(/line 1.*column 23|1:23/);
  });

  it('policy prints an assumed role\'s documents without platform credentials (it calls nothing)', async () => {
    for (const name of ['EDGE_EXPORT_AWS_ACCESS_KEY_ID', 'EDGE_EXPORT_AWS_SECRET_ACCESS_KEY']) expect(process.env[name]).toBeUndefined();
    const config = join(dir, 'role.json');
    await writeFile(
      config,
      JSON.stringify({
        destination: {
          id: 'dst-role',
          name: 'Role',
          bucket: 'acme-exports',
          folderPath: 'edge/%SEGMENT_ID%',
          region: 'eu-west-1',
          auth: { method: 'assumedRole', roleArn: 'arn:aws:iam::123456789012:role/edge', externalId: 'ext-cli-1' },
          sse: 'aws:kms',
          kmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        },
        source: { path: 'profiles.ndjson' },
      }),
    );
    const { code, out, err } = await cli('policy', '--config', config, '--principal', 'arn:aws:iam::111122223333:user/edge-export');
    expect(code, err).toBe(0);
    const printed = JSON.parse(out);
    expect(printed.trustPolicy.Statement[0]).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::111122223333:user/edge-export' },
      Condition: { StringEquals: { 'sts:ExternalId': 'ext-cli-1' } },
    });
    expect(printed.permissionPolicy.Statement.at(-1)).toMatchObject({ Sid: 'EncryptWithKmsKey', Resource: 'arn:aws:kms:eu-west-1:*:key/1234abcd-12ab-34cd-56ef-1234567890ab' });
    // Without the principal the permission policy still comes, with a note on what the trust policy needs.
    const bare = JSON.parse((await cli('policy', '--config', config)).out);
    expect(bare.permissionPolicy.Statement[0].Resource).toBe('arn:aws:s3:::acme-exports/edge/*');
    expect(bare.note).toMatch(/PLATFORM_PRINCIPAL_ARN/);
    // validate, which checks that an export could run here, says the platform identity is missing.
    const checked = await cli('validate', '--config', config);
    expect(checked.code).toBe(2);
    expect(checked.err).toContain('destination.auth.platformCredentials: The platform identity that assumes roles is not configured');
  });

  it('the installed bin runs (tsx, no build step)', () => {
    const run = spawnSync(process.execPath, [join(root, 'bin/edge-export.js'), 'export', '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: edge-export export');
  });
});
