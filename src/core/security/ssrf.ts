/**
 * Guards the URLs a multi-tenant host calls on a user's say (custom S3 and STS endpoints, alert
 * webhooks) against SSRF. Three layers, each usable alone:
 *
 * - `checkEndpoint` (synchronous, every host): https only; no credentials in the URL; no literal
 *   address in a loopback, private, link-local, CGNAT, unique-local, multicast or otherwise reserved
 *   range, in any spelling the URL parser accepts (`127.1`, `0x7f.1`, `2130706433`,
 *   `[::ffff:127.0.0.1]`, `[::ffff:0:127.0.0.1]`, NAT64, 6to4, Teredo …); and no name that can only
 *   be internal (`localhost`, single labels such as `metadata`, `*.internal`, `*.local`, `*.svc`,
 *   `*.cluster.local`, `*.lan`, `*.home.arpa` …, see INTERNAL_SUFFIXES).
 * - `checkResolvedEndpoint` (hosts that can resolve names: Node, Deno): the same, then every address
 *   the name resolves to is checked the same way, at configuration time.
 * - `vettedResolver` (before connecting): a resolver that answers only when every address is
 *   allowed. A host whose fetch connects through it (Node) checks the very addresses it connects to,
 *   so a name re-pointed after the configuration check (DNS rebinding) is refused too; `guardedFetch`
 *   checks each request's host before handing it to a fetch that resolves on its own (Deno).
 *
 * Workers have no DNS API and need none: a Worker's fetch leaves through Cloudflare's network, which
 * does not route to private or loopback addresses; the literal and name checks still apply there.
 * Local development may allow loopback (then plain http to it too).
 */
import { type ConfigIssue, ConfigError, ExportError } from '../errors.ts';
import { quote } from '../validate.ts';

export interface EndpointPolicy {
  /** Allow 127.0.0.0/8, ::1 and localhost (over http or https); for local development only. */
  readonly allowLoopback?: boolean;
}

/** Every address (IPv4 dotted or IPv6 text) a host name resolves to, as the host would connect. */
export type ResolveHost = (name: string) => Promise<readonly string[]>;

/** IPv4 ranges that are never a customer's public endpoint: [base, prefix length]. */
const BLOCKED_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT (Alibaba's metadata at 100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

/**
 * Name suffixes that only ever name internal hosts: special-use and reserved top-level names
 * (RFC 6761, 6762, 8375, 2606), the cloud metadata zone (`metadata.google.internal`), Kubernetes
 * service names (`*.svc`, `*.cluster.local`) and common private zones. Single-label names (no dot,
 * completed by a resolver's search list) are refused besides.
 */
export const INTERNAL_SUFFIXES: readonly string[] = [
  'localhost',
  'local',
  'internal',
  'intranet',
  'private',
  'corp',
  'home',
  'lan',
  'localdomain',
  'svc',
  'cluster.local',
  'home.arpa',
  'arpa',
  'test',
  'example',
  'invalid',
  'onion',
];

/** Where a refused endpoint was found wanting, in words that name no address. */
const REFUSED = 'the host is not a public address';

/**
 * Returns the parsed URL when the platform may call it, or throws a ConfigError naming `field`.
 * Names are not resolved here (see checkResolvedEndpoint).
 *
 * @example checkEndpoint('https://s3.eu-central-003.backblazeb2.com', 'endpoint')
 */
export function checkEndpoint(value: string, field = 'endpoint', policy: EndpointPolicy = {}): URL {
  const refuse = (message: string): never => {
    throw new ConfigError(
      [{ path: field, message: `${field}: ${message}`, expected: 'a public https URL', received: quote(value) }],
      field,
    );
  };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse('not a valid URL');
  }
  if (url.username || url.password) refuse('credentials in the URL are not allowed');
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && policy.allowLoopback)) {
    refuse(
      loopback
        ? 'http is allowed only for loopback in local development (allowLoopback)'
        : 'only https is allowed',
    );
  }
  if (loopback) {
    if (!policy.allowLoopback) refuse('loopback addresses and localhost are refused');
    return url;
  }
  const reason = blockedReason(url.hostname) ?? internalName(url.hostname);
  if (reason) refuse(reason);
  return url;
}

/**
 * `checkEndpoint`, then, when `resolve` is given and the host is a name, every address it resolves to
 * checked the same way: a name that resolves to loopback (an /etc/hosts entry) or to a private or
 * metadata address is refused, as is a name that does not resolve. Messages name no address.
 *
 * @example await checkResolvedEndpoint(url, 'alertWebhook', policy, platform.resolveHost)
 */
export async function checkResolvedEndpoint(
  value: string,
  field: string,
  policy: EndpointPolicy,
  resolve: ResolveHost | undefined,
): Promise<URL> {
  const url = checkEndpoint(value, field, policy);
  if (!resolve || !isName(url.hostname)) return url;
  const problem = await resolvedProblem(url.hostname, policy, resolve);
  if (problem) {
    throw new ConfigError(
      [{ path: field, message: `${field}: ${problem}`, expected: 'a public https URL', received: quote(value) }],
      field,
    );
  }
  return url;
}

/**
 * `checkResolvedEndpoint` as a stage check: the problems of an endpoint, [] when it may be called.
 *
 * @example check: () => endpointIssues(options.endpoint, 'endpoint', platform.endpoints, platform.resolveHost)
 */
export async function endpointIssues(
  value: string,
  field: string,
  policy: EndpointPolicy,
  resolve: ResolveHost | undefined,
): Promise<ConfigIssue[]> {
  try {
    await checkResolvedEndpoint(value, field, policy, resolve);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
}

/**
 * Why a host name may not be connected to under `policy`, or undefined: it does not resolve, or one
 * of its addresses is loopback (unless allowed), private, link-local, reserved or otherwise internal.
 */
async function resolvedProblem(name: string, policy: EndpointPolicy, resolve: ResolveHost): Promise<string | undefined> {
  let addresses: readonly string[];
  try {
    addresses = await resolve(name);
  } catch {
    return 'the host name does not resolve (DNS)';
  }
  return addressesProblem(addresses, policy);
}

/** Why these addresses (of one name) may not be connected to under `policy`, or undefined. */
function addressesProblem(addresses: readonly string[], policy: EndpointPolicy): string | undefined {
  if (addresses.length === 0) return 'the host name does not resolve (DNS)';
  for (const address of addresses) {
    const host = address.includes(':') ? `[${address}]` : address;
    if (isLoopbackHost(host)) {
      if (!policy.allowLoopback) return 'the host name resolves to a loopback address';
    } else if (blockedReason(host) || !isLiteral(host)) return 'the host name resolves to a private, link-local or reserved address';
  }
  return undefined;
}

/**
 * A resolver that answers only for names whose every address `policy` allows, and throws an
 * ENDPOINT_REFUSED ExportError otherwise (a name that does not resolve fails with the resolver's own
 * error). It resolves once and returns the addresses it checked: given to a fetch that connects
 * through it, the check applies to the very addresses connected to, whatever the name resolved to
 * before (DNS rebinding).
 *
 * @example nodeFetchThrough(vettedResolver(policy, dnsResolve))
 */
export function vettedResolver(policy: EndpointPolicy, resolve: ResolveHost): ResolveHost {
  return async (name) => {
    const addresses = await resolve(name);
    const problem = addressesProblem(addresses, policy);
    if (problem) throw endpointRefused(problem);
    return addresses;
  };
}

/**
 * A fetch that calls `fetcher` only for URLs `policy` allows: each request's URL is checked
 * (`checkEndpoint`) and, with `resolve`, its host name's addresses too, before `fetcher` connects.
 * What is refused throws an ENDPOINT_REFUSED ExportError, not a ConfigError: by then the endpoint was
 * accepted once, so the refusal is the run's (or the alert's) failure, reported without the address.
 */
export function guardedFetch(fetcher: typeof fetch, policy: EndpointPolicy, resolve?: ResolveHost): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    let parsed: URL;
    try {
      parsed = checkEndpoint(url, 'url', policy);
    } catch (error) {
      const issue = error instanceof ConfigError ? error.issues[0]?.message.replace(/^url: /, '') : undefined;
      throw endpointRefused(issue ?? REFUSED);
    }
    if (resolve && isName(parsed.hostname)) {
      const problem = await resolvedProblem(parsed.hostname, policy, resolve);
      if (problem) throw endpointRefused(problem);
    }
    return fetcher(input, init);
  };
}

/** The error of a request refused by the endpoint policy before it connected. */
export function endpointRefused(reason: string): ExportError {
  return new ExportError('ENDPOINT_REFUSED', `refused by the endpoint policy: ${reason}`, {
    details: { retryable: false },
  });
}

/** The ENDPOINT_REFUSED error inside a failed fetch (it may be the cause of a "fetch failed"). */
export function endpointRefusal(error: unknown): ExportError | undefined {
  for (let e = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++)
    if (e instanceof ExportError && e.code === 'ENDPOINT_REFUSED') return e;
  return undefined;
}

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped and -translated) and localhost names. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const v4 = ipv4Of(host);
  if (v4 !== undefined) return inRange(v4, '127.0.0.0', 8);
  const v6 = ipv6Of(host);
  if (!v6) return false;
  if (v6.every((w, i) => w === (i === 7 ? 1 : 0))) return true;
  const mapped = embeddedV4(v6);
  return mapped !== undefined && inRange(mapped, '127.0.0.0', 8);
}

/** A host name rather than an address literal. */
function isName(hostname: string): boolean {
  return !isLiteral(hostname);
}

function isLiteral(hostname: string): boolean {
  return ipv4Of(hostname) !== undefined || ipv6Of(hostname) !== undefined;
}

/** Why a name can only be internal, or undefined. */
function internalName(hostname: string): string | undefined {
  if (isLiteral(hostname)) return undefined;
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (!host.includes('.')) return 'single-label host names are internal names';
  const suffix = INTERNAL_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
  return suffix ? `names under .${suffix} are internal names` : undefined;
}

/**
 * Why a (non-loopback) address literal is refused, or undefined for a public address or a name.
 * IPv6 is allowed only in global unicast (2000::/3), outside the ranges below and with no embedded
 * private IPv4 — every IPv4-mapped, -compatible or -translated spelling falls outside 2000::/3.
 */
function blockedReason(hostname: string): string | undefined {
  const v4 = ipv4Of(hostname);
  if (v4 !== undefined) return blockedV4(v4);
  const v6 = ipv6Of(hostname);
  if (!v6) return undefined;
  const mapped = embeddedV4(v6);
  if (mapped !== undefined && blockedV4(mapped)) return blockedV4(mapped);
  const first = v6[0]!;
  if (v6.every((w) => w === 0)) return 'the unspecified address is refused';
  if ((first & 0xfe00) === 0xfc00) return 'IPv6 unique-local addresses (fc00::/7) are refused';
  if ((first & 0xffc0) === 0xfe80) return 'IPv6 link-local addresses (fe80::/10) are refused';
  if ((first & 0xff00) === 0xff00) return 'IPv6 multicast addresses are refused';
  if (first === 0x2001 && v6[1] === 0x0db8) return 'IPv6 documentation addresses are refused';
  if ((first & 0xe000) !== 0x2000) return 'IPv6 addresses outside global unicast (2000::/3) are refused';
  return undefined;
}

function blockedV4(address: number): string | undefined {
  const hit = BLOCKED_V4.find(([base, bits]) => inRange(address, base, bits));
  return hit ? `private, loopback, link-local or reserved address (${hit[0]}/${hit[1]}) is refused` : undefined;
}

function inRange(address: number, base: string, bits: number): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (address & mask) >>> 0 === (ipv4Of(base)! & mask) >>> 0;
}

/** A dotted-quad IPv4 (the URL parser has already normalised hex/octal/short forms) as a uint32. */
function ipv4Of(host: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.?$/.exec(host);
  if (!m) return undefined;
  const parts = m.slice(1, 5).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** An IPv6 literal (`[…]` as URL.hostname gives it) as eight 16-bit words. */
function ipv6Of(host: string): number[] | undefined {
  if (!host.startsWith('[') || !host.endsWith(']')) return undefined;
  let text = host.slice(1, -1).toLowerCase().replace(/%.*$/, '');
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = ipv4Of(tail[1]!);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, -tail[1]!.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const fill = rest === undefined ? 0 : 8 - left.length - right.length;
  if (fill < 0 || [...left, ...right].some((w) => !/^[0-9a-f]{1,4}$/.test(w))) return undefined;
  const words = [...left, ...new Array<string>(fill).fill('0'), ...right].map((w) => Number.parseInt(w, 16));
  return words.length === 8 ? words : undefined;
}

/**
 * The IPv4 inside an IPv6 address: IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96),
 * IPv4-compatible (::/96), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16) and Teredo
 * (2001::/32, the client address inverted).
 */
function embeddedV4(w: number[]): number | undefined {
  const low = ((w[6]! << 16) | w[7]!) >>> 0;
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (w[5] === 0xffff || (w[5] === 0 && low > 1))) return low;
  if (zeros(0, 4) && w[4] === 0xffff && w[5] === 0) return low;
  if (w[0] === 0x64 && w[1] === 0xff9b && (zeros(2, 6) || w[2] === 1)) return low;
  if (w[0] === 0x2002) return ((w[1]! << 16) | w[2]!) >>> 0;
  if (w[0] === 0x2001 && w[1] === 0) return ~low >>> 0;
  return undefined;
}
