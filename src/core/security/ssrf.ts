/**
 * Guards user-supplied URLs the platform will call (custom S3 endpoints, alert webhooks) against SSRF:
 * https only, and no literal address in a private, loopback, link-local, CGNAT, unique-local or other
 * non-public range, nor `localhost`. Local development may allow loopback (then plain http too).
 *
 * Host names are not resolved (Workers have no DNS API); a public name pointing at a private address
 * is stopped by the platform's own egress, not here.
 */
import { ConfigError } from '../errors.ts';

export interface EndpointPolicy {
  /** Allow 127.0.0.0/8, ::1 and localhost (over http or https); for local development only. */
  readonly allowLoopback?: boolean;
}

/** IPv4 ranges that are never a customer's public endpoint: [first octets as a number, prefix length]. */
const BLOCKED_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

/**
 * Returns the parsed URL when the platform may call it, or throws a ConfigError naming `field`.
 *
 * @example checkEndpoint('https://s3.eu-central-003.backblazeb2.com', 'endpoint')
 */
export function checkEndpoint(value: string, field = 'endpoint', policy: EndpointPolicy = {}): URL {
  const refuse = (message: string): never => {
    throw new ConfigError(
      [
        {
          path: field,
          message: `${field}: ${message}`,
          expected: 'a public https URL',
          received: JSON.stringify(value),
        },
      ],
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
  const reason = blockedReason(url.hostname);
  if (reason) refuse(reason);
  return url;
}

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost names. */
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

/** Why a (non-loopback) host literal is refused, or undefined for a public address or a DNS name. */
function blockedReason(hostname: string): string | undefined {
  const v4 = ipv4Of(hostname);
  if (v4 !== undefined) return blockedV4(v4);
  const v6 = ipv6Of(hostname);
  if (!v6) return undefined;
  const mapped = embeddedV4(v6);
  if (mapped !== undefined) return blockedV4(mapped);
  const first = v6[0]!;
  if (v6.every((w) => w === 0)) return 'the unspecified address is refused';
  if ((first & 0xfe00) === 0xfc00) return 'IPv6 unique-local addresses (fc00::/7) are refused';
  if ((first & 0xffc0) === 0xfe80) return 'IPv6 link-local addresses (fe80::/10) are refused';
  if ((first & 0xff00) === 0xff00) return 'IPv6 multicast addresses are refused';
  if (first === 0x2001 && v6[1] === 0x0db8) return 'IPv6 documentation addresses are refused';
  return undefined;
}

function blockedV4(address: number): string | undefined {
  const hit = BLOCKED_V4.find(([base, bits]) => inRange(address, base, bits));
  return hit
    ? `private, loopback, link-local or reserved address (${hit[0]}/${hit[1]}) is refused`
    : undefined;
}

function inRange(address: number, base: string, bits: number): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (address & mask) >>> 0 === (ipv4Of(base)! & mask) >>> 0;
}

/** A dotted-quad IPv4 (the URL parser has already normalised hex/octal/short forms) as a uint32. */
function ipv4Of(host: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** An IPv6 literal (`[…]` as URL.hostname gives it) as eight 16-bit words. */
function ipv6Of(host: string): number[] | undefined {
  if (!host.startsWith('[') || !host.endsWith(']')) return undefined;
  let text = host.slice(1, -1).toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = ipv4Of(tail[1]!);
    if (v4 === undefined) return undefined;
    text = text.slice(0, -tail[1]!.length) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const fill = rest === undefined ? 0 : 8 - left.length - right.length;
  const words = [...left, ...new Array<string>(Math.max(0, fill)).fill('0'), ...right].map((w) =>
    Number.parseInt(w, 16),
  );
  return words.length === 8 && words.every((w) => w >= 0 && w <= 0xffff) ? words : undefined;
}

/** The IPv4 inside IPv4-mapped (::ffff:0:0/96), IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16). */
function embeddedV4(w: number[]): number | undefined {
  const low = ((w[6]! << 16) | w[7]!) >>> 0;
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (w[5] === 0xffff || (w[5] === 0 && low > 1))) return low;
  if (w[0] === 0x64 && w[1] === 0xff9b && zeros(2, 6)) return low;
  if (w[0] === 0x2002) return ((w[1]! << 16) | w[2]!) >>> 0;
  return undefined;
}
