/**
 * Ctrl-C mid-export (`edge-export export` in its own process): the run is aborted, the file being
 * written is removed (no `.partial` left behind, nothing published), and the exit code is 130.
 * The export is held mid-file by a source that stalls after its first rows, so the signal always
 * arrives while a file is open, with no timing involved.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-interrupt-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Every file under `folder`, hidden ones included. */
async function filesUnder(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe('edge-export export on SIGINT', () => {
  it('removes the file it was writing and exits 130', async () => {
    const out = join(dir, 'out');
    await writeFile(join(dir, 'empty.ndjson'), '');
    await writeFile(
      join(dir, 'export.json'),
      JSON.stringify({
        plugins: {
          modules: [join(ROOT, 'test/support/stalling-source.ts')],
          plugins: [
            { use: 'test/stalling', options: { rows: 1000 } },
            { use: 'format/csv' },
            { use: 'sink/local', options: { directory: out } },
          ],
        },
        destination: { id: 'local', name: 'local' },
        output: { folderPath: 'interrupted' },
        source: { path: join(dir, 'empty.ndjson') },
      }),
    );
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/edge-export.js'), 'export', '--config', join(dir, 'export.json')],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(child, 'exit');
    // Mid-export: the sink's temporary file exists (the source has stalled, so it stays).
    for (;;) {
      const files = await readdir(out, { recursive: true }).catch(() => [] as string[]);
      if (files.some((f) => f.endsWith('.partial'))) break;
      if (child.exitCode !== null) throw new Error(`the export ended early (${child.exitCode}): ${stderr}`);
      await delay(20);
    }
    child.kill('SIGINT');
    const [code] = await exited;
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('interrupted (SIGINT)');
    expect(await filesUnder(out)).toEqual([]);
  });
});
