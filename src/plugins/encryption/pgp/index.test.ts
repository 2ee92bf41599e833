import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as openpgp from 'openpgp';
import * as v from 'valibot';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { collectBytes, fromIterable } from '../../../core/streams.ts';
import type { RunContext } from '../../../core/types.ts';
import { pgp, pgpOptions, plugin, validatePgpKey } from './index.ts';
import { webPlatform } from '../../../core/platform.ts';

const ctx: RunContext = {
  runId: 'run-1',
  scheduledTime: new Date('2024-05-01T00:00:00Z'),
  now: () => new Date(),
  uuid: () => crypto.randomUUID(),
  fetch,
};
const userIDs = [{ name: 'Test', email: 'test@example.test' }];
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const keyBody = (armored: string) => armored.split('\n').find((line) => line.length > 40)!;

let keys: { publicKey: string; privateKey: string };

beforeAll(async () => {
  keys = await openpgp.generateKey({ type: 'ecc', userIDs, format: 'armored' });
});

async function decrypt(ciphertext: Uint8Array): Promise<Uint8Array> {
  const decryptionKeys = await openpgp.readPrivateKey({ armoredKey: keys.privateKey });
  const message = await openpgp.readMessage({ binaryMessage: ciphertext });
  const { data } = await openpgp.decrypt({ message, decryptionKeys, format: 'binary' });
  return data as Uint8Array;
}

describe('encryption/pgp', () => {
  it('describes itself: .gpg, application/pgp-encrypted', () => {
    expect(pgp({ publicKey: keys.publicKey })).toMatchObject({
      kind: 'encryption',
      name: 'pgp',
      extension: 'gpg',
      contentType: 'application/pgp-encrypted',
    });
  });

  it('encrypts a chunked stream to binary OpenPGP that decrypts to the same bytes', async () => {
    const chunks = Array.from({ length: 30 }, (_, i) =>
      crypto.getRandomValues(new Uint8Array(1000 + i * 977)),
    );
    const stage = pgp({ publicKey: keys.publicKey });
    const ciphertext = await collectBytes(fromIterable(chunks).pipeThrough(await stage.open(ctx)));
    expect(ciphertext[0]! & 0x80).toBe(0x80); // a binary packet tag, not ASCII armor
    const plain = await decrypt(ciphertext);
    expect(sha(plain)).toBe(sha(Buffer.concat(chunks)));
  });

  it('streams: ciphertext comes out before the plaintext has all gone in', async () => {
    const total = 64;
    let pulled = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled === total) return controller.close();
        pulled++;
        controller.enqueue(new Uint8Array(256 * 1024).fill(pulled));
      },
    });
    const reader = source.pipeThrough(await pgp({ publicKey: keys.publicKey }).open(ctx)).getReader();
    let firstOutputAt = -1;
    let bytes = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (firstOutputAt < 0) firstOutputAt = pulled;
      bytes += value.byteLength;
    }
    expect(firstOutputAt).toBeLessThan(total);
    expect(bytes).toBeGreaterThan(total * 256 * 1024);
  });

  it('refuses a private key at option-parsing time without echoing it', () => {
    const result = v.safeParse(pgpOptions, { publicKey: keys.privateKey });
    expect(result.success).toBe(false);
    const text = JSON.stringify(
      result.issues?.map(({ message, expected, received, input }) => ({
        message,
        expected,
        received,
        input,
      })),
    );
    expect(text).toContain('PRIVATE');
    expect(text).not.toContain(keyBody(keys.privateKey));
    expect(() => pgp({ publicKey: keys.privateKey })).toThrow(ConfigError);
  });

  it('refuses text that is not a public key block, naming the field', async () => {
    for (const publicKey of [
      '',
      'not a key',
      '-----BEGIN PGP MESSAGE-----\nabc\n-----END PGP MESSAGE-----',
    ]) {
      const issues = await validatePgpKey(publicKey);
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatchObject({ path: 'publicKey', expected: expect.stringContaining('public key') });
    }
    expect(v.safeParse(pgpOptions, { publicKey: 42 }).issues?.[0]?.message).toMatch(
      /publicKey must be a string/,
    );
    expect(await validatePgpKey(42, 'plugins[1].options.publicKey')).toMatchObject([
      { path: 'plugins[1].options.publicKey', received: 'number' },
    ]);
  });

  it('refuses a signing-only key when opened, with a ConfigError listing the issue', async () => {
    const signOnly = await openpgp.generateKey({ type: 'ecc', userIDs, subkeys: [], format: 'armored' });
    const stage = pgp({ publicKey: signOnly.publicKey });
    expect(await stage.validate()).toMatchObject([
      { path: 'publicKey', message: expect.stringMatching(/encryption subkey/) },
    ]);
    await expect(stage.open(ctx)).rejects.toThrow(ConfigError);
  });

  it('refuses an expired key and says when it expired', async () => {
    const created = new Date('2020-01-01T00:00:00Z');
    const old = await openpgp.generateKey({
      type: 'ecc',
      userIDs,
      date: created,
      keyExpirationTime: 86400,
      format: 'armored',
    });
    const issues = await validatePgpKey(old.publicKey);
    expect(issues[0]?.message).toMatch(/expired \(on 2020-01-02\)/);
    expect(issues[0]?.received).not.toContain(keyBody(old.publicKey));
    expect(await validatePgpKey(old.publicKey, 'publicKey', new Date('2020-01-01T12:00:00Z'))).toEqual([]);
  });

  it('refuses several keys in one block', async () => {
    const other = await openpgp.generateKey({ type: 'ecc', userIDs, format: 'object' });
    const a = await openpgp.readKey({ armoredKey: keys.publicKey });
    const both = openpgp.armor(
      openpgp.enums.armor.publicKey,
      new Uint8Array([...a.write(), ...other.publicKey.write()]),
    );
    expect((await validatePgpKey(both))[0]?.message).toMatch(/2 keys/);
  });

  it('is registered as encryption/pgp and builds the stage from options', () => {
    expect(plugin.name).toBe('encryption/pgp');
    expect(plugin.create({ publicKey: keys.publicKey }, webPlatform())).toMatchObject({ extension: 'gpg' });
  });

  it('classifies the fixture keys as fixtures/pgp/README.md says', async () => {
    const fixture = (name: string) =>
      readFileSync(new URL(`../../../../fixtures/pgp/${name}.asc`, import.meta.url), 'utf8');
    expect(await validatePgpKey(fixture('recipient-public'))).toEqual([]);
    expect((await validatePgpKey(fixture('recipient-secret')))[0]?.message).toMatch(/PRIVATE/);
    expect((await validatePgpKey(fixture('signing-only-public')))[0]?.message).toMatch(
      /no encryption subkey/,
    );
    expect((await validatePgpKey(fixture('expired-public')))[0]?.message).toMatch(/expired/);
  });
});
