import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, ExportError } from '../errors.ts';
import { fromBase64, toBase64, toBase64Url } from './encoding.ts';
import { generateSecretsKey, isSealed, maskSecret, openSecret, sealSecret } from './secrets.ts';
import { quote } from '../validate.ts';
import { networkFailure } from './failure.ts';
import {
  checkEndpoint,
  checkResolvedEndpoint,
  endpointRefusal,
  guardedFetch,
  isLoopbackHost,
  vettedResolver,
} from './ssrf.ts';
import { bearerToken, generateToken, hashToken, isTokenShaped } from './tokens.ts';
import { deliveryKeys, signWebhook, verifyWebhook } from './webhook.ts';

const NOW = new Date('2026-04-01T12:00:00Z');
const TS = String(NOW.getTime() / 1000);

describe('verifyWebhook', () => {
  const secret = 'whsec_test_secret';
  const body = '{"event":"audience.evaluated"}';
  const independent = (ts: string, b: string, enc: 'hex' | 'base64') =>
    createHmac('sha256', secret).update(`${ts}.${b}`).digest(enc);

  it('accepts hex and base64 signatures computed by an independent HMAC', async () => {
    for (const enc of ['hex', 'base64'] as const) {
      const signature = independent(TS, body, enc);
      expect(await signWebhook(secret, TS, body, enc)).toBe(signature);
      expect(await verifyWebhook({ secret, timestamp: TS, signature, body, now: NOW })).toEqual({ ok: true });
      expect(
        await verifyWebhook({ secret, timestamp: TS, signature: `sha256=${signature}`, body, now: NOW }),
      ).toEqual({ ok: true });
    }
  });

  it.each([
    ['a tampered body', TS, independent(TS, body, 'hex'), `${body} `, 'mismatch'],
    [
      'a wrong secret',
      TS,
      createHmac('sha256', 'other').update(`${TS}.${body}`).digest('hex'),
      body,
      'mismatch',
    ],
    [
      'a signature over another timestamp',
      TS,
      independent(String(Number(TS) - 1), body, 'hex'),
      body,
      'mismatch',
    ],
    [
      'a timestamp 301 s old',
      String(Number(TS) - 301),
      independent(String(Number(TS) - 301), body, 'hex'),
      body,
      'expired',
    ],
    [
      'a timestamp 301 s ahead',
      String(Number(TS) + 301),
      independent(String(Number(TS) + 301), body, 'hex'),
      body,
      'expired',
    ],
    ['no signature', TS, '', body, 'missing'],
    ['a non-numeric timestamp', 'yesterday', independent(TS, body, 'hex'), body, 'malformed'],
    ['a truncated signature', TS, independent(TS, body, 'hex').slice(0, 40), body, 'malformed'],
  ])('refuses %s', async (_name, timestamp, signature, b, reason) => {
    expect(await verifyWebhook({ secret, timestamp, signature, body: b, now: NOW })).toEqual({
      ok: false,
      reason,
    });
  });

  it('accepts the edge of the window', async () => {
    const ts = String(Number(TS) - 300);
    expect(
      (
        await verifyWebhook({
          secret,
          timestamp: ts,
          signature: independent(ts, body, 'hex'),
          body,
          now: NOW,
        })
      ).ok,
    ).toBe(true);
  });

  it('signs the Idempotency-Key with the timestamp and the body when there is one', async () => {
    const key = 'evaluation-2026-04-01';
    const signature = createHmac('sha256', secret).update(`${TS}.${key}.${body}`).digest('hex');
    expect(await signWebhook(secret, TS, body, 'hex', key)).toBe(signature);
    const verify = (idempotencyKey: string | undefined, s = signature) =>
      verifyWebhook({ secret, timestamp: TS, signature: s, body, idempotencyKey, now: NOW });
    expect(await verify(key)).toEqual({ ok: true });
    // The same signature under another key, or with the key left out, is not valid.
    expect(await verify('another-key')).toEqual({ ok: false, reason: 'mismatch' });
    expect(await verify(undefined)).toEqual({ ok: false, reason: 'mismatch' });
    // A delivery signed without a key does not verify once a key is added.
    expect(await verify(key, independent(TS, body, 'hex'))).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('claims the signature of every delivery, and its Idempotency-Key too, whatever the encoding', () => {
    const hex = independent(TS, body, 'hex');
    const b64 = independent(TS, body, 'base64');
    expect(deliveryKeys(undefined, hex)).toEqual([`sig:${hex}`]);
    expect(deliveryKeys(null, b64)).toEqual([`sig:${hex}`]);
    expect(deliveryKeys('order-42', hex)).toEqual([`sig:${hex}`, 'key:order-42']);
    expect(deliveryKeys('has space', hex)).toBeUndefined();
    expect(deliveryKeys('', hex)).toBeUndefined();
  });
});

describe('sealed secrets', () => {
  const key = generateSecretsKey();

  it('round-trips and never contains the plaintext', async () => {
    const plain = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const sealed = await sealSecret(key, plain, 'dest_1:secretAccessKey');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain(plain);
    expect(await openSecret(key, sealed, 'dest_1:secretAccessKey')).toBe(plain);
  });

  it('uses a fresh IV each time', async () => {
    const a = await sealSecret(key, 'same');
    const b = await sealSecret(key, 'same');
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('interoperates with node:crypto AES-256-GCM (independent decryption)', async () => {
    const { createDecipheriv } = await import('node:crypto');
    const sealed = await sealSecret(key, 'interop', 'ctx');
    const [, iv, data] = sealed.split('.');
    const bytes = fromBase64(data!)!;
    const decipher = createDecipheriv('aes-256-gcm', fromBase64(key)!, fromBase64(iv!)!);
    decipher.setAAD(new TextEncoder().encode('edge-export:v1:ctx'));
    decipher.setAuthTag(bytes.slice(-16));
    expect(Buffer.concat([decipher.update(bytes.slice(0, -16)), decipher.final()]).toString()).toBe(
      'interop',
    );
  });

  it('refuses a wrong key, a wrong context, tampering and a malformed envelope', async () => {
    const sealed = await sealSecret(key, 'secret', 'a');
    await expect(openSecret(generateSecretsKey(), sealed, 'a')).rejects.toThrow(/could not be decrypted/);
    await expect(openSecret(key, sealed, 'b')).rejects.toThrow(/could not be decrypted/);
    const [v, iv, data] = sealed.split('.');
    const flipped = fromBase64(data!)!;
    flipped[0]! ^= 1;
    await expect(openSecret(key, `${v}.${iv}.${toBase64Url(flipped)}`, 'a')).rejects.toThrow(ExportError);
    await expect(openSecret(key, 'plain-text', 'a')).rejects.toThrow(/not a v1 sealed envelope/);
  });

  it('refuses a key that is not 32 bytes of base64', async () => {
    await expect(sealSecret(toBase64(new Uint8Array(16)), 'x')).rejects.toThrow(/exactly 32 random bytes/);
    await expect(sealSecret('not base64!', 'x')).rejects.toThrow(/SECRETS_KEY/);
  });

  it('masks with the last 4 only for long values', () => {
    expect(maskSecret('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toBe('****EKEY');
    expect(maskSecret('short')).toBe('****');
    expect(maskSecret('')).toBe('****');
  });
});

describe('API tokens', () => {
  it('generates eex_ tokens whose stored form is their SHA-256', async () => {
    const { token, hash } = await generateToken();
    expect(token).toMatch(/^eex_[A-Za-z0-9_-]{43}$/);
    expect(isTokenShaped(token)).toBe(true);
    const { createHash } = await import('node:crypto');
    expect(hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(await hashToken(token)).toBe(hash);
    expect((await generateToken()).token).not.toBe(token);
  });

  it('reads bearer headers', () => {
    expect(bearerToken('Bearer eex_abc')).toBe('eex_abc');
    expect(bearerToken('bearer   eex_abc ')).toBe('eex_abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(null)).toBeUndefined();
    expect(isTokenShaped('eex_short')).toBe(false);
  });
});

describe('checkEndpoint (SSRF)', () => {
  it.each([
    'https://s3.eu-west-1.amazonaws.com',
    'https://s3.us-west-000.backblazeb2.com/',
    'https://abc.r2.cloudflarestorage.com',
    'https://8.8.8.8',
    'https://[2606:4700::1111]',
    'https://minio.example.com:9000',
  ])('accepts %s', (url) => {
    expect(checkEndpoint(url).toString()).toBe(new URL(url).toString());
  });

  it.each([
    ['http://s3.amazonaws.com', /only https/],
    ['ftp://s3.amazonaws.com', /only https/],
    ['not a url', /not a valid URL/],
    ['https://user:pw@s3.amazonaws.com', /credentials/],
    ['https://localhost', /loopback/],
    ['https://api.localhost', /loopback/],
    ['https://127.0.0.1:9000', /loopback/],
    ['https://127.1', /loopback/],
    ['https://0x7f000001', /loopback/],
    ['https://2130706433', /loopback/],
    ['https://[::1]', /loopback/],
    ['https://[::ffff:127.0.0.1]', /loopback/],
    ['https://[::ffff:0:127.0.0.1]', /loopback/],
    ['https://[0:0:0:0:0:ffff:7f00:1]', /loopback/],
    ['https://[::127.0.0.1]', /loopback/],
    ['https://0x7f.1', /loopback/],
    ['https://0177.0.0.1', /loopback/],
    ['https://127.0.0.1.', /loopback/],
    ['https://localhost.', /loopback/],
    ['https://metadata.google.internal', /\.internal/],
    ['https://METADATA.google.internal.', /\.internal/],
    ['https://metadata', /single-label/],
    ['https://kubernetes.default.svc', /\.svc/],
    ['https://minio.exports.svc.cluster.local', /\.local/],
    ['https://printer.local', /\.local/],
    ['https://router.home.arpa', /\.home\.arpa/],
    ['https://s3.corp', /\.corp/],
    ['https://[::ffff:8.8.8.8]', /global unicast/],
    ['https://[64:ff9b:1::a00:1]', /10\.0\.0\.0/],
    ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]', /192\.0\.2\.0/],
    ['https://10.1.2.3', /10\.0\.0\.0\/8/],
    ['https://172.16.0.1', /172\.16\.0\.0\/12/],
    ['https://172.31.255.255', /172\.16\.0\.0\/12/],
    ['https://192.168.1.1', /192\.168/],
    ['https://169.254.169.254', /169\.254/],
    ['https://100.64.0.1', /100\.64/],
    ['https://0.0.0.0', /0\.0\.0\.0\/8/],
    ['https://224.0.0.1', /224/],
    ['https://[fd00::1]', /unique-local/],
    ['https://[fe80::1]', /link-local/],
    ['https://[::ffff:10.0.0.1]', /10\.0\.0\.0/],
    ['https://[::ffff:a9fe:a9fe]', /169\.254/],
    ['https://[64:ff9b::192.168.0.1]', /192\.168/],
    ['https://[2002:c0a8:0101::1]', /192\.168/],
    ['https://[::]', /unspecified/],
  ])('refuses %s', (url, message) => {
    let error: unknown;
    try {
      checkEndpoint(url, 'destination.endpoint');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issue = (error as ConfigError).issues[0]!;
    expect(issue.path).toBe('destination.endpoint');
    expect(issue.message).toMatch(message);
    // The URL is quoted only when short (MAX_ECHO): a secret pasted as a URL never comes back.
    expect(issue.received).toBe(quote(url));
  });

  it('allows loopback (and http on it) only with allowLoopback', () => {
    expect(checkEndpoint('http://127.0.0.1:9000', 'e', { allowLoopback: true }).port).toBe('9000');
    expect(checkEndpoint('http://localhost:4566', 'e', { allowLoopback: true }).hostname).toBe('localhost');
    expect(() => checkEndpoint('http://10.0.0.1', 'e', { allowLoopback: true })).toThrow(/only https/);
    expect(() => checkEndpoint('https://192.168.0.1', 'e', { allowLoopback: true })).toThrow(/192\.168/);
  });

  it('tells loopback hosts apart', () => {
    expect(isLoopbackHost('127.8.9.10')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('[::ffff:0:7f00:1]')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
  });
});

describe('endpoint names resolved (SSRF by name)', () => {
  /** A resolver from a table; names it does not know do not resolve. Nothing leaves the process. */
  const table: Record<string, string[]> = {
    'exports.acme-storage.com': ['203.0.114.10', '2a05:d018::10'],
    'loopback.acme-storage.com': ['127.0.0.1'],
    'mapped.acme-storage.com': ['::ffff:127.0.0.1'],
    'mixed.acme-storage.com': ['203.0.114.11', '10.0.0.7'],
    'metadata.acme-storage.com': ['169.254.169.254'],
    'v6private.acme-storage.com': ['fd00:ec2::254'],
  };
  const resolve = async (name: string) => {
    const found = table[name];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return found;
  };

  it('accepts a name whose every address is public', async () => {
    const url = await checkResolvedEndpoint('https://exports.acme-storage.com', 'endpoint', {}, resolve);
    expect(url.hostname).toBe('exports.acme-storage.com');
  });

  it.each([
    ['loopback', /resolves to a loopback address/],
    ['mapped', /resolves to a loopback address/],
    ['mixed', /private, link-local or reserved/],
    ['metadata', /private, link-local or reserved/],
    ['v6private', /private, link-local or reserved/],
    ['unknown', /does not resolve/],
  ])('refuses %s.acme-storage.com, naming no address', async (name, message) => {
    const error = await checkResolvedEndpoint(`https://${name}.acme-storage.com`, 'endpoint', {}, resolve).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const text = JSON.stringify(error.issues);
    expect(text).toMatch(message);
    expect(text).not.toMatch(/127\.0\.0\.1|10\.0\.0\.7|169\.254|fd00|ENOTFOUND/);
  });

  it('allows a name resolving to loopback only with allowLoopback, and never to a private address', async () => {
    const allow = { allowLoopback: true };
    expect((await checkResolvedEndpoint('https://loopback.acme-storage.com:9000', 'e', allow, resolve)).port).toBe('9000');
    await expect(checkResolvedEndpoint('https://mixed.acme-storage.com', 'e', allow, resolve)).rejects.toThrow(/private/);
  });

  it('a vetted resolver answers only for allowed names; a guarded fetch never calls fetch for the others', async () => {
    const vetted = vettedResolver({}, resolve);
    expect(await vetted('exports.acme-storage.com')).toEqual(table['exports.acme-storage.com']);
    const refused = await vetted('mixed.acme-storage.com').catch((e) => e);
    expect(refused).toMatchObject({ code: 'ENDPOINT_REFUSED' });
    expect(endpointRefusal(new TypeError('fetch failed', { cause: refused }))).toBe(refused);
    const called: string[] = [];
    const fetcher = guardedFetch(async (input) => {
      called.push(String(input));
      return new Response('ok');
    }, {}, resolve);
    expect((await fetcher('https://exports.acme-storage.com/x')).status).toBe(200);
    for (const url of ['https://loopback.acme-storage.com/', 'https://127.1/', 'http://exports.acme-storage.com/', 'https://metadata.google.internal/']) {
      const error = await fetcher(url).catch((e) => e);
      expect(error, url).toMatchObject({ code: 'ENDPOINT_REFUSED' });
      expect(networkFailure(error)).toBe('refused by the endpoint policy');
    }
    expect(called).toEqual(['https://exports.acme-storage.com/x']);
  });
});

describe('networkFailure', () => {
  it.each([
    ['Node refused', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.5:8080' }, 'connection refused'],
    ['Node DNS', { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND internal' }, 'DNS lookup failed'],
    ['plain HTTP behind https', { code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' }, 'TLS handshake failed'],
    ['self-signed', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, 'TLS handshake failed'],
    ['reset', { code: 'ECONNRESET', message: 'socket hang up' }, 'connection reset'],
    ['timeout', new DOMException('The operation timed out.', 'TimeoutError'), 'timed out'],
    ['Deno refused', new Error('error sending request for url (https://10.0.0.5:8080/): tcp connect error: Connection refused (os error 111)'), 'connection refused'],
    ['Deno TLS', new Error('invalid peer certificate: UnknownIssuer'), 'TLS handshake failed'],
    ['anything else', new Error('something else at 10.0.0.5'), 'network failure'],
  ])('classes %s', (_name, cause, kind) => {
    expect(networkFailure(new TypeError('fetch failed', { cause }))).toBe(kind);
  });
});
