/** Lazily produced byte inputs for the compression tests (gzip, zstd), with their hash and size. */
import { createHash } from 'node:crypto';

/** An input of `count` chunks, `next(i)` making chunk i; its hash and size are known once consumed. */
export function byteInput(count: number, next: (i: number) => Uint8Array) {
  const hash = createHash('sha256');
  let i = 0;
  let size = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === count) return controller.close();
      const chunk = next(i++);
      hash.update(chunk);
      size += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex'), size: () => size };
}

/** Incompressible chunks of 1 B to 64 KiB. */
export const randomChunk = (i: number): Uint8Array => {
  const chunk = new Uint8Array(1 + ((i * 7919) % 65536));
  crypto.getRandomValues(chunk);
  return chunk;
};

/** CSV-like UTF-8 text, 40–80 KB a chunk. */
export const textChunk = (i: number): Uint8Array => {
  const rows: string[] = [];
  for (let r = 0; r < 1000 + (i % 17) * 50; r++) rows.push(`${i}-${r},user${r}@example.com,"Zoë, ${r % 97}",${r * 0.25}\n`);
  return new TextEncoder().encode(rows.join(''));
};
