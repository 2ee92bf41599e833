/**
 * Validation of a customer's OpenPGP public key. Messages say what was wrong and what is expected,
 * and never echo key material: a pasted private key must not end up in logs or API responses.
 */
import { type PublicKey, readKeys } from 'openpgp';
import type { ConfigIssue } from '../../../core/errors.ts';

const PUBLIC_HEADER = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const EXPECTED = 'an ASCII-armored OpenPGP public key with a usable encryption subkey';
const EXPORT_HINT = 'export it with `gpg --armor --export <key id>`';

/** What is wrong with a value, phrased for a ConfigIssue; `received` is a description, never the value. */
export interface KeyProblem {
  readonly message: string;
  readonly expected: string;
  readonly received: string;
}

/**
 * Cheap, synchronous shape check of an armored key (used by the options schema).
 * Returns null when the text looks like one armored public key block.
 */
export function armorProblem(text: string): KeyProblem | null {
  const trimmed = text.trim();
  if (trimmed === '')
    return problem('is empty; paste the public key block, ' + EXPORT_HINT, 'an empty string');
  if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(trimmed)) return privateKeyProblem();
  if (!trimmed.includes(PUBLIC_HEADER)) {
    const header = /-----BEGIN PGP ([A-Z ,0-9/]{1,40})-----/.exec(trimmed)?.[1];
    const received = header
      ? `an armored PGP ${header} block`
      : 'text without an armored PGP public key block';
    return problem(`is not an ASCII-armored public key (${PUBLIC_HEADER} …); ${EXPORT_HINT}`, received);
  }
  return null;
}

type Checked = { key: PublicKey; problem?: undefined } | { key?: undefined; problem: KeyProblem };

/** Parses one armored public key (no time-dependent checks): the part worth caching. */
export async function readPublicKey(armored: string): Promise<Checked> {
  const shape = armorProblem(armored);
  if (shape) return { problem: shape };
  let keys: PublicKey[];
  try {
    keys = await readKeys({ armoredKeys: armored });
  } catch {
    return {
      problem: problem(
        'could not be parsed: the armor or the packets are damaged (was it truncated or re-wrapped?)',
        'an unreadable key block',
      ),
    };
  }
  if (keys.length !== 1) {
    return {
      problem: problem(`holds ${keys.length} keys; give exactly one recipient key`, `${keys.length} keys`),
    };
  }
  const key = keys[0]!;
  return key.isPrivate() ? { problem: privateKeyProblem() } : { key };
}

/**
 * Parses an armored public key and checks that it can encrypt at `now`: not private, not expired,
 * not revoked, not weak, and with an encryption-capable (sub)key.
 */
export async function inspectPgpKey(armored: string, now: Date = new Date()): Promise<Checked> {
  const read = await readPublicKey(armored);
  if (!read.key) return read;
  const why = await encryptionProblem(read.key, now);
  return why ? { problem: why } : read;
}

/**
 * Validates a `publicKey` option: every problem as a ConfigIssue at `path` (none when usable).
 *
 * @example await validatePgpKey(armored) // [] or [{ path: 'publicKey', message, expected, received }]
 */
export async function validatePgpKey(
  armored: unknown,
  path = 'publicKey',
  now?: Date,
): Promise<ConfigIssue[]> {
  if (typeof armored !== 'string') {
    return [
      { path, message: `must be a string holding ${EXPECTED}`, expected: 'string', received: typeof armored },
    ];
  }
  const { problem: found } = await inspectPgpKey(armored, now);
  return found ? [toIssue(found, path)] : [];
}

/** Why `key` cannot encrypt at `now`, or null when it can. */
export async function encryptionProblem(key: PublicKey, now: Date): Promise<KeyProblem | null> {
  const fingerprint = `(fingerprint ${key.getFingerprint().toUpperCase()})`;
  try {
    await key.getEncryptionKey(undefined, now);
    return null;
  } catch (error) {
    const reason = error instanceof Error ? error.message : '';
    if (/expired/i.test(reason)) {
      const expiry = await expirationOf(key);
      return problem(
        `has expired${expiry ? ` (on ${expiry})` : ''}; extend its expiry or give a current key`,
        `an expired public key ${fingerprint}`,
      );
    }
    if (/revoked/i.test(reason))
      return problem('is revoked; give a current key', `a revoked public key ${fingerprint}`);
    if (/weak|not allowed|unsupported|Unknown/i.test(reason)) {
      const detail = reason.slice(reason.lastIndexOf(': ') + 2, reason.lastIndexOf(': ') + 160);
      return problem(
        `uses an algorithm or size refused for encryption (${detail})`,
        `a public key ${fingerprint}`,
      );
    }
    if (/not yet valid|creation time/i.test(reason))
      return problem('is not valid yet (created in the future)', `a public key ${fingerprint}`);
    return problem(
      'cannot encrypt: it has no encryption subkey (a signing-only key?); add one with `gpg --quick-add-key <fingerprint> default encr`',
      `a public key without an encryption subkey ${fingerprint}`,
    );
  }
}

async function expirationOf(key: PublicKey): Promise<string | null> {
  try {
    const when = await key.getExpirationTime();
    return when instanceof Date ? when.toISOString().slice(0, 10) : null;
  } catch {
    return null;
  }
}

/** A problem as a ConfigIssue: the path names the field, the message reads on its own. */
export function toIssue(found: KeyProblem, path = 'publicKey'): ConfigIssue {
  return { path, ...found, message: `the PGP key ${found.message}` };
}

function privateKeyProblem(): KeyProblem {
  return problem(
    `is a PRIVATE key; give the public key only (${EXPORT_HINT}) and keep the private key secret`,
    'a private key block (contents not shown)',
  );
}

function problem(message: string, received: string): KeyProblem {
  return { message, expected: EXPECTED, received };
}
