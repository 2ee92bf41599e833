/**
 * `npm start` (scripts/start.ts): the Worker in Miniflare beside s3rver, demo data loaded through the
 * API, one export. Checked from outside: the exit code, the files s3rver stored, their rows against
 * the demo profiles filtered here in plain JavaScript, and a clean stop on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAudienceEmails } from './support/demo-audience.ts';

const SUFFIX = '._S3rver_object';
let state: string;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'edge-export-start-'));
});
afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

function start(extraEnv: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['bin/run-ts.js', 'scripts/start.ts'], {
    env: { ...process.env, EDGE_EXPORT_STATE_DIR: state, PORT: '0', S3_PORT: '0', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return { child, output: () => out };
}

async function storedFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((f) => f.endsWith(SUFFIX)).map((f) => f.slice(0, -SUFFIX.length));
}

describe('npm start (scripts/start.ts)', () => {
  it('exports the demo audience to the local S3 store, prints where it landed, and exits 0 with START_ONCE', async () => {
    const run = start({ EDGE_EXPORT_START_ONCE: '1' });
    const [code] = await once(run.child, 'exit');
    expect(run.output()).toContain('succeeded');
    expect(code).toBe(0);

    const bucket = join(state, 's3', 'edge-export-demo');
    const files = await storedFiles(bucket);
    const csv = files.filter((f) => f.endsWith('.csv'));
    expect(csv).toHaveLength(1);
    expect(files.filter((f) => /manifest-.*\.json$/.test(f))).toHaveLength(1);
    expect(run.output()).toContain(`s3://edge-export-demo/${csv[0]}`);
    // The banner counts the data files apart from the manifest, as the console's run page does.
    expect(run.output()).toMatch(/Export run {3}run_\w+: succeeded, \d+ rows, 1 file\(s\) and a manifest\n/);
    expect(run.output()).toMatch(/s3:\/\/edge-export-demo\/\S*manifest-\S+\.json {3}\(manifest\)\n/);
    expect(run.output()).toMatch(/Console {6}http:\/\/127\.0\.0\.1:\d+\/ /);
    expect(run.output()).toContain(join(bucket, `${csv[0]}${SUFFIX}`));

    const parsed = Papa.parse<Record<string, string>>(
      await readFile(join(bucket, `${csv[0]}${SUFFIX}`), 'utf8'),
      {
        header: true,
        skipEmptyLines: true,
      },
    );
    expect(parsed.errors).toEqual([]);
    expect(parsed.meta.fields).toEqual(expect.arrayContaining(['email', 'first_name', 'country']));
    const emails = parsed.data.map((r) => r.email);
    expect(new Set(emails).size).toBe(emails.length);
    expect(new Set(emails)).toEqual(await demoAudienceEmails());
  });

  it('a busy PORT or S3_PORT is one line naming the variable to change, no stack trace, exit 1', async () => {
    const held = createServer();
    await new Promise<void>((done) => held.listen(0, '127.0.0.1', done));
    const port = String((held.address() as AddressInfo).port);
    try {
      for (const variable of ['PORT', 'S3_PORT']) {
        const run = start({ EDGE_EXPORT_START_ONCE: '1', [variable]: port });
        const [code] = await once(run.child, 'exit');
        expect(code).toBe(1);
        expect(run.output().trim()).toBe(
          `npm start failed: port ${port} on 127.0.0.1 is already in use: set ${variable} to a free port (e.g. ${variable}=${Number(port) + 1} npm start, or ${variable}=0 for any)`,
        );
      }
    } finally {
      await new Promise((done) => held.close(done));
    }
  });

  it('restarts on the persisted state, keeps serving, and stops cleanly on SIGTERM', async () => {
    const run = start({});
    const ready = new Promise<void>((resolve, reject) => {
      run.child.stdout?.on('data', () => {
        if (run.output().includes('Press Ctrl-C')) resolve();
      });
      run.child.once('exit', (code) => reject(new Error(`exited early (${code}):\n${run.output()}`)));
    });
    await ready;
    const api = /API {10}(http:\/\/127\.0\.0\.1:\d+)\/v1 {3}token: (\S+)/.exec(run.output());
    expect(api).not.toBeNull();
    const runs = await fetch(`${api![1]}/v1/runs`, { headers: { Authorization: `Bearer ${api![2]}` } });
    expect(runs.status).toBe(200);
    // The console is where the banner says.
    const consoleUrl = /Console {6}(http:\/\/127\.0\.0\.1:\d+\/) /.exec(run.output());
    expect(consoleUrl?.[1]).toBe(`${api![1]}/`);
    const page = await fetch(consoleUrl![1]!);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>');
    // The first test's run and this one, in one organization reused from the state folder.
    expect(((await runs.json()) as { items: unknown[] }).items).toHaveLength(2);

    // The demo destination passes its own connection test against the embedded store: what s3rver does
    // not implement is told apart from a denial, and the test leaves nothing in the store.
    const { destinationId } = JSON.parse(await readFile(join(state, 'demo.json'), 'utf8'));
    const tested = await fetch(`${api![1]}/v1/destinations/${destinationId}/test`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${api![2]}` },
    });
    expect(tested.status).toBe(200);
    const probe = (await tested.json()) as { ok: boolean; results: { action: string; status: string }[]; warnings: string[] };
    expect(Object.fromEntries(probe.results.map((r) => [r.action, r.status])), JSON.stringify(probe, null, 1)).toEqual({
      's3:ListBucket': 'ok',
      's3:GetBucketLocation': 'ok',
      's3:ListBucketMultipartUploads': 'unsupported',
      's3:PutObject': 'ok',
      's3:GetObject': 'ok',
      's3:DeleteObject': 'ok',
      's3:ListMultipartUploadParts': 'unsupported',
      's3:AbortMultipartUpload': 'unsupported',
    });
    expect(probe.ok).toBe(true);
    expect(probe.warnings).toHaveLength(3);
    for (const w of probe.warnings) expect(w).toMatch(/^Not supported by this store: /);
    // What the start-up printed is the same test.
    expect(run.output()).toContain(
      'Connection   ok (5 of 8 permissions ok; unsupported: s3:ListBucketMultipartUploads, s3:ListMultipartUploadParts, s3:AbortMultipartUpload;',
    );
    const bucket = join(state, 's3', 'edge-export-demo');
    const everything = await readdir(bucket, { recursive: true });
    expect(everything.filter((f) => f.includes('edge-export-probe'))).toEqual([]);
    expect(everything.filter((f) => f.includes('._S3rver_uploads/'))).toEqual([]);
    const exited = once(run.child, 'exit');
    run.child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(run.output()).toContain('Stopping');
    await expect(fetch(`${api![1]}/v1/openapi.json`)).rejects.toThrow();
  });
});
