/**
 * GET /v1/plugins and destination validation follow the host's registry: a Worker built without the
 * Avro package neither lists nor accepts `fileType: "avro"`; one with it installed (as
 * src/worker/index.ts installs edge-export.plugins.ts) lists it with its option schema and accepts it,
 * its `formatOptions` checked by the plugin's own schema.
 */
import { describe, expect, it } from 'vitest';
import avro from '../../packages/edge-export-avro/src/index.ts';
import { withPlugins } from '../../src/core/platform.ts';
import { createApp } from '../../src/worker/app.ts';
import type { Env } from '../../src/worker/env.ts';
import { servedPlatform, workerdPlatform } from '../../src/worker/platform.ts';
import { destinationBody, newOrg, testEnv } from './helpers.ts';

/** An API whose Worker has these plugins installed beside the built-ins. */
function api(installed: Parameters<typeof withPlugins>[1]) {
  const app = createApp({ platform: (e: Env) => servedPlatform(withPlugins(workerdPlatform(), installed), e) });
  return async (e: Env, token: string, method: string, path: string, body?: unknown) => {
    const res = await app.request(
      `/v1${path}`,
      { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) },
      e,
    );
    // biome-ignore lint/suspicious/noExplicitAny: asserted structurally
    return { status: res.status, body: (await res.json()) as any };
  };
}

describe('the plugins a Worker offers', () => {
  it('without the Avro package: formats are the built-ins, and fileType "avro" is refused with them', async () => {
    const e = testEnv();
    const { token } = await newOrg(e);
    const call = api([]);
    const formats = await call(e, token, 'GET', '/plugins?kind=format');
    expect(formats.status).toBe(200);
    expect(formats.body.items.map((p: { destination: { value: string } }) => p.destination.value)).toEqual(['csv', 'json', 'parquet']);
    const refused = await call(e, token, 'POST', '/destinations', destinationBody({ fileType: 'avro' }));
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues).toEqual([
      { path: 'fileType', message: '"avro" is not available on this host; expected csv, json or parquet', expected: 'csv | json | parquet', received: '"avro"' },
    ]);
  });

  it('with it installed: listed with its option schema, accepted, its options checked by its own schema', async () => {
    const e = testEnv();
    const { token } = await newOrg(e);
    const call = api([avro]);
    const all = (await call(e, token, 'GET', '/plugins')).body.items as { name: string; kind: string; destination?: unknown; secrets?: string[]; options: { properties?: Record<string, unknown> } }[];
    const byName = Object.fromEntries(all.map((p) => [p.name, p]));
    expect(byName['format/avro']).toMatchObject({
      kind: 'format',
      destination: { field: 'fileType', value: 'avro' },
      options: { properties: { codec: { enum: ['null', 'deflate', 'snappy', 'zstandard'], default: 'deflate' }, level: { minimum: 1, maximum: 19 } } },
    });
    expect(byName['auth/accessKey']).toMatchObject({ kind: 'auth', destination: { field: 'auth.method', value: 'accessKey' }, secrets: ['secretAccessKey', 'sessionToken'] });
    expect(byName['sink/s3']).toMatchObject({ kind: 'sink' });
    expect(byName['sink/s3']!.destination).toBeUndefined();

    const created = await call(e, token, 'POST', '/destinations', destinationBody({ fileType: 'avro', formatOptions: { codec: 'snappy' } }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ fileType: 'avro', formatOptions: { codec: 'snappy' } });
    const bad = await call(e, token, 'POST', '/destinations', destinationBody({ fileType: 'avro', formatOptions: { codec: 'snappy', level: 3, blockBytes: 10 } }));
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['formatOptions.blockBytes', 'formatOptions.level']);
    const level = await call(e, token, 'POST', '/destinations', destinationBody({ fileType: 'avro', formatOptions: { codec: 'snappy', level: 3 } }));
    expect(level.body.error.issues).toMatchObject([{ path: 'formatOptions.level', message: expect.stringContaining('only the deflate and zstandard codecs take a level') }]);
    // This Worker was built without the zstd wasm (workerdPlatform() with no module): the plugin's
    // check refuses zstandard at the user's field, before anything is stored.
    const zstd = await call(e, token, 'POST', '/destinations', destinationBody({ fileType: 'avro', formatOptions: { codec: 'zstandard' } }));
    expect(zstd.status).toBe(400);
    expect(zstd.body.error.issues).toMatchObject([
      {
        path: 'formatOptions.codec',
        message: expect.stringMatching(/^zstandard is not available on this host \(workerd\): it needs the host's zstd \(Platform\.zstd\)/),
        expected: '"null" | "deflate" | "snappy" on this host',
        received: '"zstandard"',
      },
    ]);
  });
});
