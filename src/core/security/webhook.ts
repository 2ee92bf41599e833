/**
 * Signed webhooks. The sender signs, with HMAC-SHA256 under the dataflow's webhook secret, everything
 * that decides what a delivery does:
 *
 *   `${timestamp}.${body}`                    without an Idempotency-Key header
 *   `${timestamp}.${idempotencyKey}.${body}`  with one (the header's exact value)
 *
 * We accept the signature in hex or base64 (optionally prefixed `sha256=`) within a time window and
 * compare in constant time. A verified delivery is accepted once: its signature is always claimed as
 * an idempotency key, and its Idempotency-Key too when it has one (see `deliveryKeys`), so resending
 * a captured delivery with any header changed either fails the signature or finds it taken.
 * docs/SECURITY.md has the scheme and a verification example.
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
  /** The Idempotency-Key header, when the delivery has one: it is part of the signed message. */
  readonly idempotencyKey?: string | null | undefined;
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
  const expected = await hmac(input.secret, webhookMessage(input.timestamp, input.body, input.idempotencyKey));
  return timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/**
 * The signed message of a delivery: `${timestamp}.${body}`, or `${timestamp}.${key}.${body}` when it
 * carries an Idempotency-Key. (That a body starting with `key.` signs the same bytes as a keyed
 * delivery does no harm: both are the same signature, which is accepted once.)
 */
export function webhookMessage(timestamp: string, body: string, idempotencyKey?: string | null): string {
  return idempotencyKey === undefined || idempotencyKey === null ? `${timestamp}.${body}` : `${timestamp}.${idempotencyKey}.${body}`;
}

/**
 * Signs a delivery the way `verifyWebhook` expects: for senders, tests and the docs.
 *
 * @example signWebhook(secret, String(Math.floor(Date.now() / 1000)), body) // → hex
 * @example signWebhook(secret, timestamp, body, 'hex', 'evaluation-2026-04-01') // with an Idempotency-Key
 */
export async function signWebhook(
  secret: string,
  timestamp: string,
  body: string,
  encoding: 'hex' | 'base64' = 'hex',
  idempotencyKey?: string,
): Promise<string> {
  const mac = await hmac(secret, webhookMessage(timestamp, body, idempotencyKey));
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
 * The idempotency contract of webhook deliveries. Every verified delivery claims its signature (as
 * bytes, whatever the encoding), and its Idempotency-Key when it has one, in a UNIQUE (organization,
 * scope, key) table, all claims and the run in one transaction: a run is created only when every
 * claim is new, so a replay (the same signature under any headers) and a re-signed retry of one
 * logical delivery (a new timestamp, the same key) both find a claim taken and export nothing. Keys
 * live far longer than the timestamp window, so a replay can never outlive its claim.
 */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** How long a stored idempotency key is kept (well past the 5-minute window). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/**
 * The idempotency keys a verified delivery claims: `sig:<hex>` always, `key:<header>` too when it has
 * an Idempotency-Key; undefined when that header is malformed.
 *
 * @example deliveryKeys('order-42', signature) // ['sig:3f…', 'key:order-42']
 */
export function deliveryKeys(header: string | null | undefined, signature: string): string[] | undefined {
  const bytes = decodeSignature(signature);
  if (!bytes) return undefined;
  const own = `sig:${toHex(bytes)}`;
  if (header === null || header === undefined) return [own];
  return IDEMPOTENCY_KEY.test(header) ? [own, `key:${header}`] : undefined;
}
