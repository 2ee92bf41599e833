/**
 * `npm run dev` (scripts/dev.ts) from a fresh-clone state: the project's files copied to a temp folder
 * (no `.dev.vars`, no `.wrangler/`), node_modules linked. It must write `.dev.vars` from the example
 * with fresh secrets (never printed), apply the local D1 migrations and serve the Worker under
 * `wrangler dev`; then a whole journey through the API (organization via the admin route,
 * destination on moto with auth enforced, profiles, audience, dataflow, export now) runs on the local
 * queue, and the file is read back from moto. wrangler is stopped by process group.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../scripts/demo.ts';
import { type Moto, startMotoWithWriter } from './harness/moto.ts';
import { demoAudienceEmails } from './support/demo-audience.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BUCKET = 'dev-journey';
let copy: string;
let moto: Moto;
let reader: S3Client;
let writer: { accessKeyId: string; secretAccessKey: string };
let dev: ChildProcess | undefined;
let output = '';

/** A port nobody listens on right now (wrangler dev takes a port number, not 0). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** The files a clone would have (tracked, plus new ones not ignored), copied into `to`. */
async function copyProject(to: string): Promise<void> {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const exists = await stat(join(ROOT, file)).catch(() => undefined);
    if (!exists?.isFile()) continue; // deleted in the work tree
    await mkdir(dirname(join(to, file)), { recursive: true });
    execFileSync('cp', ['-p', join(ROOT, file), join(to, file)]);
  }
  await symlink(join(ROOT, 'node_modules'), join(to, 'node_modules'));
}

/** Stops `npm run dev` and everything under it (npm, the script, wrangler, workerd) by process group. */
async function stopDev(): Promise<number | null> {
  if (!dev || dev.exitCode !== null || dev.signalCode !== null || dev.pid === undefined)
    return dev?.exitCode ?? null;
  const exited = once(dev, 'exit');
  process.kill(-dev.pid, 'SIGTERM');
  const [code] = await exited;
  return code as number | null;
}

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), 'edge-export-dev-'));
  await copyProject(copy);
  ({ moto, reader, writer } = await startMotoWithWriter(BUCKET, 'dev-writer'));
});

afterAll(async () => {
  await stopDev();
  await moto?.stop();
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe('npm run dev (scripts/dev.ts)', () => {
  it('starts wrangler dev from a fresh clone and completes an export journey on the local D1 and queue', async () => {
    const port = await freePort();
    const inspector = await freePort();
    dev = spawn('npm', ['run', 'dev', '--', '--inspector-port', String(inspector)], {
      cwd: copy,
      env: { ...process.env, PORT: String(port), CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, stopped as one
    });
    const url = `http://127.0.0.1:${port}`;
    await new Promise<void>((ready, fail) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`Ready on ${url}`)) ready();
      };
      dev!.stdout!.on('data', onData);
      dev!.stderr!.on('data', onData);
      dev!.once('exit', (code) => fail(new Error(`npm run dev exited (${code}) before ready:\n${output}`)));
    });

    // .dev.vars: written from the example, fresh secrets, owner-only, never printed.
    const vars = await readFile(join(copy, '.dev.vars'), 'utf8');
    const value = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(vars)?.[1] ?? '';
    expect(Buffer.from(value('SECRETS_KEY'), 'base64')).toHaveLength(32);
    expect(value('ADMIN_TOKEN')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(value('ALLOW_LOOPBACK_ENDPOINTS')).toBe('true');
    expect((await stat(join(copy, '.dev.vars'))).mode & 0o077).toBe(0);
    expect(output).toContain('Wrote .dev.vars');
    expect(output).not.toContain(value('SECRETS_KEY'));
    expect(output).not.toContain(value('ADMIN_TOKEN'));
    // Every migration went to the local database before the Worker started.
    for (const name of (await readdir(join(copy, 'migrations'))).filter((f) => f.endsWith('.sql'))) {
      expect(output).toMatch(new RegExp(`${name.replaceAll('.', '\\.')} +│ ✅`));
    }

    const state = join(copy, '.demo-state');
    await mkdir(state);
    const demo = await loadDemo({
      root: copy,
      state,
      api: url,
      adminToken: value('ADMIN_TOKEN'),
      s3Endpoint: moto.endpoint,
      bucket: BUCKET,
      key: writer,
    });
    const run = await demo.exportNow();
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    const csv = (run.files ?? []).filter((f) => f.key.endsWith('.csv'));
    expect(csv).toHaveLength(1);
    const object = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: csv[0]!.key }));
    const parsed = Papa.parse<Record<string, string>>(await object.Body!.transformToString(), {
      header: true,
      skipEmptyLines: true,
    });
    expect(parsed.errors).toEqual([]);
    expect(new Set(parsed.data.map((r) => r.email))).toEqual(await demoAudienceEmails());
    expect(run.rows).toBe(parsed.data.length);

    // The admin route refuses anything but the generated token.
    const refused = await fetch(`${url}/v1/admin/organizations`, {
      method: 'POST',
      headers: { Authorization: 'Bearer generated-by-npm-run-dev', 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'nope' }),
    });
    expect(refused.status).toBe(401);

    await stopDev();
    await expect(fetch(`${url}/v1/openapi.json`)).rejects.toThrow();
  });
});
