/**
 * Throughput of the pure-TypeScript incremental SHA-256 against node:crypto, 64 KiB chunks.
 * Run: npx tsx bench/sha256.ts [MiB]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSha256 } from '../src/core/sha256.ts';

const mib = Number(process.argv[2] ?? 256);
const chunk = new Uint8Array(randomBytes(64 * 1024));
const chunks = (mib * 1024 * 1024) / chunk.byteLength;

function measure(label: string, run: () => string): number {
  const started = performance.now();
  const hex = run();
  const rate = mib / ((performance.now() - started) / 1000);
  console.log(`${label.padEnd(22)} ${rate.toFixed(1).padStart(7)} MiB/s  ${hex.slice(0, 16)}…`);
  return rate;
}

const ours = measure('createSha256 (TS)', () => {
  const hash = createSha256();
  for (let i = 0; i < chunks; i++) hash.update(chunk);
  return hash.digestHex();
});
const native = measure('node:crypto sha256', () => {
  const hash = createHash('sha256');
  for (let i = 0; i < chunks; i++) hash.update(chunk);
  return hash.digest('hex');
});
console.log(`ratio native/ours: ${(native / ours).toFixed(2)}×`);
