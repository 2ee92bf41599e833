/**
 * Multipart upload of a ~200 MB file to moto: edge-export's streaming uploader against `aws s3 cp`
 * of the same file to the same server (auth enforced for both), alternating, best of N rounds.
 * Run: npx tsx bench/s3-upload.ts [MiB=200] [rounds=2] [concurrency=4]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { S3Client } from '../src/plugins/sink/s3/client.ts';
import { uploadObject } from '../src/plugins/sink/s3/upload.ts';
import { seededBytes } from '../test/harness/data.ts';
import { createBucket, s3Reader, startMoto } from '../test/harness/moto.ts';

const mib = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 2);
const concurrency = Number(process.argv[4] ?? 4);
const dir = mkdtempSync(join(tmpdir(), 'edge-export-bench-'));
const file = join(dir, 'upload.bin');
writeFileSync(file, seededBytes(mib * 1024 * 1024, 9));
const moto = await startMoto();
/** CPU time (user + system, all threads) of this process per edge-export upload. */
const cpuSeconds: number[] = [];

async function ours(key: string): Promise<number> {
  const client = new S3Client({
    target: { bucket: 'bench', region: moto.region, endpoint: moto.endpoint },
    credentials: async () => moto.admin,
    fetch,
  });
  const started = performance.now();
  const cpu = process.cpuUsage();
  const body = Readable.toWeb(
    createReadStream(file, { highWaterMark: 1024 * 1024 }),
  ) as ReadableStream<Uint8Array>;
  await uploadObject(client, body, { key, partSize: 8 * 1024 * 1024, concurrency });
  const used = process.cpuUsage(cpu);
  cpuSeconds.push((used.user + used.system) / 1e6);
  return (performance.now() - started) / 1000;
}

function awsCli(key: string): number {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: moto.admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: moto.admin.secretAccessKey,
    AWS_DEFAULT_REGION: moto.region,
  };
  const started = performance.now();
  const run = spawnSync(
    'aws',
    ['--endpoint-url', moto.endpoint, 's3', 'cp', file, `s3://bench/${key}`, '--only-show-errors'],
    { env, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`aws s3 cp failed: ${run.stderr}`);
  return (performance.now() - started) / 1000;
}

try {
  await createBucket(moto, 'bench');
  await moto.enableAuth();
  const reader = s3Reader(moto);
  const times = { ours: [] as number[], aws: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    times.ours.push(await ours(`ours-${r}.bin`));
    times.aws.push(awsCli(`aws-${r}.bin`));
    for (const key of [`ours-${r}.bin`, `aws-${r}.bin`]) {
      const head = await reader.send(new HeadObjectCommand({ Bucket: 'bench', Key: key }));
      if (head.ContentLength !== mib * 1024 * 1024) throw new Error(`${key} has ${head.ContentLength} bytes`);
    }
  }
  reader.destroy();
  const best = { ours: Math.min(...times.ours), aws: Math.min(...times.aws) };
  const rate = (s: number) => `${(mib / s).toFixed(1)} MiB/s`;
  console.log(
    `file: ${mib} MiB, rounds: ${rounds}, parts: 8 MiB × concurrency ${concurrency} (aws cli defaults: 8 MiB × 10)`,
  );
  console.log(
    `edge-export uploadObject: ${times.ours.map((t) => t.toFixed(2)).join(' s, ')} s  (best ${rate(best.ours)})`,
  );
  console.log(`edge-export CPU s:        ${cpuSeconds.map((t) => t.toFixed(2)).join(' s, ')} s (this process)`);
  console.log(
    `aws s3 cp:                ${times.aws.map((t) => t.toFixed(2)).join(' s, ')} s  (best ${rate(best.aws)})`,
  );
  console.log(`load average (1 min) at end: ${loadavg()[0]!.toFixed(2)}`);
  console.log(
    `ratio aws/ours (best): ${(best.aws / best.ours).toFixed(2)}× (> 1 means edge-export is faster)`,
  );
} finally {
  await moto.stop();
  rmSync(dir, { recursive: true, force: true });
}
