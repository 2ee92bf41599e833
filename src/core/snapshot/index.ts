/** Snapshot sources: the model, the stores, planning, projection and reading (see types.ts). */
export * from './types.ts';
export * from './schema.ts';
export { sourceChanged } from './errors.ts';
export { type MemoryObjectStore, memoryObjectStore } from './memory-store.ts';
export { type S3StoreDeps, s3ObjectStore, s3Store } from './s3-store.ts';
export { openSnapshotStore, type SnapshotStoreDeps } from './store.ts';
export { CSV_HEAD_BYTES, hivePartition, parquetFooter, planSnapshot } from './plan.ts';
export { type ProjectionNeeds, projection, wanted } from './projection.ts';
export { countingStore, readUnit, snapshotProfiles } from './read.ts';
