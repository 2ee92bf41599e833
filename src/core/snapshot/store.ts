/**
 * The ObjectStore of a snapshot location: an S3 bucket through its auth plugin, or an R2 bucket
 * through the Worker's binding (a host without that binding says how to reach R2 instead).
 */
import { ExportError } from '../errors.ts';
import { type S3StoreDeps, s3ObjectStore } from './s3-store.ts';
import type { SnapshotLocation } from './schema.ts';
import type { ObjectStore } from './types.ts';

export interface SnapshotStoreDeps extends S3StoreDeps {
  /** The Worker's R2 bindings by name (src/worker/r2-store.ts); absent elsewhere. */
  readonly r2?: (binding: string) => ObjectStore | undefined;
}

/**
 * Opens the store a location names.
 *
 * @example const store = openSnapshotStore(source.location, { platform, registry: hostRegistry(platform) })
 */
export function openSnapshotStore(location: SnapshotLocation, deps: SnapshotStoreDeps): ObjectStore {
  if (location.type === 's3') return s3ObjectStore(location, deps);
  const store = deps.r2?.(location.binding);
  if (store) return store;
  throw new ExportError(
    'CONFIG_INVALID',
    `location.binding: this host has no R2 binding "${location.binding}". R2 bindings are read on the Worker (wrangler.toml [[r2_buckets]]); elsewhere use R2's S3 API: location {type: "s3", endpoint: "https://<account id>.r2.cloudflarestorage.com", region: "auto"…}.`,
    { stage: 'source', details: { binding: location.binding } },
  );
}
