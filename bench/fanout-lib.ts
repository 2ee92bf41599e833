/**
 * The fan-out scenario, shared by bench/fanout.ts (1,000 × 10) and test/fanout-queues.test.ts (small):
 * a tenant seeded through the Worker's HTTP API, N dataflows due in the same cron slot, ticks fired
 * through Miniflare's scheduled handler, and a drain watched by polling D1 with a deadline. The
 * EXPORTS queue is Miniflare's own broker delivering to the Worker's consumer (no recording queue).
 */
import type { Miniflare } from 'miniflare';

/** What the scenario exports: one org, `audiences` rule audiences over `profiles` profiles, `dataflows` flows. */
export interface FanoutShape {
  readonly dataflows: number;
  readonly audiences: number;
  readonly profiles: number;
}

export interface Tenant {
  readonly token: string;
  readonly orgId: string;
  readonly destinationId: string;
  /** Audience ids in the order every dataflow lists them; audience k selects profiles with group k. */
  readonly audienceIds: readonly string[];
  readonly dataflowIds: readonly string[];
  /** The one slot every dataflow is due at (daily at 06:00 UTC, starting tomorrow). */
  readonly slot: Date;
  readonly seedSeconds: number;
}

export const DESTINATION_NAME = 'fanout';
export const FOLDER = 'fanout';

/** Profile i belongs to group i % audiences; audience k exports the ids of group k. */
export function profileLines(shape: FanoutShape): string {
  return Array.from({ length: shape.profiles }, (_, i) =>
    JSON.stringify({
      id: `p${String(i).padStart(5, '0')}`,
      identities: { email: [`p${i}@example.com`] },
      attributes: { group: `g${i % shape.audiences}` },
    }),
  ).join('\n');
}

/** The ids audience `k` must export, sorted. */
export function expectedIds(shape: FanoutShape, k: number): string[] {
  const ids: string[] = [];
  for (let i = k; i < shape.profiles; i += shape.audiences) ids.push(`p${String(i).padStart(5, '0')}`);
  return ids;
}

/** The fields of API answers the scenario reads (ids; the token of a new organization). */
export interface ApiAnswer {
  readonly id: string;
  readonly token?: string;
}

/** Calls the local Worker's API; throws with the status and body on anything but 2xx. */
export async function api(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const ndjson = typeof body === 'string';
  const res = await fetch(`${base}/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'Content-Type': ndjson ? 'application/x-ndjson' : 'application/json' }),
    },
    ...(body !== undefined && { body: ndjson ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as ApiAnswer;
}

export interface SeedOptions {
  readonly url: string;
  readonly adminToken: string;
  readonly s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  /** Parallel API calls while creating dataflows. */
  readonly concurrency?: number;
}

/** Creates the whole tenant through the public API (organization, profiles, audiences, destination, dataflows). */
export async function seedTenant(shape: FanoutShape, o: SeedOptions): Promise<Tenant> {
  const started = performance.now();
  const org = await api(o.url, o.adminToken, 'POST', '/admin/organizations', { name: 'Fan-out' });
  const token = org.token!;
  const call = (method: string, path: string, body?: unknown) => api(o.url, token, method, path, body);
  await call('POST', '/profiles', profileLines(shape));
  const audienceIds: string[] = [];
  for (let k = 0; k < shape.audiences; k++)
    audienceIds.push(
      (
        await call('POST', '/audiences', {
          kind: 'rule',
          name: `group ${k}`,
          rule: `attributes.group = "g${k}"`,
        })
      ).id,
    );
  const { accessKeyId, secretAccessKey } = o.s3;
  const destination = await call('POST', '/destinations', {
    name: DESTINATION_NAME,
    bucket: o.s3.bucket,
    folderPath: `${FOLDER}/%RUN_ID%/%SEGMENT_ID%`,
    region: 'us-east-1',
    endpoint: o.s3.endpoint,
    forcePathStyle: true,
    auth: { method: 'accessKey', accessKeyId, secretAccessKey },
    fileType: 'csv',
  });
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const flow = (i: number) => ({
    name: `fan-out ${i}`,
    destinationId: destination.id,
    audienceIds,
    mapping: { fields: [{ source: 'id' }, { source: 'attributes.group', target: 'group' }] },
    schedule: { frequency: 'daily', time: '06:00', startDate: tomorrow },
  });
  const dataflowIds: string[] = new Array(shape.dataflows);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < shape.dataflows; i = next++)
      dataflowIds[i] = (await call('POST', '/dataflows', flow(i))).id;
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 4 }, worker));
  return {
    token,
    orgId: org.id,
    destinationId: destination.id,
    audienceIds,
    dataflowIds,
    slot: new Date(`${tomorrow}T06:00:00.000Z`),
    seedSeconds: (performance.now() - started) / 1000,
  };
}

/** Fires `copies` overlapping cron ticks at `scheduledTime` (Cloudflare may deliver a trigger twice). */
export async function fireTicks(mf: Miniflare, scheduledTime: Date, copies = 1): Promise<number> {
  const worker = await mf.getWorker();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: copies }, () => worker.scheduled({ scheduledTime, cron: '*/5 * * * *' })),
  );
  return (performance.now() - started) / 1000;
}

export interface RunCounts {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
}

/** Run states of the org, straight from D1. */
export async function runCounts(mf: Miniflare, orgId: string): Promise<RunCounts> {
  const db = await mf.getD1Database('DB');
  const rows = await db
    .prepare('SELECT status, COUNT(*) AS n FROM runs WHERE org_id = ? GROUP BY status')
    .bind(orgId)
    .all<{ status: keyof RunCounts; n: number }>();
  const counts: RunCounts = { total: 0, queued: 0, running: 0, succeeded: 0, failed: 0 };
  for (const r of rows.results) {
    counts[r.status] = r.n;
    counts.total += r.n;
  }
  return counts;
}

/**
 * Polls D1 until `expected` runs exist and all finished (succeeded or failed), or throws at the
 * deadline with the last counts. `onPoll` lets the bench sample memory on the same beat.
 */
export async function waitDrained(
  mf: Miniflare,
  orgId: string,
  expected: number,
  deadlineMs: number,
  onPoll: () => void = () => {},
  intervalMs = 250,
): Promise<RunCounts> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    onPoll();
    const c = await runCounts(mf, orgId);
    if (c.total >= expected && c.succeeded + c.failed === c.total) return c;
    if (Date.now() > deadline) throw new Error(`not drained after ${deadlineMs} ms: ${JSON.stringify(c)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
