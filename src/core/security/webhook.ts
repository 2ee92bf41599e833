/**
 * Signed webhooks: the sender signs `${timestamp}.${body}` with HMAC-SHA256 under a shared secret; we
 * accept the signature in hex or base64 (optionally prefixed `sha256=`), within a time window, and
 * compare in constant time. Replays inside the window are stopped by idempotency keys (see below).
 */
import { bufferOf, fromBase64, fromHex, timingSafeEqual, toBase64, toHex } from './encoding.ts';

/** How far a webhook timestamp may be from our clock, either way. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export type WebhookFailure = 'missing' | 'malformed' | 'expired' | 'mismatch';
export type WebhookVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: WebhookFailure };

export interface WebhookInput {
  readonly secret: string;
  /** Unix seconds, as sent in the timestamp header. */
  readonly timestamp: string | null | undefined;
  readonly signature: string | null | undefined;
  /** The raw request body, exactly as received. */
  readonly body: string;
  readonly now: Date;
  readonly toleranceSeconds?: number;
}

/** Checks a webhook delivery; never throws, so callers map every failure to one 401. */
export async function verifyWebhook(input: WebhookInput): Promise<WebhookVerdict> {
  if (!input.timestamp || !input.signature) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(input.timestamp)) return { ok: false, reason: 'malformed' };
  const given = decodeSignature(input.signature);
  if (!given) return { ok: false, reason: 'malformed' };
  const skew = Math.abs(input.now.getTime() / 1000 - Number(input.timestamp));
  if (skew > (input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) return { ok: false, reason: 'expired' };
  const expected = await hmac(input.secret, `${input.timestamp}.${input.body}`);
  return timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/**
 * Signs a delivery the way `verifyWebhook` expects: for senders, tests and the docs.
 *
 * @example signWebhook(secret, String(Math.floor(Date.now() / 1000)), body) // → hex
 */
export async function signWebhook(
  secret: string,
  timestamp: string,
  body: string,
  encoding: 'hex' | 'base64' = 'hex',
): Promise<string> {
  const mac = await hmac(secret, `${timestamp}.${body}`);
  return encoding === 'hex' ? toHex(mac) : toBase64(mac);
}

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    bufferOf(enc.encode(secret)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, bufferOf(enc.encode(message))));
}

/** 32 bytes from hex (64 chars) or base64, or undefined. */
function decodeSignature(signature: string): Uint8Array | undefined {
  const text = signature.trim().replace(/^sha256=/i, '');
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? fromHex(text) : fromBase64(text);
  return bytes?.byteLength === 32 ? bytes : undefined;
}

/**
 * The idempotency contract of webhook deliveries. A delivery's key is its `Idempotency-Key` header when
 * present, else its signature (a replayed request carries the same one). The host stores the key with
 * a UNIQUE constraint per (organization, scope) before it enqueues anything: the first insert wins and
 * exports; every later delivery with the same key is answered with the first run and exports nothing.
 * Keys live at least as long as the timestamp window, so a replay can never outlive its key.
 */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** How long a stored idempotency key is kept (well past the 5-minute window). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** The idempotency key of a delivery, or undefined when the given header is malformed. */
export function idempotencyKey(header: string | null | undefined, signature: string): string | undefined {
  if (header !== null && header !== undefined)
    return IDEMPOTENCY_KEY.test(header) ? `key:${header}` : undefined;
  const bytes = decodeSignature(signature);
  return bytes ? `sig:${toHex(bytes)}` : undefined;
}
