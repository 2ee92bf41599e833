/** Dataflow schedules: the model users configure and the pure "which slots are due" computation. */
export * from './due.ts';
export * from './model.ts';
export * from './audiences.ts';
