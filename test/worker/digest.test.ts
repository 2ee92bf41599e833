/**
 * The Worker's file checksums use workerd's native DigestStream (platformSha256), and agree with
 * the pure-TypeScript SHA-256 byte for byte, whatever the chunking, and through a whole export.
 */
import { describe, expect, it } from 'vitest';
import { runExport } from '../../src/core/pipeline.ts';
import { Registry } from '../../src/core/registry.ts';
import { createSha256, sha256Hex } from '../../src/core/sha256.ts';
import { digestStreamSha256 as platformSha256 } from '../../src/worker/platform.ts';
import { concatBytes, fromRows } from '../../src/core/streams.ts';
import { plugin as gzip } from '../../src/plugins/compression/gzip/index.ts';
import { plugin as csv } from '../../src/plugins/format/csv/index.ts';
import { memorySink } from '../support/memory-sink.ts';

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed * 7) & 0xff);

describe('platformSha256 in workerd', () => {
  it('is DigestStream here, and equals the TypeScript hash for empty, small and chunked inputs', async () => {
    const factory = platformSha256();
    expect(factory).toBeTypeOf('function');
    for (const chunks of [
      [],
      [bytes(0, 1)],
      [bytes(3, 2)],
      [bytes(64, 3), bytes(1, 4), bytes(100_000, 5), bytes(63, 6)],
    ]) {
      const native = factory!();
      const plain = createSha256();
      for (const chunk of chunks) {
        native.update(chunk);
        plain.update(chunk);
      }
      const digest = await native.digestHex();
      expect(digest).toBe(plain.digestHex());
      expect(digest).toBe(sha256Hex(concatBytes(chunks)));
    }
  });

  it('checksums an exported file with it: the manifest entry matches the stored bytes', async () => {
    const store = memorySink();
    const pipeline = new Registry([csv, gzip]).build({
      plugins: [{ use: 'format/csv' }, { use: 'compression/gzip' }],
    });
    const result = await runExport(
      { ...pipeline, sink: store.sink },
      {
        destination: { id: 'd', name: 'd' },
        schema: [{ name: 'id', type: 'integer' }],
        rows: fromRows(Array.from({ length: 20_000 }, (_, id) => ({ id }))),
        output: { manifest: false },
      },
      { now: () => new Date(0), uuid: () => 'u', fetch, sha256: platformSha256()! },
    );
    const file = result.files[0]!;
    expect(file.sha256).toBe(sha256Hex(store.objects.get(file.key)!.body));
  });
});
