/**
 * The system resolver as a platform's `resolveHost`, for Node and Deno (both have node:dns): every
 * A and AAAA address, as getaddrinfo answers (/etc/hosts included), which is what their connections use.
 */
import { lookup } from 'node:dns/promises';

/** @example await systemResolveHost('localhost') // ['127.0.0.1'] */
export async function systemResolveHost(name: string): Promise<readonly string[]> {
  const found = await lookup(name, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
}
