import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fixedRuntime, memorySink } from '../../../test/support/memory-sink.ts';
import { runExport } from '../../core/pipeline.ts';
import { webPlatform } from '../../core/platform.ts';
import { Registry } from '../../core/registry.ts';
import { createSha256 } from '../../core/sha256.ts';
import { fromRows } from '../../core/streams.ts';
import type { Row } from '../../core/types.ts';
import { plugin as csv } from '../../plugins/format/csv/index.ts';
import { plugin as gzip } from '../../plugins/compression/gzip/index.ts';
import { zlibGzip } from './gzip.ts';
import { nodeSha256 } from './sha256.ts';

const pipeline = new Registry([csv, gzip]).build(
  { plugins: [{ use: 'format/csv' }, { use: 'compression/gzip' }] },
  webPlatform({ gzip: zlibGzip }),
);

function* rows(n: number): Generator<Row> {
  for (let i = 0; i < n; i++) yield { id: i, email: `u${i}@x.io`, note: 'é'.repeat(i % 7) };
}

async function exportWith(sha256?: () => ReturnType<typeof nodeSha256>) {
  const mem = memorySink();
  const runtime = { ...fixedRuntime(), ...(sha256 && { sha256 }) };
  const job = { destination: { id: 'd', name: 'd' }, rows: fromRows(rows(20_000)), output: { split: { maxRows: 12_000 } } };
  const result = await runExport(pipeline, job, runtime, mem.sink);
  return { result, mem };
}

describe('nodeSha256', () => {
  it('matches the pure-TypeScript SHA-256 over any chunking', () => {
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 31) & 0xff);
    const native = nodeSha256();
    const plain = createSha256();
    for (let at = 0; at < bytes.length; at += 777) {
      native.update(bytes.subarray(at, at + 777));
      plain.update(bytes.subarray(at, at + 777));
    }
    expect(native.digestHex()).toBe(plain.digestHex());
  });

  it('is used by runExport when the Runtime injects it, with the same checksums as the default', async () => {
    let opened = 0;
    const counted = () => {
      opened++;
      return nodeSha256();
    };
    const injected = await exportWith(counted);
    const plain = await exportWith();
    expect(opened).toBe(2); // one hash per file: 12,000 + 8,000 rows
    expect(injected.result.files.map((f) => f.sha256)).toEqual(plain.result.files.map((f) => f.sha256));
    for (const file of injected.result.files) {
      const body = injected.mem.objects.get(file.key)!.body;
      expect(file.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    }
  });
});
