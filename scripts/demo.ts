/**
 * The demo tenant of `npm start`, created through the public API only (what a user would do): an
 * organization, the demo profiles, a rule audience, a destination on the local S3 store and a daily
 * dataflow. Ids and the API token are kept in `<state>/demo.json`, so a restart reuses them.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DemoOptions {
  readonly root: string;
  readonly state: string;
  /** The Worker's origin. */
  readonly api: string;
  readonly adminToken: string;
  readonly s3Endpoint: string;
  readonly bucket: string;
  /** Keys the local store knows. */
  readonly key: { accessKeyId: string; secretAccessKey: string };
}

interface DemoState {
  token: string;
  destinationId: string;
  dataflowId: string;
}

export interface DemoRun {
  id: string;
  status: string;
  rows?: number;
  files?: { key: string; size?: number }[];
  error?: unknown;
}

/** Audience of the demo: the CLI demo's rule without its time window, so it selects the same kind of buyer any day. */
const RULE = 'country in ["FR", "DE", "ES", "IT", "GB"] and (vip = true or totalSpend > 1500)';
const RUN_TIMEOUT_MS = 120_000;

/** The answer of the destination's connection test (POST /v1/destinations/{id}/test). */
export interface DemoConnectionTest {
  ok: boolean;
  results: { action: string; ok: boolean; status?: string }[];
  warnings: string[];
}

/**
 * Creates (or finds) the demo tenant and loads the demo profiles; `exportNow` runs the dataflow,
 * `testConnection` tests the demo destination's connection to the local store.
 */
export async function loadDemo(
  o: DemoOptions,
): Promise<{ token: string; destinationId: string; exportNow(): Promise<DemoRun>; testConnection(): Promise<DemoConnectionTest> }> {
  const file = join(o.state, 'demo.json');
  let demo = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as DemoState) : undefined;
  if (demo && (await api(o, demo.token, 'GET', `/v1/dataflows/${demo.dataflowId}`)).status === 200) {
    // The local store may listen on another port than last time.
    await expectOk(api(o, demo.token, 'PUT', `/v1/destinations/${demo.destinationId}`, destination(o)));
  } else {
    demo = await createDemo(o);
    await writeFile(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  }
  const profiles = await readFile(join(o.root, 'fixtures/demo/profiles.ndjson'), 'utf8');
  await expectOk(api(o, demo.token, 'POST', '/v1/profiles', profiles, 'application/x-ndjson'));
  const { token, dataflowId, destinationId } = demo;
  return {
    token,
    destinationId,
    exportNow: () => exportNow(o, token, dataflowId),
    testConnection: () => expectOk(api(o, token, 'POST', `/v1/destinations/${destinationId}/test`)),
  };
}

async function createDemo(o: DemoOptions): Promise<DemoState> {
  const org = await expectOk(api(o, o.adminToken, 'POST', '/v1/admin/organizations', { name: 'Demo' }));
  const token = org.token as string;
  const config = JSON.parse(await readFile(join(o.root, 'fixtures/demo/export.json'), 'utf8'));
  const audience = await expectOk(
    api(o, token, 'POST', '/v1/audiences', { kind: 'rule', name: 'VIP buyers in Europe', rule: RULE }),
  );
  const dest = await expectOk(api(o, token, 'POST', '/v1/destinations', destination(o)));
  const today = new Date().toISOString().slice(0, 10);
  const flow = await expectOk(
    api(o, token, 'POST', '/v1/dataflows', {
      name: 'VIP buyers → local S3',
      destinationId: dest.id,
      audienceIds: [audience.id],
      mapping: config.mapping,
      naming: config.output.fileName,
      schedule: { frequency: 'daily', time: '06:00', startDate: today },
    }),
  );
  return { token, destinationId: dest.id, dataflowId: flow.id };
}

function destination(o: DemoOptions): Record<string, unknown> {
  return {
    name: 'Local S3',
    bucket: o.bucket,
    folderPath: 'exports/%YYYY%/%MM%/%DD%/%SEGMENT_ID%',
    region: 'us-east-1',
    endpoint: o.s3Endpoint,
    forcePathStyle: true,
    auth: { method: 'accessKey', ...o.key },
    fileType: 'csv',
    manifest: true,
  };
}

/** "Export now", then waits for the queue consumer to finish the run. */
async function exportNow(o: DemoOptions, token: string, dataflowId: string): Promise<DemoRun> {
  const queued = (await expectOk(api(o, token, 'POST', `/v1/dataflows/${dataflowId}/run`))) as DemoRun;
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  for (;;) {
    const run = (await expectOk(api(o, token, 'GET', `/v1/runs/${queued.id}`))) as DemoRun;
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    if (Date.now() > deadline)
      throw new Error(`run ${queued.id} still ${run.status} after ${RUN_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function api(
  o: DemoOptions,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Response> {
  return fetch(`${o.api}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined && { 'Content-Type': contentType }) },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: API answers are read by field, as documented in the README
async function expectOk(pending: Promise<Response>): Promise<any> {
  const res = await pending;
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${res.url}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}
