/**
 * Throughput of the gzip stages (CompressionStream vs node:zlib level 1 and 6) on CSV-like text.
 * Run: npx tsx bench/compression.ts [MiB]
 */
import { gzip } from '../src/plugins/compression/gzip/index.ts';
import { zlibGzip } from '../src/hosts/node/gzip.ts';
import { gzip as gzipStage } from '../src/plugins/compression/gzip/index.ts';
import type { CompressionStage, RunContext } from '../src/core/types.ts';
import { pump } from './pump.ts';

const mib = Number(process.argv[2] ?? 64);
const chunk = makeCsvChunk(64 * 1024);
const chunks = Math.ceil((mib * 1024 * 1024) / chunk.byteLength);
const ctx = {} as RunContext;

function makeCsvChunk(size: number): Uint8Array {
  const rows: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const row = `${i},user-${(i * 7919) % 100003}@example.com,${(i * 0.37).toFixed(2)},${i % 3 === 0},2024-01-${(i % 28) + 1}\n`;
    rows.push(row);
    length += row.length;
  }
  return new TextEncoder().encode(rows.join('')).subarray(0, size);
}

async function time(label: string, stage: CompressionStage): Promise<void> {
  const { seconds, out } = await pump(stage.open(ctx)!, chunk, chunks);
  const input = chunks * chunk.byteLength;
  console.log(
    `${label.padEnd(28)} ${(input / 1048576 / seconds).toFixed(1).padStart(7)} MiB/s  ratio ${(out / input).toFixed(3)}`,
  );
}

await time('CompressionStream gzip', gzip());
await time('node:zlib gzip level 1', gzipStage({ level: 1 }, { gzip: zlibGzip }));
await time('node:zlib gzip level 6', gzipStage({ level: 6 }, { gzip: zlibGzip }));
