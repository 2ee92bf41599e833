/**
 * Destination secrets at rest: AES-256-GCM under a key the host keeps outside the database (a Worker
 * secret), a random 96-bit IV per value, in a versioned envelope `v1.<iv>.<ciphertext>` (base64url) so
 * the scheme can change without a migration. An optional context (destination id + field) is bound as
 * additional data, so a sealed value copied into another row does not open there.
 */
import { ExportError } from '../errors.ts';
import { bufferOf, fromBase64, toBase64, toBase64Url } from './encoding.ts';

const VERSION = 'v1';
const ENVELOPE = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/;

/** True for a value produced by `sealSecret` (so stores can tell sealed from plain). */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && ENVELOPE.test(value);
}

/**
 * Encrypts a secret for storage.
 *
 * @example await sealSecret(env.SECRETS_KEY, 'wJalrXUtnFEMI/K7MDENG', 'dest_1:secretAccessKey')
 */
export async function sealSecret(keyMaterial: string, plaintext: string, context = ''): Promise<string> {
  const key = await importKey(keyMaterial, 'encrypt');
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = bufferOf(new TextEncoder().encode(plaintext));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(context) },
    key,
    data,
  );
  return `${VERSION}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

/** Decrypts a sealed secret; throws (without echoing the value) when the key or context is wrong. */
export async function openSecret(keyMaterial: string, envelope: string, context = ''): Promise<string> {
  const match = ENVELOPE.exec(envelope);
  const iv = match && fromBase64(match[1]!);
  const data = match && fromBase64(match[2]!);
  if (!iv || !data) throw new ExportError('INTERNAL', 'A stored secret is not a v1 sealed envelope');
  const key = await importKey(keyMaterial, 'decrypt');
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bufferOf(iv), additionalData: aad(context) },
      key,
      bufferOf(data),
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new ExportError(
      'INTERNAL',
      'A stored secret could not be decrypted: wrong SECRETS_KEY, or the value was tampered with',
    );
  }
}

/** A fresh key for `SECRETS_KEY`: base64 of 32 random bytes. */
export function generateSecretsKey(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

function aad(context: string): Uint8Array<ArrayBuffer> {
  return bufferOf(new TextEncoder().encode(`edge-export:${VERSION}:${context}`));
}

async function importKey(keyMaterial: string, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  const raw = fromBase64(keyMaterial.trim());
  if (raw?.byteLength !== 32) {
    throw new ExportError(
      'CONFIG_INVALID',
      'SECRETS_KEY must be the base64 of exactly 32 random bytes (openssl rand -base64 32)',
    );
  }
  return crypto.subtle.importKey('raw', bufferOf(raw), 'AES-GCM', false, [usage]);
}

/**
 * How a secret is shown back to a user: `****` plus its last 4 characters, so they can tell which key
 * is configured. Short values (under 12 characters) show nothing of themselves.
 */
export function maskSecret(value: string): string {
  return value.length >= 12 ? `****${value.slice(-4)}` : '****';
}
