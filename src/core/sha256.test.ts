import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSha256, sha256Hex } from './sha256.ts';

const text = (s: string) => new TextEncoder().encode(s);
const reference = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('sha256', () => {
  it('matches the NIST FIPS 180-2 vectors', () => {
    expect(sha256Hex(text(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(text('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(text('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(
      sha256Hex(
        text(
          'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
        ),
      ),
    ).toBe('cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1');
  });

  it('matches the one-million-a vector fed in odd chunks', () => {
    const hash = createSha256();
    const chunk = new Uint8Array(999).fill(0x61);
    let left = 1_000_000;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      hash.update(chunk.subarray(0, n));
      left -= n;
    }
    expect(hash.digestHex()).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('handles every padding boundary (lengths 0–200)', () => {
    const bytes = randomBytes(200);
    for (let n = 0; n <= 200; n++)
      expect(sha256Hex(bytes.subarray(0, n))).toBe(reference(bytes.subarray(0, n)));
  });

  it('equals node:crypto for random inputs split at random boundaries', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (bytes, cuts) => {
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const hash = createSha256();
          let start = 0;
          for (const p of [...points, bytes.length]) {
            hash.update(bytes.subarray(start, p));
            start = p;
          }
          expect(hash.digestHex()).toBe(reference(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('equals node:crypto on a multi-MiB input fed in random-sized chunks', () => {
    const bytes = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17));
    const hash = createSha256();
    for (let offset = 0; offset < bytes.length; ) {
      const n = 1 + Math.floor(Math.random() * 70_000);
      hash.update(bytes.subarray(offset, offset + n));
      offset += n;
    }
    expect(hash.digestHex()).toBe(reference(bytes));
  });

  it('returns raw bytes, is idempotent after finishing and refuses further updates', () => {
    const hash = createSha256().update(text('abc'));
    const raw = hash.digest();
    expect(raw).toHaveLength(32);
    expect(Buffer.from(raw).toString('hex')).toBe(hash.digestHex());
    expect(() => hash.update(text('x'))).toThrow(/after digest/);
  });
});
