/**
 * API bearer tokens: `eex_` + 32 random bytes (base64url). Only the SHA-256 hash is stored, so a
 * database leak yields no usable token; a lookup hashes the presented token and finds the row by hash.
 */
import { bufferOf, toBase64Url, toHex } from './encoding.ts';

export const TOKEN_PREFIX = 'eex_';
const TOKEN = /^eex_[A-Za-z0-9_-]{43}$/;

/** A new token (shown to its owner once) and the hash to store. */
export async function generateToken(): Promise<{ token: string; hash: string }> {
  const token = TOKEN_PREFIX + toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  return { token, hash: await hashToken(token) };
}

/** Hex SHA-256 of a token: the only form a token is stored or looked up in. */
export async function hashToken(token: string): Promise<string> {
  return toHex(
    new Uint8Array(await crypto.subtle.digest('SHA-256', bufferOf(new TextEncoder().encode(token)))),
  );
}

/** Cheap shape check before any database work: rejects anything that cannot be one of our tokens. */
export function isTokenShaped(value: string): boolean {
  return TOKEN.test(value);
}

/** The token from an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
