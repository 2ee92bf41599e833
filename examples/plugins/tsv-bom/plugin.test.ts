import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStates, loadConfig, subjectOf } from '../../../src/cli/load.ts';

const root = resolve(import.meta.dirname, '../../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsv-plugin-'));
  await writeFile(
    join(dir, 'rows.ndjson'),
    ['{"name":"Ada","note":"tab\\there","n":1}', '{"name":"Grace","note":"line\\nbreak \\\\ ok","n":null}'].join('\n'),
  );
  await writeFile(
    join(dir, 'plugins.json'),
    JSON.stringify({
      modules: [join(root, 'examples/plugins/tsv-bom/index.ts')],
      plugins: [{ use: 'acme/tsv-bom' }, { use: 'sink/local', options: { directory: join(dir, 'out') } }],
    }),
  );
  await writeFile(
    join(dir, 'export.json'),
    JSON.stringify({
      plugins: './plugins.json',
      destination: { id: 'd', name: 'tsv' },
      source: { path: 'rows.ndjson' },
      audience: { id: 'a', name: 'A' },
      output: { fileName: { dateTime: 'none' }, manifest: false },
    }),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('third-party plugin loaded through the plugin manifest', () => {
  it('exports with a format the core does not know', async () => {
    const loaded = await loadConfig(join(dir, 'export.json'), { env: {} });
    const prepared = await loaded.service.prepare(loaded.definition);
    const subject = await subjectOf(loaded, { states: fileStates(undefined) });
    const result = await prepared.run([subject], { runId: 'r1', scheduledTime: new Date() });
    expect(result.files.map((f) => f.name)).toEqual(['tsv_a.tsv']);
    const bytes = await readFile(join(dir, 'out', 'tsv_a.tsv'));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe('name\tnote\tn\nAda\ttab\\there\t1\nGrace\tline\\nbreak \\\\ ok\t\\N\n');
    expect(await readdir(join(dir, 'out'))).toEqual(['tsv_a.tsv']);
  });

  it('needed no change in the core: nothing under src/ mentions the plugin or examples/', () => {
    const grep = spawnSync('grep', ['-rlE', 'tsv-bom|examples/', join(root, 'src')], { encoding: 'utf8' });
    expect(grep.status).toBe(1); // grep: 1 = no match, 2 = error
    expect(grep.stdout).toBe('');
  });
});
