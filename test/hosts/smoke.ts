/**
 * The smoke test both hosts pass: start the host as a child process on a free loopback port, drive
 * the /v1 API like a user (organization, profiles, destination on moto with auth enforced, audience,
 * dataflow, "export now"), poll the run until it settles, and read the file back from moto with
 * @aws-sdk/client-s3 (CSV as text, Parquet/zstd through DuckDB).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from '../harness/moto.ts';

const ADMIN_TOKEN = 'smoke-admin-token-0123456789';
const BUCKET = 'hosts-smoke';
const FOLDER = 'exports/';
const ROOT = new URL('../../', import.meta.url).pathname;

interface Host {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
}

/** Starts a host (`command args…`) on port 0 and resolves with the URL it prints once listening. */
async function startHost(command: string, args: string[]): Promise<Host> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-export-host-'));
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_COLOR: '1',
      PORT: '0',
      EDGE_EXPORT_DB: join(dir, 'edge-export.sqlite'),
      SECRETS_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
      ADMIN_TOKEN,
      ALLOW_LOOPBACK_ENDPOINTS: 'true',
    },
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`host exited (${code}) before listening:\n${output}`)));
    child.once('error', reject);
  });
  return { url, child, output: () => output };
}

/** Stops the host by pid and waits until it has exited. */
async function stopHost(host: Host | undefined): Promise<void> {
  const child = host?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  process.kill(child.pid, 'SIGTERM');
  await exited;
}

/** The API of a running host, as a client sees it. */
function client(url: string, token: string) {
  return async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const response = await fetch(`${url}/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'Content-Type': contentType }),
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** Polls the run until it leaves queued/running, for at most `ms` milliseconds. */
async function settledRun(api: ReturnType<typeof client>, runId: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = (await api('GET', `/runs/${runId}`)).body;
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    if (Date.now() > deadline) throw new Error(`run still ${run.status} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Polls the dataflow's runs until the cron has created one, for at most `ms` milliseconds. */
async function scheduledRunOf(
  api: ReturnType<typeof client>,
  dataflowId: string,
  ms: number,
): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const runs = (await api('GET', `/runs?dataflowId=${dataflowId}`)).body.items;
    if (runs.length > 0) return runs[0].id;
    if (Date.now() > deadline) throw new Error(`no scheduled run after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** A daily slot at the next whole minute at least 10 s away (UTC), so the dataflow exists before it. */
function nextMinuteSlot(): { time: string; startDate: string } {
  const slot = new Date(Math.ceil((Date.now() + 10_000) / 60_000) * 60_000);
  return { time: slot.toISOString().slice(11, 16), startDate: slot.toISOString().slice(0, 10) };
}

const profiles = Array.from({ length: 6 }, (_, i) => {
  const id = `p${i + 1}`;
  const tier = i % 2 === 0 ? 'gold' : 'silver';
  return JSON.stringify({ id, identities: { email: [`${id}@example.com`] }, attributes: { tier } });
}).join('\n');

/** Registers the smoke test of one host. */
export function hostSmoke(runtime: string, command: string, args: string[]): void {
  describe(`the ${runtime} host exports to moto`, () => {
    let moto: Moto | undefined;
    let host: Host | undefined;
    let writer: { accessKeyId: string; secretAccessKey: string };

    beforeAll(async () => {
      moto = await startMoto();
      await createBucket(moto, BUCKET);
      const user = await createUser(
        moto,
        `${runtime}-writer`,
        permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }),
      );
      writer = { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
      await moto.enableAuth();
      host = await startHost(command, args);
    });

    afterAll(async () => {
      await stopHost(host);
      await moto?.stop();
    });

    /** Creates a destination (merged into the moto defaults) and a dataflow, exports now, returns the run. */
    async function exportNow(
      api: ReturnType<typeof client>,
      kind: string,
      extra: Record<string, unknown>,
      schedule?: { time: string; startDate: string },
    ) {
      const folder = `${FOLDER}${runtime}-${kind}/`;
      const destination = await api('POST', '/destinations', {
        name: `moto ${kind}`,
        bucket: BUCKET,
        folderPath: folder,
        region: moto!.region,
        endpoint: moto!.endpoint,
        auth: { method: 'accessKey', ...writer },
        ...extra,
      });
      expect(destination.status, JSON.stringify(destination.body)).toBe(201);
      const flow = await api('POST', '/dataflows', {
        name: `gold as ${kind}`,
        destinationId: destination.body.id,
        audienceIds: [audienceId],
        mapping: { fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }] },
        ...(schedule && { schedule: { frequency: 'daily', ...schedule } }),
      });
      expect(flow.status, JSON.stringify(flow.body)).toBe(201);
      let runId: string;
      if (schedule) {
        runId = await scheduledRunOf(api, flow.body.id, 100_000);
      } else {
        const queued = await api('POST', `/dataflows/${flow.body.id}/run`);
        expect(queued.status).toBe(202);
        runId = queued.body.id;
      }
      const run = await settledRun(api, runId);
      expect(run, host!.output()).toMatchObject({
        status: 'succeeded',
        trigger: schedule ? 'schedule' : 'api',
        rows: 3,
      });
      expect(run.files).toHaveLength(1);
      const s3 = s3Reader(moto!);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: folder }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual([run.files[0].key]);
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: run.files[0].key }));
      const bytes = await object.Body!.transformToByteArray();
      s3.destroy();
      return { run, bytes };
    }

    let api: ReturnType<typeof client>;
    let audienceId: string;

    it('serves the API: organization, profiles and an audience', async () => {
      const org = await client(host!.url, ADMIN_TOKEN)('POST', '/admin/organizations', { name: 'Acme' });
      expect(org.status).toBe(201);
      api = client(host!.url, org.body.token);
      expect((await api('POST', '/profiles', profiles, 'application/x-ndjson')).body).toEqual({ stored: 6 });
      const audience = await api('POST', '/audiences', {
        kind: 'rule',
        name: 'gold',
        rule: 'attributes.tier = "gold"',
      });
      expect(audience.status).toBe(201);
      audienceId = audience.body.id;
    });

    it('runs "export now" through its queue and writes the CSV to S3', async () => {
      const { bytes } = await exportNow(api, 'csv', { fileType: 'csv' });
      const lines = new TextDecoder().decode(bytes).trim().split(/\r?\n/);
      expect(lines[0]).toBe('id,email');
      expect(lines.slice(1).sort()).toEqual(['p1,p1@example.com', 'p3,p3@example.com', 'p5,p5@example.com']);
    });

    it('its cron (ticker on Node, Deno.cron on Deno) runs a dataflow scheduled for the next minute', async () => {
      const { bytes } = await exportNow(api, 'scheduled', { fileType: 'csv' }, nextMinuteSlot());
      const lines = new TextDecoder().decode(bytes).trim().split(/\r?\n/);
      expect(lines.slice(1).sort()).toEqual(['p1,p1@example.com', 'p3,p3@example.com', 'p5,p5@example.com']);
    }, 180_000);

    it('writes Parquet with zstd (the wasm this host provides), read back by DuckDB', async () => {
      const { run, bytes } = await exportNow(api, 'parquet', {
        fileType: 'parquet',
        formatOptions: { codec: 'zstd' },
      });
      expect(run.files[0].key).toMatch(/\.parquet$/);
      const file = join(mkdtempSync(join(tmpdir(), 'edge-export-parquet-')), 'out.parquet');
      writeFileSync(file, bytes);
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      const rows = (await duck.runAndReadAll(`SELECT id, email FROM read_parquet('${file}') ORDER BY id`))
        .getRowObjectsJson()
        .map((r) => `${r.id},${r.email}`);
      const codecs = (
        await duck.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)
      ).getRowObjectsJson();
      duck.closeSync();
      expect(rows).toEqual(['p1,p1@example.com', 'p3,p3@example.com', 'p5,p5@example.com']);
      expect(codecs).toEqual([{ compression: 'ZSTD' }]);
    });
  });
}
