/**
 * What a failed request may tell the caller: the class of failure, never its text. A runtime's own
 * network error names the address and port it tried ("connect ECONNREFUSED 10.0.0.5:8080", "tcp
 * connect error … (os error 111)"), and a remote server's answer is its own text: shown to a user who
 * chose the URL, both would turn the test-connection button and the run history into a port scanner
 * that reads internal responses. Callers say what they tried (the S3 action, the alert) and add the
 * class from here, or an HTTP status.
 */
import { endpointRefusal } from './ssrf.ts';

export type FailureClass =
  | 'refused by the endpoint policy'
  | 'connection refused'
  | 'timed out'
  | 'TLS handshake failed'
  | 'DNS lookup failed'
  | 'connection reset'
  | 'aborted'
  | 'network failure';

/** Node and undici error codes, by class. */
const CODES: readonly [FailureClass, RegExp][] = [
  ['connection refused', /^(ECONNREFUSED)$/],
  ['timed out', /^(ETIMEDOUT|ESOCKETTIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|ERR_HTTP2_STREAM_TIMEOUT)$/],
  ['DNS lookup failed', /^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|EAI_NODATA|ENODATA|ESERVFAIL)$/],
  ['TLS handshake failed', /^(EPROTO|ERR_SSL_.*|ERR_TLS_.*|CERT_.*|.*_CERT.*|UNABLE_TO_.*|DEPTH_ZERO_SELF_SIGNED_CERT|HOSTNAME_MISMATCH)$/],
  ['connection reset', /^(ECONNRESET|EPIPE|ECONNABORTED|UND_ERR_SOCKET|UND_ERR_CLOSED|ERR_STREAM_PREMATURE_CLOSE)$/],
];

/** Messages of runtimes that give no code (Deno, workerd), by class. */
const MESSAGES: readonly [FailureClass, RegExp][] = [
  ['connection refused', /connection refused|ECONNREFUSED/i],
  ['timed out', /timed? ?out|timeout/i],
  ['DNS lookup failed', /dns|name or service not known|nodename nor servname|failed to lookup address|no such host|getaddrinfo/i],
  ['TLS handshake failed', /tls|ssl|certificate|handshake/i],
  ['connection reset', /connection reset|reset by peer|broken pipe|connection (?:closed|lost)|other side closed|network connection lost/i],
];

/**
 * The class of a failed request, from the error and its causes.
 *
 * @example networkFailure(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })) // 'connection refused'
 */
export function networkFailure(error: unknown): FailureClass {
  if (endpointRefusal(error)) return 'refused by the endpoint policy';
  const chain: unknown[] = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) chain.push(e);
  for (const e of chain) {
    const code = typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
    if (typeof code === 'string') for (const [kind, pattern] of CODES) if (pattern.test(code)) return kind;
    const name = typeof e === 'object' ? (e as { name?: unknown }).name : undefined;
    if (name === 'TimeoutError') return 'timed out';
    if (name === 'AbortError') return 'aborted';
  }
  for (const e of chain) {
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    for (const [kind, pattern] of MESSAGES) if (pattern.test(message)) return kind;
  }
  return 'network failure';
}
