/**
 * Scale: N dataflows × A audiences due in the same cron slot, fanned out over Miniflare's real
 * Queues broker to the Worker's own consumer in workerd, exporting CSV to moto (SigV4 and IAM
 * enforced, the least-privilege writer). Seeds through the HTTP API, fires one tick (plus
 * `--ticks 2` overlapping copies, as Cloudflare may deliver), polls D1 until every run finished,
 * then audits D1 and the bucket: lost, duplicated, open uploads, content of a sample.
 *
 * Run: node bin/run-ts.js bench/fanout.ts [--dataflows 1000] [--audiences 10] [--batch 1]
 *        [--ticks 2] [--profiles 200] [--content 0.02] [--deadline-min 60]
 * Prints one line `FANOUT {...}` (JSON).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LocalWorker, startLocalWorker } from '../scripts/local-worker.ts';
import { type Moto, startMotoWithWriter } from '../test/harness/moto.ts';
import { auditFanout } from './fanout-audit.ts';
import { fireTicks, runCounts, seedTenant, waitDrained } from './fanout-lib.ts';
import { cpuSeconds, descendantPid, memoryMiB, resetPeak } from './proc.ts';

process.env.WRANGLER_SEND_METRICS ??= 'false';
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BUCKET = 'fanout-bench';
const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) =>
  argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback;
const shape = {
  dataflows: arg('--dataflows', 1000),
  audiences: arg('--audiences', 10),
  profiles: arg('--profiles', 200),
};
// Default = wrangler.toml's consumer: one run per message, one message per batch (each message is a
// whole run of up to 250 audiences, so a batch never shares one invocation's limits between runs).
const queue = { maxBatchSize: arg('--batch', 1), maxBatchTimeout: 1, maxRetries: 3 };
const ticks = arg('--ticks', 2);
const contentSample = arg('--content', 0.02);
const deadlineMs = arg('--deadline-min', 60) * 60_000;

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const load = () => loadavg().map((l) => round(l, 2));

async function main(): Promise<void> {
  const state = await mkdtemp(join(tmpdir(), 'fanout-'));
  let moto: Moto | undefined;
  let worker: LocalWorker | undefined;
  try {
    const started = await startMotoWithWriter(BUCKET, 'fanout-writer');
    moto = started.moto;
    worker = await startLocalWorker(ROOT, state, 0, { queue, inMemory: true });
    const workerd = descendantPid((comm) => comm === 'workerd');
    const motoPid = descendantPid((comm) => comm.startsWith('python'));
    const tenant = await seedTenant(shape, {
      url: worker.url,
      adminToken: worker.adminToken,
      s3: { endpoint: moto.endpoint, bucket: BUCKET, ...started.writer },
    });
    const loadStart = load();
    const idleRssMiB = memoryMiB(workerd, 'VmRSS');
    const peakReset = resetPeak(workerd);
    const cpu0 = { workerd: cpuSeconds(workerd), moto: cpuSeconds(motoPid) };
    const t0 = performance.now();
    // The tick is awaited while the consumer already drains: the broker flushes as messages arrive.
    const tickSeconds = await fireTicks(
      worker.miniflare,
      new Date(tenant.slot.getTime() + 5 * 60_000),
      ticks,
    );
    const afterTick = await runCounts(worker.miniflare, tenant.orgId);
    let peakSampledMiB = 0;
    const counts = await waitDrained(worker.miniflare, tenant.orgId, shape.dataflows, deadlineMs, () => {
      peakSampledMiB = Math.max(peakSampledMiB, memoryMiB(workerd, 'VmRSS'));
    });
    const drainSeconds = (performance.now() - t0) / 1000;
    const cpu = { workerd: cpuSeconds(workerd) - cpu0.workerd, moto: cpuSeconds(motoPid) - cpu0.moto };
    const loadEnd = load();
    const peakRssMiB = memoryMiB(workerd, 'VmHWM');
    const audit = await auditFanout(worker.miniflare, started.reader, BUCKET, shape, tenant, contentSample);
    const summary = {
      date: new Date().toISOString(),
      ...shape,
      queue,
      ticks,
      seedSeconds: round(tenant.seedSeconds),
      tickSeconds: round(tickSeconds),
      finishedAtTickEnd: afterTick.succeeded + afterTick.failed,
      drainSeconds: round(drainSeconds),
      runsPerSecond: round(counts.total / drainSeconds, 2),
      exportsPerSecond: round(audit.exportsExpected / drainSeconds, 1),
      ...audit,
      cpuSeconds: { workerd: round(cpu.workerd), moto: round(cpu.moto) },
      workerdRssMiB: { idle: idleRssMiB, peak: peakRssMiB, peakSampled: peakSampledMiB, peakReset },
      loadAverage: { start: loadStart, end: loadEnd },
    };
    console.log(`FANOUT ${JSON.stringify(summary)}`);
    if (audit.lost || audit.duplicated || audit.openUploads || audit.failed || audit.contentMismatches)
      process.exitCode = 1;
  } finally {
    await worker?.stop().catch(() => undefined);
    await moto?.stop().catch(() => undefined);
    await rm(state, { recursive: true, force: true });
  }
}

await main();
