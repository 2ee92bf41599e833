/**
 * Property-based fuzzing of the CLI config (`exportConfig` then `Registry.build`, as src/cli/load.ts
 * does): whatever the input, the only failure is an ExportError, every ConfigError issue names its
 * field, and secret values in the config never come back in an error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exportConfig } from '../../src/cli/config.ts';
import { ConfigError, ExportError } from '../../src/core/errors.ts';
import { parse } from '../../src/core/validate.ts';
import { nodePlatform } from '../../src/hosts/node/platform.ts';
import { hostRegistry } from '../../src/service/export-service.ts';
import { webPlatform } from '../../src/core/platform.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY1';
const TOKEN = 'FwoGZXIvYXdzSESSIONTOKENSECRET0123456789';
const registry = hostRegistry(nodePlatform());
const names = registry.list().map((p) => p.name);

const valid = () => ({
  plugins: {
    plugins: [
      { use: 'format/csv', options: { delimiter: ';', header: true } },
      { use: 'compression/gzip' },
      { use: 'naming/date' },
      {
        use: 'sink/s3',
        options: { bucket: 'acme-exports', region: 'eu-west-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET, sessionToken: TOKEN },
      },
    ],
  },
  destination: { id: 'dest-1', name: 'Acme' },
  output: { folderPath: 'exports/%SEGMENT_NAME%', fileName: { dateTime: 'datetime' }, split: { maxRows: 1000 } },
  source: { path: 'profiles.csv' },
  audience: { id: 'aud-1', name: 'VIP buyers' },
  mode: 'full',
});

/** Paths worth hitting: every field of the valid config, plus a few that do not exist. */
const PATHS = [
  'plugins', 'plugins.plugins', 'plugins.modules', 'plugins.plugins.0', 'plugins.plugins.0.use', 'plugins.plugins.0.options',
  'plugins.plugins.0.options.delimiter', 'plugins.plugins.0.options.quote', 'plugins.plugins.1.use', 'plugins.plugins.1.options',
  'plugins.plugins.1.options.level', 'plugins.plugins.3.options.bucket', 'plugins.plugins.3.options.region',
  'plugins.plugins.3.options.endpoint', 'plugins.plugins.3.options.partSize', 'plugins.plugins.3.options.prefix',
  'plugins.plugins.3.options.accessKeyId', 'plugins.plugins.3.options.extra', 'plugins.plugins.4', 'destination',
  'destination.id', 'destination.name', 'output', 'output.folderPath', 'output.fileName', 'output.fileName.customText',
  'output.split.maxRows', 'output.split.maxBytes', 'source', 'source.path', 'source.use', 'audience', 'audience.name',
  'audience.rule', 'mode', 'schema', 'runId', 'scheduledTime', 'mapping', 'unknownField',
];

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string(),
  fc.constantFrom('', '..', '../../etc/passwd', '/abs', 'a\\b', '%SEGMENT_NAME%/x', '\u0000', 'format/csv', 'sink/s3', -1, 0, 1e308, NaN, null),
  fc.constantFrom(...names).map((use) => ({ use })),
  fc.record({ use: fc.constantFrom(...names), options: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 })) }),
);
const mutation = fc.record({ path: fc.constantFrom(...PATHS), value, remove: fc.boolean() });

function mutate(config: Record<string, unknown>, path: string, v: unknown, remove: boolean): Record<string, unknown> {
  const parts = path.split('.');
  let node: Record<string, unknown> = config;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (remove) delete node[last];
  else node[last] = v;
  return config;
}

/** What the CLI does with a config before exporting. */
function load(input: unknown): void {
  const config = parse(exportConfig, input, 'export config');
  if (typeof config.plugins === 'object') registry.build(config.plugins, webPlatform());
}

function check(input: unknown): void {
  try {
    load(input);
  } catch (error) {
    if (!(error instanceof ExportError)) throw new Error(`non-ExportError escaped: ${String(error)}`, { cause: error });
    const text = `${error.message}\n${JSON.stringify(error)}\n${JSON.stringify((error as ConfigError).issues ?? [])}`;
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
    if (error instanceof ConfigError) {
      expect(error.issues.length).toBeGreaterThan(0);
      const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
      for (const issue of error.issues) {
        // At the root of an object, only an unknown key spelt "" has no path; its issue says what it received.
        if (isObject && issue.path === '') expect(issue.received, issue.message).toBe('""');
        expect(issue.message.length).toBeGreaterThan(0);
      }
    }
  }
}

describe('CLI config fuzzing', () => {
  it('the valid config loads', () => {
    expect(() => load(valid())).not.toThrow();
  });

  it('mutated configs fail only with ExportErrors that name their field and hide secrets', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        runs++;
        const config = valid() as Record<string, unknown>;
        for (const m of mutations) mutate(config, m.path, m.value, m.remove);
        check(config);
      }),
      { numRuns: 3000, seed: 20261126 },
    );
    console.log(`RELIABILITY | config fuzz (mutations) | cases=${runs}`);
  });

  it('arbitrary JSON fails only with ExportErrors', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (input) => check(input)), { numRuns: 2000, seed: 7 });
    console.log('RELIABILITY | config fuzz (arbitrary JSON) | cases=2000');
  });

  it('an invalid secret is refused without echoing it', () => {
    for (const bad of [`${SECRET}\u0000`, ` ${TOKEN} `.repeat(200), '']) {
      const config = valid() as Record<string, unknown>;
      mutate(config, 'plugins.plugins.3.options.secretAccessKey', bad, false);
      mutate(config, 'plugins.plugins.3.options.sessionToken', bad, false);
      check(config);
    }
  });
});
