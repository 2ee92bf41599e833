/**
 * Ctrl-C mid-export (`edge-export export` in its own process): the run is aborted, the file being
 * written is removed (no `.partial` left in a local folder; the multipart upload aborted in S3, on moto
 * with auth enforced), nothing is published, and the exit code is 130.
 * The export is held mid-file by a source that stalls after its first rows, so the signal always
 * arrives while a file is open, with no timing involved.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Moto, startMotoWithWriter } from './harness/moto.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BUCKET = 'interrupted';
let dir: string;
let moto: Moto;
let reader: S3Client;
let writer: { accessKeyId: string; secretAccessKey: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-interrupt-'));
  await writeFile(join(dir, 'empty.ndjson'), '');
  ({ moto, reader, writer } = await startMotoWithWriter(BUCKET, 'interrupt-writer'));
});
afterAll(async () => {
  reader?.destroy();
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Writes a config whose source stalls after its rows, and starts `edge-export export` on it. */
async function exportUntilStalled(
  name: string,
  plugins: object[],
): Promise<{ child: ChildProcess; stderr: () => string }> {
  const config = join(dir, `${name}.json`);
  await writeFile(
    config,
    JSON.stringify({
      plugins: { modules: [join(ROOT, 'test/support/stalling-source.ts')], plugins },
      destination: { id: 'local', name: 'local' },
      output: { folderPath: 'interrupted' },
      source: { path: join(dir, 'empty.ndjson') },
    }),
  );
  const child = spawn(process.execPath, [join(ROOT, 'bin/edge-export.js'), 'export', '--config', config], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, stderr: () => stderr };
}

/** Waits until `ready()` holds (a file open, an upload started); the export cannot end meanwhile. */
async function until(
  ready: () => Promise<boolean>,
  run: { child: ChildProcess; stderr: () => string },
): Promise<void> {
  while (!(await ready())) {
    if (run.child.exitCode !== null)
      throw new Error(`the export ended early (${run.child.exitCode}): ${run.stderr()}`);
    await delay(20);
  }
}

/** Every file under `folder`, hidden ones included. */
async function filesUnder(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe('edge-export export on SIGINT', () => {
  it('removes the file it was writing and exits 130', async () => {
    const out = join(dir, 'out');
    const run = await exportUntilStalled('local', [
      { use: 'test/stalling', options: { rows: 1000 } },
      { use: 'format/csv' },
      { use: 'sink/local', options: { directory: out } },
    ]);
    const exited = once(run.child, 'exit');
    // Mid-export: the sink's temporary file exists (the source has stalled, so it stays).
    await until(async () => {
      const files = await readdir(out, { recursive: true }).catch(() => [] as string[]);
      return files.some((f) => f.endsWith('.partial'));
    }, run);
    run.child.kill('SIGINT');
    const [code] = await exited;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toContain('interrupted (SIGINT)');
    expect(await filesUnder(out)).toEqual([]);
  });

  it('aborts the multipart upload it had started in S3 and exits 130', async () => {
    // ~6 MB of rows, then a stall: the first 5 MiB part goes up, the upload stays open.
    const run = await exportUntilStalled('s3', [
      { use: 'test/stalling', options: { rows: 50_000, pad: 120 } },
      { use: 'format/csv' },
      { use: 'auth/accessKey', options: writer },
      {
        use: 'sink/s3',
        options: {
          bucket: BUCKET,
          region: 'us-east-1',
          endpoint: moto.endpoint,
          forcePathStyle: true,
          partSize: 5 * 1024 * 1024,
        },
      },
    ]);
    const exited = once(run.child, 'exit');
    const uploads = async () =>
      (await reader.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
    await until(async () => (await uploads()).length > 0, run);
    run.child.kill('SIGINT');
    const [code] = await exited;
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toContain('interrupted (SIGINT)');
    expect(run.stderr()).not.toContain('left open');
    expect(await uploads()).toEqual([]);
    expect((await reader.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).toEqual([]);
  });
});
