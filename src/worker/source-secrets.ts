/**
 * How a snapshot source is kept and opened. Its S3 location's `auth` is sealed exactly like a
 * destination's (destination-secrets.ts: the auth plugin's secret options sealed with AES-GCM, bound
 * to the source id and field, masks beside them, an external id assigned once for assumed roles), at
 * the path `location.auth`. Only a run and the connection test open the secrets, through
 * `openSourceStore`, which also builds the store the snapshot is read from: S3 (any auth plugin) or
 * the Worker's R2 binding the location names.
 */
import { ConfigError, type ConfigIssue } from '../core/errors.ts';
import type { Platform } from '../core/platform.ts';
import type { Registry } from '../core/registry.ts';
import { quote } from '../core/validate.ts';
import { type SnapshotSourceConfig, toSnapshotSource } from '../core/snapshot/schema.ts';
import { openSnapshotStore } from '../core/snapshot/store.ts';
import { hostRegistry } from '../service/export-service.ts';
import { isR2Bucket, r2ObjectStore } from './r2-store.ts';
import type { ObjectStore, SnapshotSource } from '../core/snapshot/types.ts';
import { type Masks, keepAuthSecrets, maskAuth, openAuth, sealAuth } from './destination-secrets.ts';
import type { Env } from './env.ts';
import { servedPlatform, workerdPlatform } from './platform.ts';
import { newId } from './store/db.ts';
import type { SourceRow } from './store/sources.ts';

/** Where a source's auth sits, and the prefix of its masks. */
const AUTH_AT = 'location.auth';

/** The stored form: the source with its secrets sealed, masks beside them. */
export type StoredSource = SnapshotSourceConfig & { masks: Masks; externalId?: string };

/**
 * Seals a validated source's secrets. An update that leaves a secret out or sends its mask back (same
 * auth method) keeps the stored one: it is carried over sealed, with its mask.
 */
export async function sealSource(
  env: Env,
  registry: Registry,
  id: string,
  input: SnapshotSourceConfig,
  previous?: StoredSource,
): Promise<StoredSource> {
  const { location } = input;
  if (location.type !== 's3') return { ...input, masks: {} };
  const kept = keepAuthSecrets(registry, location.auth, storedAuth(previous));
  const { auth, masks } = await sealAuth(env, registry, id, AUTH_AT, kept, previous?.masks);
  const externalId = auth.method === 'assumedRole' ? (previous?.externalId ?? newId('ext')) : undefined;
  return { ...input, location: { ...location, auth }, masks, ...(externalId && { externalId }) };
}

/**
 * The source a validation sees on update: secrets left out are taken from the stored source (still
 * sealed), so the auth plugin checks a complete auth object; the values are never echoed.
 */
export function withKeptSourceSecrets(registry: Registry, input: SnapshotSourceConfig, previous?: StoredSource): SnapshotSourceConfig {
  const { location } = input;
  if (location.type !== 's3') return input;
  return { ...input, location: { ...location, auth: keepAuthSecrets(registry, location.auth, storedAuth(previous)).auth } };
}

/** A stored S3 source's auth with its masks, as keepAuthSecrets compares an update with it. */
function storedAuth(previous: StoredSource | undefined) {
  return previous?.location.type === 's3' ? { auth: previous.location.auth, masks: previous.masks, at: AUTH_AT } : undefined;
}

/** The API view of a stored source: masks in place of sealed values. */
export function presentSource(row: SourceRow): Record<string, unknown> {
  const { masks, location, ...rest } = JSON.parse(row.config) as StoredSource;
  const shown = location.type === 's3' ? { ...location, auth: maskAuth(location.auth, masks, AUTH_AT) } : location;
  return { id: row.id, ...rest, location: shown, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** The source with its secrets in the clear (and its external id): for reading, nothing else. */
export async function openSource(env: Env, row: SourceRow): Promise<StoredSource> {
  const stored = JSON.parse(row.config) as StoredSource;
  const { location } = stored;
  if (location.type !== 's3') return stored;
  return { ...stored, location: { ...location, auth: await openAuth(env, row.id, location.auth, stored.masks, AUTH_AT) } };
}

/**
 * A stored source opened for reading: its reading half (`SnapshotSource`) and the store its files are
 * in — S3 through the auth plugin the location names (its secrets unsealed here), or `env[binding]`
 * for an R2 location, refused naming `location.binding` when the Worker has no such R2 binding.
 *
 * @example const { source, store } = await openSourceStore(env, row); await planSnapshot(store, source)
 */
export async function openSourceStore(
  env: Env,
  row: SourceRow,
  platform: Platform = servedPlatform(workerdPlatform(), env),
): Promise<{ source: SnapshotSource; store: ObjectStore }> {
  const stored = await openSource(env, row);
  const { location } = stored;
  if (location.type === 'r2') {
    const problem = r2BindingProblem(env, location.binding);
    if (problem) throw new ConfigError([problem], 'source');
  }
  const store = openSnapshotStore(location, {
    platform,
    registry: hostRegistry(platform),
    ...(stored.externalId !== undefined && { externalId: stored.externalId }),
    r2: (binding) => {
      const bucket = bindingOf(env, binding);
      return isR2Bucket(bucket) ? r2ObjectStore(bucket, binding) : undefined;
    },
  });
  return { source: toSnapshotSource(stored), store };
}

function bindingOf(env: Env, name: string): unknown {
  return (env as unknown as Record<string, unknown>)[name];
}

/** Why `env[binding]` cannot be read as an R2 bucket, at `location.binding`; undefined when it can. */
export function r2BindingProblem(env: Env, binding: string): ConfigIssue | undefined {
  const bucket = bindingOf(env, binding);
  return isR2Bucket(bucket) ? undefined : r2BindingIssue(binding, bucket);
}

function r2BindingIssue(binding: string, found: unknown): ConfigIssue {
  const what = found === undefined ? 'this host has no binding of that name' : 'that binding is not an R2 bucket';
  return {
    path: 'location.binding',
    message: `location.binding: ${quote(binding)}: ${what}; bind the bucket to the Worker ([[r2_buckets]] binding = "${binding}" in wrangler.toml), or read it through R2's S3 API (location.type "s3" with its endpoint)`,
    expected: 'the name of an R2 bucket binding of this Worker',
    received: quote(binding),
  };
}
