/**
 * Test harness: a throwaway GnuPG home with keys gpg makes itself — RSA (sign primary + encryption
 * subkey), Curve25519 (gpg's default), a sign-only key and an expired one — and gpg's own decryption
 * of what edge-export encrypted. Each caller gets its own home; stop() kills its agent and removes it.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GpgKeys {
  /** Armored public keys. */
  readonly rsa: string;
  readonly ecc: string;
  readonly sign: string;
  readonly expired: string;
  /** The Curve25519 key's armored private key (to test that it is refused). */
  readonly eccSecret: string;
}

export interface Gpg {
  readonly home: string;
  readonly keys: GpgKeys;
  /** Runs gpg in this home (batch, no passphrase) and returns its stdout. */
  run(args: string[], input?: string): string;
  /** Decrypts bytes; resolves the plaintext and gpg's status lines (DECRYPTION_OKAY, GOODMDC, …). */
  decrypt(encrypted: Uint8Array): Promise<{ plaintext: Buffer; status: string }>;
  stop(): Promise<void>;
}

/** Makes a GnuPG home and the four kinds of keys (a few seconds: key generation). */
export async function startGpg(): Promise<Gpg> {
  const home = await mkdtemp(join(tmpdir(), 'edge-export-gpg-'));
  await chmod(home, 0o700);
  const env = { ...process.env, GNUPGHOME: home };
  const run = (args: string[], input?: string) =>
    execFileSync('gpg', ['--batch', '--no-tty', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      env,
      ...(input !== undefined && { input }),
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  const fingerprint = (email: string) =>
    run(['--with-colons', '--list-keys', email])
      .split('\n')
      .find((l) => l.startsWith('fpr:'))!
      .split(':')[9]!;
  run(['--quick-gen-key', 'RSA Test <rsa@example.test>', 'rsa2048', 'sign', 'never']);
  run(['--quick-add-key', fingerprint('rsa@example.test'), 'rsa3072', 'encr', 'never']);
  run(['--quick-gen-key', 'ECC Test <ecc@example.test>', 'future-default', 'default', 'never']);
  run(['--quick-gen-key', 'Sign Only <sign@example.test>', 'ed25519', 'sign', 'never']);
  run(['--faked-system-time', '20200101T000000', '--quick-gen-key', 'Old <old@example.test>', 'future-default', 'default', '1d']);
  const keys: GpgKeys = {
    rsa: run(['--armor', '--export', 'rsa@example.test']),
    ecc: run(['--armor', '--export', 'ecc@example.test']),
    sign: run(['--armor', '--export', 'sign@example.test']),
    expired: run(['--armor', '--export', 'old@example.test']),
    eccSecret: run(['--armor', '--export-secret-keys', 'ecc@example.test']),
  };
  let n = 0;
  return {
    home,
    keys,
    run,
    async decrypt(encrypted) {
      const file = join(home, `in-${n++}.gpg`);
      await writeFile(file, encrypted);
      const out = `${file}.out`;
      const status = execFileSync(
        'gpg',
        ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--status-fd', '1', '--yes', '--output', out, '--decrypt', file],
        { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      return { plaintext: await readFile(out), status };
    },
    async stop() {
      execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env });
      await rm(home, { recursive: true, force: true });
    },
  };
}
