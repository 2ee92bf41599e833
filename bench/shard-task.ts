/**
 * What one task of a sharded organization's fanned-out export costs in workerd (docs/SCALE.md,
 * "Fan-out exports"): the figures EXPORT_SHARD_TASK_ROWS's default is sized on. The Worker runs as
 * `npm start` runs it (Miniflare, ProfileShard Durable Objects, D1 in memory), every isolate capped at
 * `--heap` MB; an organization created with `--shards` shards is fed `--rows` profiles (~500 bytes each)
 * through POST /v1/profiles, then a rule audience (~30 %) is exported as gzip CSV to moto (auth
 * enforced), plain and deduplicated by email, with `--rows-per-task` profiles a task. For every
 * invocation of each run: D1 queries + shard RPCs (its budget's count), wall ms, and workerd's CPU
 * between invocation lines (the Worker, D1 and the shards together: an upper bound); the Worker
 * isolate's heap from `--trace-gc`.
 *
 *   node bin/run-ts.js bench/shard-task.ts [--rows 400000] [--shards 2] [--rows-per-task 100000] [--heap 128]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { miniflareV8Flags } from './miniflare-v8.ts';
import { cpuSeconds, descendantPid } from './proc.ts';
import { captureWorkerd, client, invocationLines, settle, workerHeap } from './worker-api.ts';

process.env.WRANGLER_SEND_METRICS ??= 'false';
const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return Number(i >= 0 && argv[i + 1] ? argv[i + 1] : fallback);
};
const rows = arg('--rows', '400000');
const shards = arg('--shards', '2');
const rowsPerTask = arg('--rows-per-task', '100000');
const heapCap = arg('--heap', '128');
const ROOT = new URL('../', import.meta.url).pathname;
const BUCKET = 'shard-task';

miniflareV8Flags([...(heapCap > 0 ? [`--max-heap-size=${heapCap}`] : []), '--trace-gc']);
const { startLocalWorker } = await import('../scripts/local-worker.ts');
const { createBucket, createUser, startMoto } = await import('../test/harness/moto.ts');
const { permissionPolicy } = await import('../src/plugins/sink/s3/policy.ts');

let workerdPid: number | undefined;
const { lines: workerdLines, cpuAtInvocation, print } = captureWorkerd(() => cpuSeconds(workerdPid));

/** ~500 bytes of JSON a profile: 30 % gold; 15 % share their email with the profile before. */
function batch(from: number, to: number): string {
  const lines: string[] = [];
  for (let i = from; i < to; i++) {
    const email = `u${i % 20 < 3 && i > 0 ? i - 1 : i}@example.com`;
    const attributes = {
      tier: i % 10 < 3 ? 'gold' : 'silver',
      country: ['FR', 'US', 'DE', 'JP'][i % 4],
      score: i % 997,
      spend: (i % 5000) / 7,
      person: { firstName: `First${i % 311}`, lastName: `Last${i % 7919}`, city: `City ${i % 503}` },
      plan: ['free', 'pro', 'team'][i % 3],
      signup: new Date(Date.UTC(2024, 0, 1) + (i % 700) * 86_400_000).toISOString(),
      notes: `note ${i} `.padEnd(200, 'x'),
    };
    lines.push(JSON.stringify({ id: `p${String(i).padStart(9, '0')}`, identities: { email: [email] }, attributes }));
  }
  return lines.join('\n');
}

const state = await mkdtemp(join(tmpdir(), 'edge-export-shard-task-'));
const moto = await startMoto();
try {
  await createBucket(moto, BUCKET);
  const writer = await createUser(moto, 'writer', permissionPolicy({ bucket: BUCKET, folderPath: 'out/' }));
  await moto.enableAuth();
  const worker = await startLocalWorker(ROOT, state, 0, { inMemory: true, bindings: { EXPORT_SHARD_TASK_ROWS: String(rowsPerTask) } });
  workerdPid = descendantPid((c) => c.startsWith('workerd'));
  try {
    const org = await client(worker.url, worker.adminToken)('POST', '/admin/organizations', { name: 'bench', shards });
    if (org.status !== 201) throw new Error(org.text);
    const api = client(worker.url, org.body.token);
    const t0 = performance.now();
    for (let i = 0; i < rows; i += 10_000) {
      const stored = await api('POST', '/profiles', batch(i, Math.min(rows, i + 10_000)), 'application/x-ndjson');
      if (stored.status !== 200) throw new Error(stored.text);
    }
    print(`ingested ${rows} profiles into ${shards} shards in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const audience = await api('POST', '/audiences', { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' });
    const destination = await api('POST', '/destinations', {
      name: 'bench', bucket: BUCKET, folderPath: 'out/', region: moto.region, endpoint: moto.endpoint,
      auth: { method: 'accessKey', accessKeyId: writer.accessKeyId, secretAccessKey: writer.secretAccessKey }, fileType: 'csv', compression: 'gzip',
    });
    const fields = [{ source: 'id' }, { source: 'identities.email', target: 'email' }, { source: 'attributes.country' }, { source: 'attributes.score' }, { source: 'attributes.spend' },
      { source: 'attributes.person.firstName' }, { source: 'attributes.person.lastName' }, { source: 'attributes.person.city' }, { source: 'attributes.plan' }];
    for (const kind of ['plain', 'dedup'] as const) {
      const flow = await api('POST', '/dataflows', {
        name: kind, destinationId: destination.body.id, audienceIds: [audience.body.id],
        mapping: { fields, ...(kind === 'dedup' && { dedup: { identity: 'email' } }) },
      });
      if (flow.status !== 201) throw new Error(flow.text);
      const lineFrom = workerdLines.length;
      const cpuFrom = cpuAtInvocation.length;
      const cpu0 = cpuSeconds(workerdPid);
      const started = performance.now();
      const run = await settle(api, (await api('POST', `/dataflows/${flow.body.id}/run`)).body.id);
      const seconds = (performance.now() - started) / 1000;
      if (run.status !== 'succeeded') throw new Error(JSON.stringify(run.error));
      const invocations = invocationLines(workerdLines, lineFrom, run.id);
      const marks = cpuAtInvocation.slice(cpuFrom).filter((m) => m.line.includes(run.id));
      const cpu = marks.map((m, i) => ({ task: m.line.includes('#'), s: m.cpu - (i === 0 ? cpu0 : marks[i - 1]!.cpu) }));
      const tasks = invocations.filter((i) => i.runs.every((r) => r.includes('#')));
      const heap = workerHeap(workerdLines, lineFrom);
      print(
        `${kind}: ${run.rows} rows in ${seconds.toFixed(1)} s; fanout ${JSON.stringify(run.fanout)}; ${invocations.length} invocations (${tasks.length} tasks);` +
          ` task max: ${Math.max(...tasks.map((t) => t.d1Queries))} queries+RPCs, ${Math.max(...tasks.map((t) => t.ms))} ms, CPU ${Math.max(...cpu.filter((c) => c.task).map((c) => c.s)).toFixed(2)} s;` +
          ` any invocation max: ${Math.max(...invocations.map((t) => t.d1Queries))} queries+RPCs, ${Math.max(...invocations.map((t) => t.ms))} ms, CPU ${Math.max(...cpu.map((c) => c.s)).toFixed(2)} s;` +
          ` Worker heap ≤ ${heap.peak.toFixed(0)} MiB at a collection, ${heap.live.toFixed(0)} MiB live; load ${loadavg().map((l) => l.toFixed(2)).join(', ')}`,
      );
    }
  } finally {
    await worker.stop();
  }
} finally {
  await moto.stop();
  await rm(state, { recursive: true, force: true });
}
