/**
 * The Worker's platform (workerd) and what every served host adds from its bindings. Only the
 * Worker's entry (index.ts) hands over the zstd wasm, which Workers import as a compiled module.
 */
import type { Platform } from '../core/platform.ts';
import { type EndpointPolicy, guardedFetch, vettedResolver } from '../core/security/ssrf.ts';
import type { RuntimeSha256 } from '../core/types.ts';
import { zstdAbilities } from '../plugins/zstd-wasm.ts';
import { endpointPolicy, type Env } from './env.ts';

/**
 * Worker-sized uploads: 5 MiB parts, 2 in flight kept V8 heap + part buffers at or under 67 MiB
 * from 100k to 10M rows in bench/workerd.ts (8 MiB × 4: up to 100 MiB), at no measurable CPU cost.
 */
export const WORKER_MULTIPART = { partSize: 5 * 1024 * 1024, concurrency: 2 } as const;

/**
 * The platform of a Worker in workerd: the runtime's fetch, DigestStream hashing, the zstd module
 * when the entry imported it, and multipart sized for a 128 MB isolate.
 *
 * @example workerdPlatform(zstdModule)
 */
export function workerdPlatform(zstd?: WebAssembly.Module): Platform {
  const sha256 = digestStreamSha256();
  return {
    name: 'workerd',
    env: {},
    now: () => new Date(),
    uuid: () => crypto.randomUUID(),
    fetch: (input, init) => fetch(input, init),
    ...(sha256 && { sha256 }),
    ...(zstd && zstdAbilities(async () => zstd)),
    multipart: WORKER_MULTIPART,
  };
}

/**
 * A host's platform with what its bindings add: the platform identity that assumes customer roles
 * (and its ARN, for trust policies), the endpoint policy (SSRF) of a multi-tenant host, and a fetch
 * that keeps every request the host makes (S3, STS, alerts) to endpoints that policy allows.
 */
export function servedPlatform(base: Platform, env: Env): Platform {
  const policy = endpointPolicy(env);
  return {
    ...base,
    fetch: egressFetch(base, policy),
    env: {
      ...base.env,
      EDGE_EXPORT_AWS_ACCESS_KEY_ID: env.EDGE_EXPORT_AWS_ACCESS_KEY_ID,
      EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: env.EDGE_EXPORT_AWS_SECRET_ACCESS_KEY,
      EDGE_EXPORT_AWS_SESSION_TOKEN: env.EDGE_EXPORT_AWS_SESSION_TOKEN,
      PLATFORM_PRINCIPAL_ARN: env.PLATFORM_PRINCIPAL_ARN,
    },
    endpoints: policy,
  };
}

/**
 * The served host's fetch: each URL checked by form (scheme, literal addresses, internal names), and
 * each host name's addresses checked where the host can resolve — at connect time when its fetch
 * connects through a resolver (Node, Deno: a name re-pointed after the configuration check is still
 * refused), else before the fetch. workerd resolves nothing: its egress stays off private networks.
 */
function egressFetch(base: Platform, policy: EndpointPolicy): typeof fetch {
  const resolveHost = base.resolveHost && ((name: string) => base.resolveHost!(name));
  if (base.fetchThrough && resolveHost) return guardedFetch(base.fetchThrough(vettedResolver(policy, resolveHost)), policy);
  return guardedFetch(base.fetch, policy, resolveHost);
}

/** workerd's native incremental digest (a Cloudflare extension of Web Crypto). */
type DigestStreamClass = new (
  algorithm: string,
) => WritableStream<Uint8Array> & { digest: Promise<ArrayBuffer> };

/**
 * workerd's native incremental SHA-256 (`crypto.DigestStream`) as a `Runtime.sha256`; undefined
 * where there is none (the pipeline then uses the core's `createSha256`).
 */
export function digestStreamSha256(): (() => RuntimeSha256) | undefined {
  const DigestStream = (crypto as unknown as { DigestStream?: DigestStreamClass }).DigestStream;
  if (typeof DigestStream !== 'function') return undefined;
  return () => {
    const stream = new DigestStream('SHA-256');
    const writer = stream.getWriter();
    let failed: unknown;
    return {
      update: (bytes) => {
        writer.write(bytes).catch((error: unknown) => (failed ??= error));
      },
      digestHex: async () => {
        await writer.close();
        if (failed) throw failed;
        return hexOf(new Uint8Array(await stream.digest));
      },
    };
  };
}


function hexOf(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
