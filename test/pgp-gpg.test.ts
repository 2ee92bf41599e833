/**
 * The PGP stage's output is decrypted by GnuPG to the exact bytes, for RSA and Curve25519 keys made
 * by gpg itself; keys gpg makes that cannot encrypt are refused without echoing key material.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/core/errors.ts';
import type { RunContext } from '../src/core/types.ts';
import { pgp, validatePgpKey } from '../src/plugins/encryption/pgp/index.ts';
import { type Gpg, startGpg } from './harness/gpg.ts';

const ctx: RunContext = {
  runId: 'gpg-run',
  scheduledTime: new Date(),
  now: () => new Date(),
  uuid: () => crypto.randomUUID(),
  fetch,
};

let gpg: Gpg;
let keys: Record<'rsa' | 'ecc' | 'sign' | 'expired', string>;
let secret = '';

beforeAll(async () => {
  gpg = await startGpg();
  keys = gpg.keys;
  secret = gpg.keys.eccSecret;
});

afterAll(() => gpg?.stop());

/** Random chunks made on demand, hashed as they go, so a large payload never sits in memory. */
function lazyPayload(chunks: number, chunkSize: number) {
  const hash = createHash('sha256');
  let made = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (made === chunks) return controller.close();
      made++;
      const chunk = new Uint8Array(chunkSize);
      for (let i = 0; i < chunkSize; i += 65536) crypto.getRandomValues(chunk.subarray(i, i + 65536));
      hash.update(chunk);
      controller.enqueue(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** Encrypts `plaintext` with our stage into a file, has gpg decrypt it, and returns the plaintext's hash. */
async function roundTrip(
  publicKey: string,
  plaintext: ReadableStream<Uint8Array>,
  name: string,
): Promise<string> {
  const encrypted = join(gpg.home, `${name}.gpg`);
  const decrypted = join(gpg.home, `${name}.out`);
  const stage = pgp({ publicKey });
  await plaintext.pipeThrough(await stage.open(ctx)).pipeTo(Writable.toWeb(createWriteStream(encrypted)));
  const status = gpg.run(['--status-fd', '1', '--yes', '--output', decrypted, '--decrypt', encrypted]);
  expect(status).toContain('DECRYPTION_OKAY');
  expect(status).toContain('GOODMDC'); // integrity-protected (SEIPD v1 with MDC)
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(decrypted)) hash.update(chunk as Buffer);
  await rm(decrypted);
  await rm(encrypted);
  return hash.digest('hex');
}

const bytesOf = (bytes: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.each(['rsa', 'ecc'] as const)('gpg decrypts what the %s key encrypted', (kind) => {
  it('an empty payload', async () => {
    expect(await roundTrip(keys[kind], bytesOf(new Uint8Array(0)), `${kind}-empty`)).toBe(
      sha(new Uint8Array(0)),
    );
  });

  it('one byte', async () => {
    const one = new Uint8Array([0x0a]);
    expect(await roundTrip(keys[kind], bytesOf(one), `${kind}-one`)).toBe(sha(one));
  });

  it('5 MiB of random bytes in one chunk', async () => {
    const big = new Uint8Array(5 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    expect(await roundTrip(keys[kind], bytesOf(big), `${kind}-5mib`)).toBe(sha(big));
  });

  it('a ~20 MiB stream produced lazily in uneven chunks', async () => {
    const payload = lazyPayload(61, 333_333);
    const got = await roundTrip(keys[kind], payload.stream, `${kind}-20mib`);
    expect(got).toBe(payload.sha256());
  });
});

describe('keys that cannot be used are refused without echoing them', () => {
  const base64Lines = (armored: string) =>
    armored.split('\n').filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line));
  const expectNoKeyText = (text: string, armored: string) => {
    for (const line of base64Lines(armored)) expect(text).not.toContain(line);
  };

  it('accepts the gpg-made RSA and ECC public keys', async () => {
    expect(await validatePgpKey(keys.rsa)).toEqual([]);
    expect(await validatePgpKey(keys.ecc)).toEqual([]);
  });

  it('a private key', async () => {
    const issues = await validatePgpKey(secret);
    expect(issues).toMatchObject([{ path: 'publicKey', message: expect.stringMatching(/PRIVATE key/) }]);
    expectNoKeyText(JSON.stringify(issues), secret);
    try {
      pgp({ publicKey: secret });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expectNoKeyText(`${(error as Error).message} ${JSON.stringify(error)}`, secret);
    }
  });

  it('garbage', async () => {
    const issues = await validatePgpKey('hello, this is my key: 0xDEADBEEF');
    expect(issues).toMatchObject([
      { path: 'publicKey', received: 'text without an armored PGP public key block' },
    ]);
    expect(JSON.stringify(issues)).not.toContain('DEADBEEF');
  });

  it('a signing-only key', async () => {
    const issues = await validatePgpKey(keys.sign);
    expect(issues).toMatchObject([
      { path: 'publicKey', message: expect.stringMatching(/no encryption subkey/) },
    ]);
    expectNoKeyText(JSON.stringify(issues), keys.sign);
    await expect(pgp({ publicKey: keys.sign }).open(ctx)).rejects.toThrow(/no encryption subkey/);
  });

  it('an expired key', async () => {
    const issues = await validatePgpKey(keys.expired);
    expect(issues).toMatchObject([
      { path: 'publicKey', message: expect.stringMatching(/expired \(on 2020-01-02\)/) },
    ]);
    expectNoKeyText(JSON.stringify(issues), keys.expired);
  });

  it('a damaged key block', async () => {
    const lines = keys.ecc.split('\n');
    const damaged = lines
      .map((line, i) => (i === 3 ? line.slice(0, 10) + '!!' + line.slice(12) : line))
      .join('\n');
    const issues = await validatePgpKey(damaged);
    expect(issues).toMatchObject([
      { path: 'publicKey', message: expect.stringMatching(/could not be parsed/) },
    ]);
    expectNoKeyText(JSON.stringify(issues), damaged);
  });
});
