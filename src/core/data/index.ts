/** The data side of edge-export: profiles, datasets, audiences, mapping and export plans. */
export * from './audience.ts';
export * from './dataset-export.ts';
export * from './export-plan.ts';
export * from './fingerprint.ts';
export * from './mapping.ts';
export * from '../../../test/support/memory-store.ts';
export * from './model.ts';
export * from './store.ts';
export * from './upload.ts';
export * from './profile-rows.ts';
