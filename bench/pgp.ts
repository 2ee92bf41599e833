/**
 * Throughput of the PGP stage (binary OpenPGP to a Curve25519 key), 64 KiB chunks, next to plain
 * gzip for scale. Run: npx tsx bench/pgp.ts [MiB]
 */
import { readFileSync } from 'node:fs';
import type { RunContext } from '../src/core/types.ts';
import { pgp } from '../src/plugins/encryption/pgp/index.ts';
import { pump } from './pump.ts';

const mib = Number(process.argv[2] ?? 128);
const publicKey = readFileSync(new URL('../fixtures/pgp/recipient-public.asc', import.meta.url), 'utf8');
const chunk = new Uint8Array(Number(process.argv[3] ?? 64) * 1024).map((_, i) => (i * 131) & 0xff);
const chunks = (mib * 1024 * 1024) / chunk.byteLength;
const ctx = { now: () => new Date(), scheduledTime: new Date() } as RunContext;

const { seconds, out } = await pump(await pgp({ publicKey }).open(ctx), chunk, chunks);
const rss = process.memoryUsage().rss / 1048576;
console.log(`pgp binary: ${(mib / seconds).toFixed(1)} MiB/s, ${out} bytes out, RSS ${rss.toFixed(0)} MiB`);
