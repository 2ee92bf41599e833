/**
 * Both gzip stages (web CompressionStream and node:zlib) produce files that the gzip tool accepts
 * (`gzip -t`) and that `gunzip` restores to the exact bytes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompressionStage, RunContext } from '../src/core/types.ts';
import { zlibGzip } from '../src/hosts/node/gzip.ts';
import { gzip } from '../src/plugins/compression/gzip/index.ts';
import { byteInput, randomChunk, textChunk } from './support/byte-input.ts';

const ctx = {} as RunContext;
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-export-gzip-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Compresses through the stage to a file, checks it with `gzip -t` and returns gunzip's output hash. */
async function compressAndCheck(stage: CompressionStage, source: ReadableStream<Uint8Array>, name: string) {
  const file = join(dir, `${name}.gz`);
  await source.pipeThrough(stage.open(ctx)!).pipeTo(Writable.toWeb(createWriteStream(file)));
  execFileSync('gzip', ['-t', file]); // throws on a non-zero exit
  const plain = execFileSync('gunzip', ['-c', file], { maxBuffer: 256 * 1024 * 1024 });
  await rm(file);
  return createHash('sha256').update(plain).digest('hex');
}

const variants: [string, () => CompressionStage][] = [
  ['CompressionStream', gzip],
  ['node:zlib level 1', () => gzip({}, { gzip: zlibGzip })],
  ['node:zlib level 9', () => gzip({ level: 9 }, { gzip: zlibGzip })],
];

describe.each(variants)('gzip via %s', (label, make) => {
  const id = label.replace(/\W+/g, '-');

  it('random bytes, ~6 MiB in uneven chunks', async () => {
    const data = byteInput(190, randomChunk);
    expect(await compressAndCheck(make(), data.stream, `${id}-random`)).toBe(data.sha256());
  });

  it('UTF-8 CSV text, ~10 MiB in uneven chunks', async () => {
    const data = byteInput(120, textChunk);
    expect(await compressAndCheck(make(), data.stream, `${id}-text`)).toBe(data.sha256());
  });

  it('an empty input still makes a valid gzip file', async () => {
    const data = byteInput(0, randomChunk);
    expect(await compressAndCheck(make(), data.stream, `${id}-empty`)).toBe(data.sha256());
  });

  it('one-byte chunks', async () => {
    const data = byteInput(3000, (i) => new Uint8Array([i & 0xff]));
    expect(await compressAndCheck(make(), data.stream, `${id}-bytes`)).toBe(data.sha256());
  });
});
